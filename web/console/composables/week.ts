// A site's (or one room's) week for the rooms' week grid: its bookings (class sessions among them),
// closures, holidays and make-up working days (调休), and each room's utilisation, read together.
import { api, type Schemas } from "@shared/api/client";
import { call } from "@shared/api/problems";
import { isoDay } from "@shared/format";
import { listed } from "@shared/load";

export type Booking = Schemas["Booking"];
export type Closure = Schemas["Closure"];
export type CalendarDay = Schemas["CalendarDay"];
export type Utilisation = Schemas["Utilisation"];

export interface Week {
  bookings: Booking[];
  closures: Closure[];
  calendar: Map<string, CalendarDay>;
  utilisation: Map<string, Utilisation>;
}

const PAGE = 200;
const MOST_PAGES = 10; // 2,000 bookings a week: more than a 40-room site holds
const LIVE = new Set(["pending", "confirmed", "checked_in"]);
const DAY_MS = 86_400_000;

/** The week's seven days (YYYY-MM-DD, Shanghai) from its Monday. */
export function daysOf(monday: string): string[] {
  const start = new Date(`${monday}T12:00:00+08:00`).getTime();
  return Array.from({ length: 7 }, (_, i) => isoDay(new Date(start + i * DAY_MS)));
}

export function shiftWeek(monday: string, weeks: number): string {
  return isoDay(new Date(new Date(`${monday}T12:00:00+08:00`).getTime() + weeks * 7 * DAY_MS));
}

/** The week's live bookings: the first page says how many there are (X-Total-Count), and the pages
 * after it are asked for together rather than one after another (three pages on a busy site). */
async function bookings(where: { site_id?: string; room_id?: string }, from: string, before: string): Promise<Booking[]> {
  const page = (n: number) => api.GET("/v1/bookings", { params: { query: { ...where, from, before, limit: PAGE, offset: n * PAGE } } });
  const first = await listed(page(0));
  // (without the count, which this list always sends, every page up to the most is asked for)
  const count = first.total ?? (first.items.length < PAGE ? first.items.length : MOST_PAGES * PAGE);
  const pages = Math.min(MOST_PAGES, Math.ceil(count / PAGE));
  const rest = await Promise.all(Array.from({ length: Math.max(0, pages - 1) }, (_, n) => call(page(n + 1))));
  return [first.items, ...rest].flat().filter((b) => LIVE.has(b.status ?? ""));
}

async function calendar(days: string[]): Promise<Map<string, CalendarDay>> {
  const years = [...new Set(days.map((d) => d.slice(0, 4)))];
  const lists = await Promise.all(years.map((year) => call(api.GET("/v1/calendar/{year}", { params: { path: { year } } }))));
  return new Map(lists.flat().map((d) => [d.day, d]));
}

/** The site's week, or one room's: `rooms` are the room and those it shares its floor with (a divisible
 * hall's whole and its parts), whose bookings take it too (the bookings list reads one room at a time). */
export async function loadWeek(site: string, rooms: string[], monday: string): Promise<Week> {
  const from = `${monday}T00:00:00+08:00`;
  const before = `${shiftWeek(monday, 1)}T00:00:00+08:00`;
  const where = rooms.length ? { room_id: rooms[0] } : { site_id: site };
  const [booked, closures, days, used] = await Promise.all([
    rooms.length ? Promise.all(rooms.map((room_id) => bookings({ room_id }, from, before))).then((lists) => lists.flat()) : bookings(where, from, before),
    call(api.GET("/v1/closures", { params: { query: { ...where, from, before, limit: PAGE } } })),
    calendar(daysOf(monday)),
    call(api.GET("/v1/rooms/utilisation", { params: { query: { site_id: site, days: 7, from: monday } } })),
  ]);
  return { bookings: booked, closures, calendar: days, utilisation: new Map(used.map((u) => [u.room_id ?? "", u])) };
}

/** The days (of `days`) a span reaches. */
export function daysReached(starts: string, ends: string, days: string[]): string[] {
  const first = isoDay(new Date(starts));
  const last = isoDay(new Date(new Date(ends).getTime() - 1));
  return days.filter((d) => d >= first && d <= last);
}
