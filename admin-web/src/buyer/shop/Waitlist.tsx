// The cancellation waitlist (docs/protocol.md "Waitlist over HTTP"): join a sold-out
// performance's waitlist (offer mode, or auto-pay with a registered card), see my entries with
// their positions and open offers, pay or decline an offer, leave. Members only.
import { useState } from "preact/hooks";
import { ApiError, del, get, post } from "../../lib/api";
import { messageFor } from "../../lib/errors";
import { tr } from "../../lib/i18n";
import { count, dateTime, won } from "../../lib/format";
import type { BillingMethod, WaitlistEntry } from "./api-types";
import { ErrorBox, Loading, useLoad } from "./load";
import { member } from "./session";

interface Registration {
  customer_key: string;
  success_path: string;
  fail_path: string;
  provider: { client_key: string; billing_url: string | null };
}

/** Starts registering a card for auto-pay: the provider's billing window, back to `returnPath`. */
export async function registerBillingMethod(returnPath: string): Promise<void> {
  const registration = await post<Registration>("/me/billing-methods");
  if (!registration.provider.billing_url) {
    throw new ApiError(503, "payment_unavailable", tr("이 결제사는 앱에서 카드 등록을 지원하지 않습니다.", "This provider's card registration is not available in the app."));
  }
  const origin = location.origin;
  const url = new URL(registration.provider.billing_url);
  url.searchParams.set("clientKey", registration.provider.client_key);
  url.searchParams.set("customerKey", registration.customer_key);
  url.searchParams.set("successUrl", `${origin}${registration.success_path}?return=${encodeURIComponent(returnPath)}`);
  url.searchParams.set("failUrl", `${origin}${returnPath}${returnPath.includes("?") ? "&" : "?"}billing=failed`);
  location.assign(url.toString());
}

export function WaitlistJoin(props: { performance: string; grades: string[]; perBuyerLimit: number }) {
  const [open, setOpen] = useState(false);
  const [mode, setMode] = useState<"offer" | "auto_pay">("offer");
  const [error, setError] = useState<unknown>(null);
  const [joined, setJoined] = useState<{ position: number } | null>(null);
  const methods = useLoad(
    () => (open && mode === "auto_pay" ? get<{ methods: BillingMethod[] }>("/me/billing-methods") : Promise.resolve({ methods: [] })),
    [open, mode],
  );
  if (!member.value) {
    return (
      <p class="notice">
        {tr("매진된 회차입니다. ", "Sold out. ")}
        <a href={`/signin?next=${encodeURIComponent(location.pathname)}`}>{tr("로그인", "Sign in")}</a>
        {tr("하고 취소표 대기를 신청하세요.", " to join the cancellation waitlist.")}
      </p>
    );
  }
  if (joined) {
    return (
      <p class="notice" role="status" data-testid="waitlist-joined">
        {tr(`취소표 대기 신청 완료 · 대기 순번 ${count(joined.position)}`, `On the waitlist · position ${count(joined.position)}`)}{" "}
        <a href="/me/waitlist">{tr("내 대기 보기", "My waitlist")}</a>
      </p>
    );
  }
  if (!open) {
    return (
      <button type="button" class="secondary" onClick={() => setOpen(true)}>
        {tr("취소표 대기 신청", "Join the cancellation waitlist")}
      </button>
    );
  }
  const id = `wl-${props.performance}`;
  async function submit(event: Event) {
    event.preventDefault();
    const data = new FormData(event.currentTarget as HTMLFormElement);
    const grade = String(data.get("grade") ?? "");
    const body: Record<string, unknown> = {
      grade: grade || null,
      quantity: Number(data.get("quantity")),
      together: data.get("together") === "on",
      mode,
    };
    if (mode === "auto_pay") body.billing_method = String(data.get("billing_method") ?? "");
    try {
      const answer = await post<{ entry: string; position: number }>(`/performances/${props.performance}/waitlist`, body);
      setJoined({ position: answer.position });
      setError(null);
    } catch (e) {
      setError(e);
    }
  }
  const limit = Math.max(1, props.perBuyerLimit);
  return (
    <form onSubmit={submit} aria-labelledby={`${id}-title`}>
      <h4 id={`${id}-title`}>{tr("취소표 대기 신청", "Join the cancellation waitlist")}</h4>
      <label for={`${id}-grade`}>{tr("등급", "Grade")}</label>
      <select id={`${id}-grade`} name="grade">
        <option value="">{tr("모든 등급", "Any grade")}</option>
        {props.grades.map((g) => (
          <option value={g}>{g}</option>
        ))}
      </select>
      <label for={`${id}-qty`}>{tr("매수", "Tickets")}</label>
      <select id={`${id}-qty`} name="quantity">
        {Array.from({ length: limit }, (_, i) => (
          <option value={i + 1}>{i + 1}</option>
        ))}
      </select>
      <div class="checks">
        <label>
          <input type="checkbox" name="together" /> {tr("붙은 좌석으로", "Seats together")}
        </label>
      </div>
      <fieldset class="checks">
        <legend>{tr("방식", "How")}</legend>
        <label>
          <input type="radio" name="mode" value="offer" checked={mode === "offer"} onChange={() => setMode("offer")} />
          {tr("차례가 되면 알림 후 결제", "Offer me the seats to pay")}
        </label>
        <label>
          <input type="radio" name="mode" value="auto_pay" checked={mode === "auto_pay"} onChange={() => setMode("auto_pay")} />
          {tr("등록한 카드로 자동 결제", "Charge my registered card")}
        </label>
      </fieldset>
      {mode === "auto_pay" && (
        <div>
          {methods.loading ? (
            <Loading />
          ) : methods.data && methods.data.methods.length > 0 ? (
            <>
              <label for={`${id}-card`}>{tr("결제 카드", "Card")}</label>
              <select id={`${id}-card`} name="billing_method">
                {methods.data.methods.map((m) => (
                  <option value={m.id}>{m.card}</option>
                ))}
              </select>
            </>
          ) : (
            <p class="notice">
              {tr("자동 결제에는 등록된 카드가 필요합니다. ", "Auto-pay needs a registered card. ")}
              <button type="button" class="secondary" onClick={() => registerBillingMethod(location.pathname).catch(setError)}>
                {tr("카드 등록", "Register a card")}
              </button>
            </p>
          )}
          <ErrorBox error={methods.error} />
        </div>
      )}
      <ErrorBox error={error} />
      <p class="row">
        <button type="submit">{tr("신청", "Join")}</button>
        <button type="button" class="secondary" onClick={() => setOpen(false)}>
          {tr("닫기", "Close")}
        </button>
      </p>
    </form>
  );
}

interface CheckoutAnswer {
  order_id: string;
  order_name: string;
  amount_won: number;
  provider: { client_key: string; checkout_url: string };
}

/** Pays an offer's hold in the provider's window; the success URL books it and comes back. */
async function payOffer(entry: WaitlistEntry): Promise<void> {
  if (!entry.offer) return;
  const checkout = await post<CheckoutAnswer>("/checkout", { sale: entry.offer.sale, hold: entry.offer.hold });
  const origin = location.origin;
  const url = new URL(checkout.provider.checkout_url);
  url.searchParams.set("clientKey", checkout.provider.client_key);
  url.searchParams.set("orderId", checkout.order_id);
  url.searchParams.set("orderName", checkout.order_name);
  url.searchParams.set("amount", String(checkout.amount_won));
  url.searchParams.set("successUrl", `${origin}/api/v2/payments/success?return=${encodeURIComponent("/me/bookings")}`);
  url.searchParams.set("failUrl", `${origin}/me/waitlist?payment=failed`);
  location.assign(url.toString());
}

/** `/me/waitlist`. */
export function MyWaitlist(props: { query?: Record<string, string> }) {
  const entries = useLoad(() => (member.value ? get<{ entries: WaitlistEntry[] }>("/me/waitlist") : Promise.resolve({ entries: [] })), [member.value?.id]);
  const cards = useLoad(() => (member.value ? get<{ methods: BillingMethod[] }>("/me/billing-methods") : Promise.resolve({ methods: [] })), [member.value?.id]);
  const [error, setError] = useState<unknown>(null);
  const query = props.query ?? {};
  if (member.value === null) return <MembersOnly />;
  async function act(action: () => Promise<unknown>) {
    try {
      await action();
      setError(null);
      entries.reload();
      cards.reload();
    } catch (e) {
      setError(e);
    }
  }
  return (
    <section class="stack">
      <h1>{tr("취소표 대기", "My waitlist")}</h1>
      {query.payment === "failed" && <p class="error">{query.message || messageFor("payment_declined")}</p>}
      {query.billing === "failed" && <p class="error">{query.message || tr("카드 등록에 실패했습니다.", "The card was not registered.")}</p>}
      <ErrorBox error={entries.error ?? error} />
      {entries.loading && !entries.data && <Loading />}
      {entries.data && entries.data.entries.length === 0 && (
        <p class="muted">{tr("대기 중인 공연이 없습니다. 매진된 회차의 공연 페이지에서 신청할 수 있습니다.", "You are not waiting for anything. Join from a sold-out performance's show page.")}</p>
      )}
      <ul class="cards" style="grid-template-columns: 1fr">
        {entries.data?.entries.map((e) => (
          <li class="perf" key={e.entry} data-testid="waitlist-entry">
            <h2>{e.title ?? tr("공연", "Performance")}</h2>
            <p>
              {e.grade ?? tr("모든 등급", "Any grade")} · {tr(`${e.quantity}매`, `${e.quantity} tickets`)}
              {e.together ? tr(" · 붙은 좌석", " · together") : ""}
            </p>
            {e.position && (
              <p>
                {tr(`대기 순번 ${count(e.position.overall)} (같은 등급 중 ${count(e.position.in_grade)})`, `Position ${count(e.position.overall)} (${count(e.position.in_grade)} for this grade)`)}
              </p>
            )}
            {e.offer && (
              <div class="notice">
                <p>
                  <strong>{tr("좌석이 확보되었습니다!", "Seats are held for you!")}</strong>{" "}
                  {tr(`${won(e.offer.amount_won)} · ${dateTime(e.offer.expires_at_ms)}까지 결제`, `${won(e.offer.amount_won)} · pay by ${dateTime(e.offer.expires_at_ms)}`)}
                </p>
                <p class="row">
                  <button type="button" onClick={() => act(() => payOffer(e))}>
                    {tr("결제하기", "Pay")}
                  </button>
                  <button type="button" class="secondary" onClick={() => act(() => post(`/performances/${e.performance}/waitlist/${e.entry}/decline`))}>
                    {tr("양보하기", "Decline")}
                  </button>
                </p>
              </div>
            )}
            <p class="muted">{tr(`신청 ${dateTime(e.joined_at_ms)}`, `Joined ${dateTime(e.joined_at_ms)}`)}</p>
            <button
              type="button"
              class="secondary"
              onClick={() => confirm(tr("대기를 취소할까요?", "Leave this waitlist?")) && act(() => del(`/performances/${e.performance}/waitlist/${e.entry}`))}
            >
              {tr("대기 취소", "Leave")}
            </button>
          </li>
        ))}
      </ul>
      <h2>{tr("자동 결제 카드", "Cards for auto-pay")}</h2>
      <ErrorBox error={cards.error} />
      <ul>
        {cards.data?.methods.map((m) => (
          <li key={m.id} class="row">
            <span>{m.card}</span>
            <button type="button" class="secondary" onClick={() => confirm(tr("카드를 삭제할까요?", "Delete this card?")) && act(() => del(`/me/billing-methods/${m.id}`))}>
              {tr("삭제", "Delete")}
            </button>
          </li>
        ))}
      </ul>
      <button type="button" class="secondary" onClick={() => registerBillingMethod("/me/waitlist").catch((e: unknown) => setError(e))}>
        {tr("카드 등록", "Register a card")}
      </button>
    </section>
  );
}

export function MembersOnly() {
  return (
    <section>
      <h1>{tr("로그인이 필요합니다", "Please sign in")}</h1>
      <p class="row">
        <a class="button" href={`/signin?next=${encodeURIComponent(location.pathname)}`}>
          {tr("로그인", "Sign in")}
        </a>
        <a class="button secondary" href="/signup">
          {tr("회원가입", "Sign up")}
        </a>
      </p>
    </section>
  );
}

