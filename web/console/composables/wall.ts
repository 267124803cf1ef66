// The console's date pickers hold Shanghai wall-clock times ("2026-03-02T19:00:00"), whatever the
// computer's own zone; they leave for the API with China's offset (+08:00, kept all year).
const PARTS = new Intl.DateTimeFormat("en-CA", {
  timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit",
  hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
});

export function wall(iso: string | null | undefined): string {
  if (!iso) return "";
  const p: Record<string, string> = {};
  for (const part of PARTS.formatToParts(new Date(iso))) p[part.type] = part.value;
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}`;
}

export function instant(wallTime: string | null | undefined): string | null {
  return wallTime ? `${wallTime}+08:00` : null;
}
