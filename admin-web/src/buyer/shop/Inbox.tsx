// `/inbox`: the member's notifications newest first (mark read), Web Push opt-in on this
// device, and which notifications come live or pushed, in which language
// (docs/protocol.md "Notifications (HTTP API v2)", "Web Push", "Notification settings").
import { useEffect, useState } from "preact/hooks";
import { get, post, put } from "../../lib/api";
import { lang, tr } from "../../lib/i18n";
import { dateTime } from "../../lib/format";
import type { InboxItem, Page } from "./api-types";
import { notificationLink, unread } from "./inbox-state";
import { ErrorBox, Loading, useLoad } from "./load";
import { member } from "./session";
import { MembersOnly } from "./Waitlist";

type InboxPage = Page<InboxItem> & { unread: number };
const INBOX_PAGE_LIMIT = 20;

export function InboxPage() {
  const first = useLoad(() => (member.value ? get<InboxPage>(`/me/notifications?limit=${INBOX_PAGE_LIMIT}`, { headers: { "Accept-Language": lang.value } }) : Promise.resolve(null)), [
    member.value?.id,
    lang.value,
  ]);
  const [items, setItems] = useState<InboxItem[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    if (!first.data) return;
    setItems(first.data.items);
    setCursor(first.data.next_cursor);
    unread.value = first.data.unread;
  }, [first.data]);
  if (member.value === null) return <MembersOnly />;

  async function more() {
    if (!cursor) return;
    try {
      const page = await get<InboxPage>(`/me/notifications?limit=${INBOX_PAGE_LIMIT}&cursor=${encodeURIComponent(cursor)}`, { headers: { "Accept-Language": lang.value } });
      setItems((list) => [...list, ...page.items]);
      setCursor(page.next_cursor);
    } catch (e) {
      setError(e);
    }
  }
  async function markRead(body: { ids: string[] } | { up_to: string }) {
    try {
      const answer = await post<{ unread: number }>("/me/notifications/read", body);
      unread.value = answer.unread;
      const all = "up_to" in body;
      setItems((list) => list.map((i) => (all || ("ids" in body && body.ids.includes(i.id)) ? { ...i, read: true } : i)));
      setError(null);
    } catch (e) {
      setError(e);
    }
  }
  return (
    <section class="stack">
      <h1>{tr("알림", "Notifications")}</h1>
      <PushOptIn />
      <div class="row">
        <span aria-live="polite">{unread.value !== null && tr(`읽지 않은 알림 ${unread.value}개`, `${unread.value} unread`)}</span>
        {items.length > 0 && (unread.value ?? 0) > 0 && (
          <button type="button" class="secondary" onClick={() => markRead({ up_to: items[0].id })}>
            {tr("모두 읽음", "Mark all read")}
          </button>
        )}
      </div>
      <ErrorBox error={first.error ?? error} />
      {first.loading && items.length === 0 && <Loading />}
      {!first.loading && items.length === 0 && <p class="muted">{tr("알림이 없습니다.", "No notifications yet.")}</p>}
      <ul class="inbox" data-testid="inbox">
        {items.map((item) => (
          <li key={item.id} class={item.read ? "" : "unread"} data-testid="inbox-item" data-kind={item.kind}>
            <a href={notificationLink(item)} onClick={() => !item.read && markRead({ ids: [item.id] })}>
              <strong>{item.title}</strong>
            </a>
            {!item.read && <span class="visually-hidden">{tr(" (읽지 않음)", " (unread)")}</span>}
            <p style="margin: 4px 0">{item.body}</p>
            <div class="row">
              <span class="when">{dateTime(item.created_at_ms)}</span>
              {!item.read && (
                <button type="button" class="secondary" onClick={() => markRead({ ids: [item.id] })}>
                  {tr("읽음", "Mark read")}
                </button>
              )}
            </div>
          </li>
        ))}
      </ul>
      {cursor && (
        <button type="button" class="secondary" onClick={more}>
          {tr("더 보기", "Show more")}
        </button>
      )}
      <NotificationSettings />
    </section>
  );
}

function urlBase64ToBytes(text: string): Uint8Array {
  const padded = text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4);
  const binary = atob(padded);
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** Web Push on this device: the API's VAPID key → `PushManager.subscribe` → the API keeps it. */
function PushOptIn() {
  const supported = typeof navigator !== "undefined" && "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
  const [state, setState] = useState<"unknown" | "on" | "off" | "denied">("unknown");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (!supported) return;
    if (Notification.permission === "denied") {
      setState("denied");
      return;
    }
    navigator.serviceWorker.getRegistration().then(async (registration) => {
      const subscription = await registration?.pushManager.getSubscription();
      setState(subscription ? "on" : "off");
    });
  }, []);
  if (!supported) {
    return <p class="muted">{tr("이 브라우저는 푸시 알림을 지원하지 않습니다.", "This browser does not support push notifications.")}</p>;
  }
  async function turnOn() {
    setBusy(true);
    try {
      const permission = await Notification.requestPermission();
      if (permission !== "granted") {
        setState(permission === "denied" ? "denied" : "off");
        return;
      }
      const { public_key } = await get<{ public_key: string }>("/push/key");
      const registration = await navigator.serviceWorker.ready;
      const subscription = await registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: urlBase64ToBytes(public_key) as BufferSource,
      });
      const json = subscription.toJSON();
      await post("/me/push-subscriptions", { endpoint: json.endpoint, expirationTime: json.expirationTime ?? null, keys: json.keys });
      setState("on");
      setError(null);
    } catch (e) {
      setError(e instanceof DOMException ? new Error(tr("푸시 알림을 켤 수 없습니다: ", "Could not turn on push: ") + e.message) : e);
    } finally {
      setBusy(false);
    }
  }
  return (
    <div class="notice">
      {state === "on" ? (
        <p style="margin: 0">{tr("이 기기에서 푸시 알림을 받고 있습니다.", "Push notifications are on for this device.")}</p>
      ) : state === "denied" ? (
        <p style="margin: 0">{tr("브라우저 설정에서 알림이 차단되어 있습니다.", "Notifications are blocked in this browser's settings.")}</p>
      ) : (
        <div class="row">
          <span>{tr("앱을 닫아도 예매·대기 알림을 받아 보세요.", "Get booking and waitlist alerts even with the app closed.")}</span>
          <button type="button" onClick={turnOn} disabled={busy || state === "unknown"}>
            {tr("푸시 알림 켜기", "Turn on push")}
          </button>
        </div>
      )}
      <ErrorBox error={error} />
    </div>
  );
}

interface Settings {
  language: "ko" | "en";
  channels: Record<string, { app: boolean; push: boolean }>;
}

const KIND_NAMES: Record<string, readonly [string, string]> = {
  interest_alert: ["관심 공연 알림", "Shows for you"],
  booking_confirmed: ["예매 확정", "Booking confirmed"],
  tickets_cancelled: ["예매 취소", "Tickets cancelled"],
  refund_paid: ["환불 완료", "Refund paid"],
  waitlist_offer: ["취소표 배정", "Waitlist offer"],
  waitlist_ended: ["대기 종료", "Waitlist ended"],
  reminder: ["티켓 오픈 알림", "Opening reminder"],
  seller_notice: ["판매자 공지", "Seller's notice"],
};

function NotificationSettings() {
  const settings = useLoad(() => get<Settings>("/me/notification-settings"), []);
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<unknown>(null);
  if (!settings.data) return <ErrorBox error={settings.error} />;
  const current = settings.data;
  async function submit(event: Event) {
    event.preventDefault();
    const data = new FormData(event.currentTarget as HTMLFormElement);
    const channels: Settings["channels"] = {};
    for (const kind of Object.keys(current.channels)) {
      channels[kind] = { app: data.get(`${kind}.app`) === "on", push: data.get(`${kind}.push`) === "on" };
    }
    try {
      await put<Settings>("/me/notification-settings", { language: data.get("language"), channels });
      setSaved(true);
      setError(null);
    } catch (e) {
      setError(e);
      setSaved(false);
    }
  }
  return (
    <details>
      <summary>{tr("알림 설정", "Notification settings")}</summary>
      <form onSubmit={submit}>
        <label for="ns-language">{tr("알림 언어", "Language of notifications")}</label>
        <select id="ns-language" name="language" defaultValue={current.language}>
          <option value="ko">한국어</option>
          <option value="en">English</option>
        </select>
        <table class="plain">
          <thead>
            <tr>
              <th scope="col">{tr("종류", "Kind")}</th>
              <th scope="col">{tr("앱", "In app")}</th>
              <th scope="col">{tr("푸시", "Push")}</th>
            </tr>
          </thead>
          <tbody>
            {Object.entries(current.channels).map(([kind, channel]) => {
              const name = KIND_NAMES[kind] ? tr(KIND_NAMES[kind][0], KIND_NAMES[kind][1]) : kind;
              return (
                <tr key={kind}>
                  <th scope="row">{name}</th>
                  <td>
                    <input type="checkbox" name={`${kind}.app`} defaultChecked={channel.app} aria-label={`${name} ${tr("앱", "in app")}`} style="width: 24px" />
                  </td>
                  <td>
                    <input type="checkbox" name={`${kind}.push`} defaultChecked={channel.push} aria-label={`${name} ${tr("푸시", "push")}`} style="width: 24px" />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
        <p class="muted">{tr("설정과 관계없이 모든 알림은 알림함에 남습니다.", "The inbox keeps every notification whatever you choose.")}</p>
        <ErrorBox error={error} />
        {saved && <p role="status">{tr("저장했습니다.", "Saved.")}</p>}
        <button type="submit">{tr("저장", "Save")}</button>
      </form>
    </details>
  );
}

