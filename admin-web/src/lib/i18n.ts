// Korean first, English available. Every user-facing string is written in place as a pair,
// `tr("좌석 선택", "Choose seats")`, so no key can go missing in one language. The choice is kept
// on the device; the first visit follows the browser (Korean unless it prefers English).

import { signal } from "@preact/signals";

export type Lang = "ko" | "en";

const LANG_KEY = "picket.lang";

function initialLang(): Lang {
  try {
    const saved = localStorage.getItem(LANG_KEY);
    if (saved === "ko" || saved === "en") return saved;
  } catch {
    // Storage may be blocked; fall through to the browser's preference.
  }
  const preferred = typeof navigator !== "undefined" ? navigator.language : "ko";
  return preferred.toLowerCase().startsWith("en") ? "en" : "ko";
}

/** The page's language; components that read it re-render when it changes. */
export const lang = signal<Lang>(initialLang());

export function setLang(next: Lang): void {
  lang.value = next;
  try {
    localStorage.setItem(LANG_KEY, next);
  } catch {
    // Not kept across visits; the page still switches.
  }
  document.documentElement.lang = next;
}

/** The string in the page's language. */
export function tr(ko: string, en: string): string {
  return lang.value === "ko" ? ko : en;
}

if (typeof document !== "undefined") document.documentElement.lang = lang.value;
