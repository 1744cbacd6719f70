// The buyer app's frame: header links and the page shown for an unknown path.
import type { ComponentChildren } from "preact";
import { tr } from "../lib/i18n";
import { Layout } from "../ui/Layout";

export function BuyerFrame(props: { children: ComponentChildren }) {
  return (
    <Layout home="/" brand="Picket">
      {props.children}
    </Layout>
  );
}

export function NotFound() {
  return (
    <section>
      <h1>{tr("페이지를 찾을 수 없습니다", "Page not found")}</h1>
      <a href="/">{tr("공연 둘러보기", "Browse shows")}</a>
    </section>
  );
}
