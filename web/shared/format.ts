// Dates and money as a member reads them: times in Asia/Shanghai whatever the phone's zone, with the
// weekday (3月2日 周二 19:00), and yuan from the API's decimal strings.
export const HOME_ZONE = "Asia/Shanghai";

type Locale = string;

// a formatter is costly to make (a phone's first page of classes made hundreds): one per locale and options
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(locale: Locale, options: Intl.DateTimeFormatOptions) {
  const key = `${locale}|${JSON.stringify(options)}`;
  let made = formatters.get(key);
  if (!made) {
    made = new Intl.DateTimeFormat(locale, { timeZone: HOME_ZONE, ...options });
    formatters.set(key, made);
  }
  return made;
}

function parts(iso: string | Date, locale: Locale, options: Intl.DateTimeFormatOptions) {
  const date = typeof iso === "string" ? new Date(iso) : iso;
  const found: Record<string, string> = {};
  for (const part of formatter(locale, options).formatToParts(date)) {
    found[part.type] = part.value;
  }
  return found;
}

export function clock(iso: string | Date, locale: Locale = "zh-CN"): string {
  const p = parts(iso, locale, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  return `${p.hour}:${p.minute}`;
}

/** 3月2日 周二 (zh-CN) or Tue 2 Mar (en). */
export function day(iso: string | Date, locale: Locale = "zh-CN"): string {
  const p = parts(iso, locale, { weekday: "short", month: locale.startsWith("zh") ? "numeric" : "short", day: "numeric" });
  return locale.startsWith("zh") ? `${p.month}月${p.day}日 ${p.weekday}` : `${p.weekday} ${p.day} ${p.month}`;
}

/** 2026年3月2日 (zh-CN) or 2 Mar 2026 (en): a day that may lie in another year, e.g. a certificate's. */
export function dated(iso: string | Date, locale: Locale = "zh-CN"): string {
  const p = parts(iso, locale, { year: "numeric", month: locale.startsWith("zh") ? "numeric" : "short", day: "numeric" });
  return locale.startsWith("zh") ? `${p.year}年${p.month}月${p.day}日` : `${p.day} ${p.month} ${p.year}`;
}

/** 周二 19:00 */
export function weekdayClock(iso: string | Date, locale: Locale = "zh-CN"): string {
  return `${parts(iso, locale, { weekday: "short" }).weekday} ${clock(iso, locale)}`;
}

/** 3月2日 周二 19:00 */
export function moment(iso: string | Date, locale: Locale = "zh-CN"): string {
  return `${day(iso, locale)} ${clock(iso, locale)}`;
}

/** 3月2日 周二 19:00–21:00 */
export function span(start: string, end: string, locale: Locale = "zh-CN"): string {
  return `${moment(start, locale)}–${clock(end, locale)}`;
}

/** The calendar date in Shanghai, as YYYY-MM-DD. */
export function isoDay(when: Date): string {
  const p = parts(when, "en-CA", { year: "numeric", month: "2-digit", day: "2-digit" });
  return `${p.year}-${p.month}-${p.day}`;
}

/** A Shanghai wall-clock time as an ISO moment with its offset (China keeps +08:00 all year). */
export function shanghai(dayIso: string, time: string): string {
  return `${dayIso}T${time}:00+08:00`;
}

/** Monday 00:00 in Shanghai of the week holding `when`, and the Monday after. */
export function weekOf(when: Date): { from: Date; to: Date } {
  const today = isoDay(when);
  const weekday = (new Date(`${today}T12:00:00+08:00`).getUTCDay() + 6) % 7; // 0 = Monday
  const from = new Date(new Date(`${today}T00:00:00+08:00`).getTime() - weekday * 86_400_000);
  return { from, to: new Date(from.getTime() + 7 * 86_400_000) };
}

export function money(yuan: string | null | undefined, locale: Locale = "zh-CN"): string {
  if (yuan === null || yuan === undefined || yuan === "") return "";
  const value = Number(yuan);
  return new Intl.NumberFormat(locale, { style: "currency", currency: "CNY" }).format(value);
}

/** 1:05:09 or 05:09 until `iso`, or null once it has passed. */
export function countdown(iso: string, now: number): string | null {
  const left = Math.floor((new Date(iso).getTime() - now) / 1000);
  if (left <= 0) return null;
  const h = Math.floor(left / 3600);
  const m = String(Math.floor((left % 3600) / 60)).padStart(2, "0");
  const s = String(left % 60).padStart(2, "0");
  return h ? `${h}:${m}:${s}` : `${m}:${s}`;
}
