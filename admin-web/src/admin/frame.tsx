// The admin dashboard's frame: the header (its links, sign-out, the language) and the one rule
// every admin page shares — a page other than sign-in needs a signed-in admin.
import type { ComponentChildren } from "preact";
import { useEffect } from "preact/hooks";
import { useLocation } from "preact-iso";
import { tr } from "../lib/i18n";
import { Layout } from "../ui/Layout";
import { admin, loadAdmin, signOut } from "./session";

export const SIGN_IN_PATH = "/admin/signin";

/** The admin pages, in the header's order. */
const PAGES: { href: string; label: [string, string] }[] = [
  { href: "/admin/", label: ["플랫폼 현황", "Overview"] },
  { href: "/admin/sales", label: ["판매 현황", "Sales"] },
  { href: "/admin/operations", label: ["운영 지표", "Operations"] },
  { href: "/admin/sellers", label: ["판매자 승인", "Sellers"] },
  { href: "/admin/moderation", label: ["게시판 관리", "Moderation"] },
  { href: "/admin/staff", label: ["스태프 계정", "Staff accounts"] },
];

function Nav() {
  const { route } = useLocation();
  if (admin.value?.role !== "admin") return null;
  return (
    <>
      {PAGES.map((page) => (
        <a key={page.href} class="nav-link" href={page.href}>
          {tr(page.label[0], page.label[1])}
        </a>
      ))}
      <button
        type="button"
        class="secondary"
        style="min-height: 36px; padding: 0 10px"
        onClick={async () => {
          await signOut();
          route(SIGN_IN_PATH);
        }}
      >
        {tr("로그아웃", "Sign out")}
      </button>
    </>
  );
}

function Gate(props: { children: ComponentChildren }) {
  const { path, route } = useLocation();
  const who = admin.value;
  const open = path === SIGN_IN_PATH;
  useEffect(() => {
    if (who === null && !open) route(`${SIGN_IN_PATH}?next=${encodeURIComponent(path)}`, true);
  }, [who, open, path]);
  if (open) return <>{props.children}</>;
  if (who === undefined || who === null) return <p class="muted">{tr("불러오는 중…", "Loading…")}</p>;
  if (who.role !== "admin") {
    return (
      <section>
        <h1>{tr("관리자 계정이 아닙니다", "Not an admin account")}</h1>
        <p>{tr("관리자 계정으로 로그인해 주세요.", "Sign in with an admin account.")}</p>
        <button type="button" class="secondary" onClick={async () => { await signOut(); route(SIGN_IN_PATH); }}>
          {tr("다른 계정으로 로그인", "Sign in with another account")}
        </button>
      </section>
    );
  }
  return <>{props.children}</>;
}

export function AdminFrame(props: { children: ComponentChildren }) {
  useEffect(() => {
    void loadAdmin();
  }, []);
  return (
    <Layout home="/admin/" brand={tr("Picket 관리자", "Picket Admin")} nav={<Nav />}>
      <Gate>{props.children}</Gate>
    </Layout>
  );
}

export function NotFound() {
  return (
    <section>
      <h1>{tr("페이지를 찾을 수 없습니다", "Page not found")}</h1>
      <a href="/admin/">{tr("플랫폼 현황으로", "Go to the overview")}</a>
    </section>
  );
}
