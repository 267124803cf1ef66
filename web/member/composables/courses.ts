// Courses, sites and rooms as the screens need them, each asked for once per page view. (My classes and
// home ask for none: GET /v1/me/enrolments and GET /v1/me/timetable tell them what they show.)
import { api, type Schemas } from "@shared/api/client";
import { call } from "@shared/api/problems";

export type Course = Schemas["Course"];
export type Site = Schemas["Site"];
export type Room = Schemas["Room"];

const courses = new Map<string, Promise<Course>>();
let sites: Promise<Site[]> | null = null;
const rooms = new Map<string, Promise<Room>>();

export function course(id: string, fresh = false): Promise<Course> {
  if (fresh || !courses.has(id)) {
    const asked = call(api.GET("/v1/courses/{course_id}", { params: { path: { course_id: id } } }));
    asked.catch(() => courses.delete(id));
    courses.set(id, asked);
  }
  return courses.get(id)!;
}

export function allSites(): Promise<Site[]> {
  sites ??= call(api.GET("/v1/sites", { params: { query: { limit: 200 } } }));
  sites.catch(() => (sites = null));
  return sites;
}

export function room(id: string): Promise<Room> {
  if (!rooms.has(id)) {
    const asked = call(api.GET("/v1/rooms/{room_id}", { params: { path: { room_id: id } } }));
    asked.catch(() => rooms.delete(id));
    rooms.set(id, asked);
  }
  return rooms.get(id)!;
}

/** The sessions still to come (or under way), soonest first. */
/** Who teaches the course: the name the course gives, else the names of the teacher accounts it names. */
export function teacherOf(course: Course): string | undefined {
  if (course.teacher) return course.teacher;
  const names = (course.teachers ?? []).map((t) => t.name).filter(Boolean);
  return names.length ? names.join("、") : undefined;
}

export function upcoming(course: Course, now = Date.now()) {
  return (course.sessions ?? [])
    .filter((s) => s.state !== "cancelled" && new Date(s.ends_at ?? 0).getTime() > now)
    .sort((a, b) => (a.starts_at ?? "").localeCompare(b.starts_at ?? ""));
}
