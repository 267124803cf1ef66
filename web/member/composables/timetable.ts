// The member's week: class sessions, room bookings and counselling appointments in one list, soonest
// first, as GET /v1/me/timetable?from=&to= will answer it. Until that endpoint exists this is put together
// from what the API has today: the member's enrolments (each course asked for its sessions), their
// bookings, and the appointments of their counselling cases. When it exists, `loadTimetable` becomes that
// one call and nothing else in the app changes. (Today the sessions are the enrolment service's own; its
// timetable honours 调休 make-up days once the shared recurrence helper is in.)
import { api } from "@shared/api/client";
import { call } from "@shared/api/problems";
import { course } from "./courses";

export interface TimetableEntry {
  kind: "class" | "booking" | "counselling";
  id: string;
  title: string;
  starts_at: string;
  ends_at: string;
  place?: string;
  status?: string;
  link?: { name: string; params: Record<string, string> };
}

const within = (iso: string | undefined, from: Date, to: Date) => {
  const at = new Date(iso ?? 0).getTime();
  return at >= from.getTime() && at < to.getTime();
};

async function classSessions(from: Date, to: Date): Promise<TimetableEntry[]> {
  const entries = await call(api.GET("/v1/me/enrolments", { params: { query: { limit: 200 } } }));
  const held = entries.filter((e) => e.status === "confirmed");
  const courses = await Promise.all(held.map((e) => course(e.course_id!).catch(() => null)));
  return courses.flatMap((c) =>
    (c?.sessions ?? [])
      .filter((s) => s.state !== "cancelled" && within(s.starts_at, from, to))
      .map((s) => ({
        kind: "class" as const, id: s.id!, title: c!.title ?? "", starts_at: s.starts_at!, ends_at: s.ends_at!,
        status: s.state, link: { name: "course", params: { id: c!.id! } },
      })),
  );
}

async function bookings(from: Date, to: Date): Promise<TimetableEntry[]> {
  const found = await call(api.GET("/v1/bookings", {
    params: { query: { from: from.toISOString(), before: to.toISOString(), limit: 200 } },
  }));
  return found
    .filter((b) => ["pending", "confirmed", "checked_in"].includes(b.status ?? "") && b.holder_service !== "welfare")
    .map((b) => ({
      kind: "booking" as const, id: b.id!, title: b.title ?? "", starts_at: b.starts_at!, ends_at: b.ends_at!,
      place: b.room_name, status: b.status, link: { name: "bookings", params: {} },
    }));
}

async function counselling(from: Date, to: Date): Promise<TimetableEntry[]> {
  const cases = await call(api.GET("/v1/welfare/applications", { params: { query: { programme: "counselling", limit: 50 } } }));
  const details = await Promise.all(cases.map((c) =>
    call(api.GET("/v1/welfare/applications/{application_id}", { params: { path: { application_id: c.id! } } })).catch(() => null)));
  return details.flatMap((c) =>
    (c?.appointments ?? [])
      .filter((a) => !a.cancelled_at && within(a.starts_at, from, to))
      .map((a) => ({
        kind: "counselling" as const, id: a.id!, title: "", starts_at: a.starts_at!, ends_at: a.ends_at!,
        link: { name: "case", params: { id: c!.id! } },
      })),
  );
}

export async function loadTimetable(from: Date, to: Date): Promise<TimetableEntry[]> {
  const parts = await Promise.all([classSessions(from, to), bookings(from, to), counselling(from, to)]);
  return parts.flat().sort((a, b) => a.starts_at.localeCompare(b.starts_at));
}
