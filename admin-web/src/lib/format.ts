// Money, dates and counts as Korean buyers read them. Prices are whole won; times are shown in
// Korea Standard Time whatever the device's zone, since a performance happens in Korea.

import { lang } from "./i18n";

const KST = "Asia/Seoul";

/** 160000 → "160,000원" (ko) or "₩160,000" (en). */
export function won(amount: number | string): string {
  const value = typeof amount === "string" ? Number(amount) : amount;
  const digits = new Intl.NumberFormat("ko-KR").format(value);
  return lang.value === "ko" ? `${digits}원` : `₩${digits}`;
}

/** A moment (epoch ms) as a date and time in KST: "2026. 12. 24. (목) 오후 7:30". */
export function dateTime(ms: number | string): string {
  return new Intl.DateTimeFormat(locale(), {
    timeZone: KST,
    year: "numeric",
    month: "short",
    day: "numeric",
    weekday: "short",
    hour: "numeric",
    minute: "2-digit",
  }).format(new Date(Number(ms)));
}

/** A day (epoch ms) in KST without the time. */
export function date(ms: number | string): string {
  return new Intl.DateTimeFormat(locale(), { timeZone: KST, year: "numeric", month: "short", day: "numeric", weekday: "short" }).format(
    new Date(Number(ms)),
  );
}

/** A duration in ms as "3분 20초" / "3 min 20 s"; "곧" / "soon" under a second. */
export function duration(ms: number): string {
  const totalSec = Math.max(0, Math.round(ms / 1000));
  const min = Math.floor(totalSec / 60);
  const sec = totalSec % 60;
  if (lang.value === "ko") {
    if (totalSec === 0) return "곧";
    return min > 0 ? `${min}분 ${sec}초` : `${sec}초`;
  }
  if (totalSec === 0) return "soon";
  return min > 0 ? `${min} min ${sec} s` : `${sec} s`;
}

/** A count with digit grouping: 12345 → "12,345". */
export function count(n: number): string {
  return new Intl.NumberFormat(locale()).format(n);
}

function locale(): string {
  return lang.value === "ko" ? "ko-KR" : "en-GB";
}
