// The member's week: class sessions (调休 make-up days honoured by the services), room bookings and
// counselling appointments in one list, soonest first, from one call to GET /v1/me/timetable.
import { api } from "@shared/api/client";
import { call } from "@shared/api/problems";
import { isoDay } from "@shared/format";

export interface TimetableEntry {
  kind: "class" | "booking" | "counselling";
  id: string;
  title: string;
  starts_at: string;
  ends_at: string;
  place?: string;
  link?: { name: string; params: Record<string, string> };
}

type Item = Awaited<ReturnType<typeof fetchWeek>>[number];

function fetchWeek(from: Date, to: Date) {
  // `to` is the Monday after: the API's `to` is the last day itself
  const last = new Date(to.getTime() - 86_400_000);
  return call(api.GET("/v1/me/timetable", { params: { query: { from: isoDay(from), to: isoDay(last) } } }));
}

function link(item: Item): TimetableEntry["link"] {
  if (item.kind === "class" && item.course_id) return { name: "course", params: { id: item.course_id } };
  if (item.kind === "counselling" && item.application_id) return { name: "case", params: { id: item.application_id } };
  return { name: "bookings", params: {} };
}

export async function loadTimetable(from: Date, to: Date): Promise<TimetableEntry[]> {
  const items = await fetchWeek(from, to);
  return items.map((i) => ({
    kind: i.kind!, id: i.id!, title: i.title ?? "", starts_at: i.starts_at!, ends_at: i.ends_at!,
    // an appointment may be at a Workers' Home the member has never been to: its street address too
    place: [i.site_name, i.room_name, i.kind === "counselling" ? i.site_address : null].filter(Boolean).join(" ")
      || undefined,
    link: link(i),
  }));
}
