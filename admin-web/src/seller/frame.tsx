// The seller console's frame: the header (the company, its links, sign-out, the language) and
// the one rule every seller page shares — a page other than sign-in and sign-up needs a signed-in
// seller, so the editor's and the dashboard's pages need no check of their own.
import type { ComponentChildren } from "preact";
import { useEffect } from "preact/hooks";
import { useLocation } from "preact-iso";
import { tr } from "../lib/i18n";
import { Layout } from "../ui/Layout";
import { approvalNote } from "./approval";
import { type Company, loadSeller, seller, signOut } from "./session";

/** Pages anyone may open. */
export const PUBLIC_PATHS = ["/seller/signin", "/seller/signup"];

function Nav() {
  const { route } = useLocation();
  const who = seller.value;
  if (!who?.company) return null;
  return (
    <>
      <span class="muted seller-company" data-testid="seller-company">
        {who.company.name}
      </span>
      <a class="nav-link" href="/seller/">
        {tr("내 공연", "My shows")}
      </a>
      <a class="nav-link" href="/seller/shows/new">
        {tr("공연 등록", "New show")}
      </a>
      <button
        type="button"
        class="secondary"
        style="min-height: 36px; padding: 0 10px"
        onClick={async () => {
          await signOut();
          route("/seller/signin");
        }}
      >
        {tr("로그아웃", "Sign out")}
      </button>
    </>
  );
}

/** Shows the page, or — for a seller page with nobody (or a non-seller) signed in — the way in. */
function Gate(props: { children: ComponentChildren }) {
  const { path, route } = useLocation();
  const who = seller.value;
  const open = PUBLIC_PATHS.includes(path);
  useEffect(() => {
    if (who === null && !open) route(`/seller/signin?next=${encodeURIComponent(path)}`, true);
  }, [who, open, path]);
  if (open) return <>{props.children}</>;
  if (who === undefined || who === null) return <p class="muted">{tr("불러오는 중…", "Loading…")}</p>;
  if (!who.company) {
    return (
      <section>
        <h1>{tr("판매자 계정이 아닙니다", "Not a seller account")}</h1>
        <p>{tr("이 계정은 판매자(기획사) 계정이 아닙니다. 판매자 계정으로 로그인하거나 새로 가입해 주세요.", "This account is not a seller's (a company's). Sign in with a seller account or sign up your company.")}</p>
        <p>
          <button type="button" class="secondary" onClick={async () => { await signOut(); route("/seller/signin"); }}>
            {tr("다른 계정으로 로그인", "Sign in with another account")}
          </button>{" "}
          <a class="button" href="/seller/signup">
            {tr("판매자 가입", "Sign up as a seller")}
          </a>
        </p>
      </section>
    );
  }
  return (
    <>
      <ApprovalBanner approval={who.company.approval} />
      {props.children}
    </>
  );
}

function ApprovalBanner(props: { approval: Company["approval"] }) {
  const note = approvalNote(props.approval);
  if (!note) return null;
  return (
    <p class="notice" role="status" data-testid="approval-banner">
      {note}
    </p>
  );
}

export function SellerFrame(props: { children: ComponentChildren }) {
  useEffect(() => {
    void loadSeller();
  }, []);
  return (
    <Layout home="/seller/" brand={tr("Picket 판매자 센터", "Picket Seller Center")} nav={<Nav />}>
      <Gate>{props.children}</Gate>
    </Layout>
  );
}

export function NotFound() {
  return (
    <section>
      <h1>{tr("페이지를 찾을 수 없습니다", "Page not found")}</h1>
      <a href="/seller/">{tr("내 공연으로", "Go to my shows")}</a>
    </section>
  );
}
