// The frame every page shares: a header with the brand, the page's own links and the language
// switch, and the page in `<main>`.

import type { ComponentChildren } from "preact";
import { lang, setLang, tr } from "../lib/i18n";

export function LangToggle() {
  const next = lang.value === "ko" ? "en" : "ko";
  return (
    <button type="button" class="lang-toggle" onClick={() => setLang(next)} aria-label={tr("Switch to English", "한국어로 보기")}>
      {next === "en" ? "EN" : "한국어"}
    </button>
  );
}

export function Layout(props: { home: string; brand: string; nav?: ComponentChildren; children: ComponentChildren }) {
  return (
    <>
      <header class="top">
        <a class="brand" href={props.home}>
          {props.brand}
        </a>
        <nav aria-label={tr("주 메뉴", "Main menu")}>{props.nav}</nav>
        <LangToggle />
      </header>
      <main id="main">{props.children}</main>
    </>
  );
}
