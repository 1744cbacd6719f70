// The buyer app's frame: header links (who is signed in, the unread count) and the page shown
// for an unknown path. It also starts what every page relies on: the member's session and the
// service worker that makes the app installable and the QR ticket work offline.
import type { ComponentChildren } from "preact";
import { useEffect } from "preact/hooks";
import { useLocation } from "preact-iso";
import { tr } from "../lib/i18n";
import { Layout } from "../ui/Layout";
import { refreshUnread, unread } from "./shop/inbox-state";
import { loadMember, member, signOut } from "./shop/session";

/** How often the header's unread count is read again while the app is open. */
const UNREAD_REFRESH_MS = 60_000;

function registerServiceWorker() {
  if (!("serviceWorker" in navigator) || import.meta.env.DEV) return;
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {
    // Without it the app still works online; nothing to tell the buyer.
  });
  // A push that arrived while the app was open and in view: count it at once.
  navigator.serviceWorker.addEventListener("message", (event) => {
    if ((event.data as { type?: string } | null)?.type === "notification") void refreshUnread();
  });
}

function Nav() {
  const { route } = useLocation();
  const who = member.value;
  if (who === undefined) return null;
  if (!who) {
    return (
      <>
        <a class="nav-link" href="/guest">
          {tr("비회원 조회", "Guest lookup")}
        </a>
        <a class="nav-link" href="/signin">
          {tr("로그인", "Sign in")}
        </a>
      </>
    );
  }
  const count = unread.value ?? 0;
  return (
    <>
      <a class="nav-link" href="/me/bookings">
        {tr("내 예매", "My bookings")}
      </a>
      <a class="nav-link" href="/inbox" data-testid="nav-inbox" aria-label={count > 0 ? tr(`알림, 읽지 않음 ${count}개`, `Notifications, ${count} unread`) : undefined}>
        {tr("알림", "Inbox")}
        {count > 0 && (
          <span class="badge" data-testid="unread-count" aria-hidden="true">
            {count > 99 ? "99+" : count}
          </span>
        )}
      </a>
      <button
        type="button"
        class="secondary"
        style="min-height: 36px; padding: 0 10px"
        onClick={async () => {
          await signOut();
          unread.value = null;
          route("/");
        }}
      >
        {tr("로그아웃", "Sign out")}
      </button>
    </>
  );
}

export function BuyerFrame(props: { children: ComponentChildren }) {
  useEffect(() => {
    void loadMember();
    registerServiceWorker();
  }, []);
  const memberId = member.value?.id;
  useEffect(() => {
    if (!memberId) return;
    void refreshUnread();
    const timer = setInterval(() => void refreshUnread(), UNREAD_REFRESH_MS);
    const onFocus = () => void refreshUnread();
    window.addEventListener("focus", onFocus);
    return () => {
      clearInterval(timer);
      window.removeEventListener("focus", onFocus);
    };
  }, [memberId]);
  return (
    <Layout home="/" brand="Picket" nav={<Nav />}>
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
