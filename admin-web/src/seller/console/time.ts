// Times as a seller types them: `<input type="datetime-local">` values read as Korea Standard
// Time whatever the computer's zone (a performance happens in Korea), and back.

const KST_OFFSET_MS = 9 * 3_600_000;

/** "2026-12-24T19:30" (KST) → epoch ms; null when not a full date and time. */
export function kstInputToMs(value: string): number | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(value);
  if (!match) return null;
  const [, y, mo, d, h, mi] = match.map(Number);
  return Date.UTC(y, mo - 1, d, h, mi) - KST_OFFSET_MS;
}

/** Epoch ms → "2026-12-24T19:30" in KST, for a datetime-local input. */
export function msToKstInput(ms: number): string {
  const kst = new Date(ms + KST_OFFSET_MS);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${kst.getUTCFullYear()}-${pad(kst.getUTCMonth() + 1)}-${pad(kst.getUTCDate())}T${pad(kst.getUTCHours())}:${pad(kst.getUTCMinutes())}`;
}

/** Minutes after midnight → "17:00". */
export function minuteOfDayToInput(minutes: number): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`;
}

/** "17:00" → minutes after midnight; null when not a time. */
export function inputToMinuteOfDay(value: string): number | null {
  const match = /^(\d{2}):(\d{2})$/.exec(value);
  return match ? Number(match[1]) * 60 + Number(match[2]) : null;
}
