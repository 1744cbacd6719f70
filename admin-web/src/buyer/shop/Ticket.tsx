// `/tickets/:id`: the rotating QR ticket (docs/protocol.md "Ticket codes"). The ticket is bound
// to this device (`POST /tickets/{id}/device` with the device's public key); the secret the
// answer carries is kept on the device (device.ts), and the code is made here every 15 s
// (src/lib/ticket-code.ts) — so the ticket opens and rotates with no network at the door.
import { useEffect, useState } from "preact/hooks";
import qrcode from "qrcode-generator";
import { ApiError, get, post } from "../../lib/api";
import { errorMessage } from "../../lib/errors";
import { tr } from "../../lib/i18n";
import { dateTime } from "../../lib/format";
import { STEP_MS, msUntilNextStep, rotatingCode, stepOf } from "../../lib/ticket-code";
import type { MyTicket } from "./api-types";
import { type KeptTicket, type TicketView, devicePublicKey, keepTicket, keptTicket, secretOf } from "./device";
import { Loading } from "./load";

/** A device clock this far from the server's is corrected (the door accepts ±1 step). */
const CLOCK_SKEW_TOLERATED_MS = 5_000;
/** QR modules per side of a version-4 symbol and the quiet zone around it (protocol.md). */
const QR_VERSION = 4;
const QR_QUIET_MODULES = 4;
const QR_MODULE_PX = 8;

/** Server time minus device time from the `Date` header (1 s resolution), 0 when close. */
async function clockOffsetMs(): Promise<number> {
  const before = Date.now();
  const response = await fetch("/api/v2/push/key", { cache: "no-store" });
  const after = Date.now();
  const header = response.headers.get("Date");
  if (!header) return 0;
  const offset = Date.parse(header) + 500 - (before + after) / 2;
  return Math.abs(offset) > CLOCK_SKEW_TOLERATED_MS ? Math.round(offset) : 0;
}

type Binding = { state: "ready" } | { state: "elsewhere"; view: TicketView };

/** Reads the ticket and binds it to this device when it is not bound yet. */
async function fetchAndBind(id: string, allowRebind: boolean): Promise<{ view: TicketView; binding: Binding }> {
  const key = await devicePublicKey();
  let view = await get<TicketView>(`/tickets/${id}`);
  if (!view.cancelled && view.device?.public_key !== key) {
    if (view.device && !allowRebind) return { view, binding: { state: "elsewhere", view } };
    view = await post<TicketView>(`/tickets/${id}/device`, { public_key: key });
  }
  return { view, binding: { state: "ready" } };
}

async function titleOf(view: TicketView): Promise<string | null> {
  try {
    const { items } = await get<{ items: MyTicket[] }>("/me/tickets");
    return items.find((t) => t.ticket === view.ticket)?.title ?? null;
  } catch {
    return null;
  }
}

export function TicketPage(props: { id: string }) {
  const [kept, setKept] = useState<KeptTicket | null | undefined>(undefined);
  const [offline, setOffline] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [elsewhere, setElsewhere] = useState<TicketView | null>(null);
  const [round, setRound] = useState(0);

  useEffect(() => {
    let current = true;
    (async () => {
      const stored = await keptTicket(props.id).catch(() => undefined);
      if (current && stored) setKept(stored);
      try {
        const { view, binding } = await fetchAndBind(props.id, round > 0);
        if (!current) return;
        if (binding.state === "elsewhere") {
          setElsewhere(binding.view);
          if (!stored) setKept(null);
          return;
        }
        const fresh: KeptTicket = {
          view,
          title: (await titleOf(view)) ?? stored?.title ?? null,
          clockOffsetMs: await clockOffsetMs().catch(() => stored?.clockOffsetMs ?? 0),
          savedAtMs: Date.now(),
        };
        await keepTicket(fresh);
        if (!current) return;
        setKept(fresh);
        setElsewhere(null);
        setOffline(false);
        setError(null);
      } catch (e) {
        if (!current) return;
        // No network at the door: the kept secret is all the ticket needs.
        if (e instanceof ApiError && e.code === "network") setOffline(true);
        else setError(e);
        if (!stored) setKept(null);
      }
    })();
    return () => {
      current = false;
    };
  }, [props.id, round]);

  if (kept === undefined) return <Loading />;
  return (
    <section class="ticket">
      {elsewhere && (
        <div class="notice" role="alert">
          <p>
            {tr(
              `이 티켓은 다른 기기에 연결되어 있습니다. 이 기기로 옮기면 다른 기기의 QR은 더 이상 쓸 수 없습니다. (남은 변경 ${elsewhere.rebinds_max - elsewhere.rebinds}회)`,
              `This ticket is on another device. Moving it here stops the other device's codes. (${elsewhere.rebinds_max - elsewhere.rebinds} moves left)`,
            )}
          </p>
          <button type="button" onClick={() => setRound((r) => r + 1)}>
            {tr("이 기기로 옮기기", "Move it to this device")}
          </button>
        </div>
      )}
      {error ? (
        <p class="error" role="alert">
          {errorMessage(error)}
        </p>
      ) : null}
      {offline && (
        <p class="notice" role="status" data-testid="offline">
          {tr("오프라인 — 이 기기에 저장된 티켓으로 QR을 만듭니다.", "Offline — the code is made from the ticket kept on this device.")}
        </p>
      )}
      {kept && !elsewhere && <RotatingTicket kept={kept} />}
      {kept === null && !error && !elsewhere && !offline && <Loading />}
      {kept === null && offline && <p class="error">{tr("이 기기에 저장된 티켓이 없습니다. 네트워크에 연결한 뒤 다시 열어 주세요.", "This ticket is not kept on this device yet. Open it once with a network.")}</p>}
      <p>
        <a href="/me/bookings">{tr("내 예매로", "My bookings")}</a>
      </p>
    </section>
  );
}

function qrDataUrl(code: string): string {
  const qr = qrcode(QR_VERSION, "M");
  qr.addData(code, "Alphanumeric");
  qr.make();
  return qr.createDataURL(QR_MODULE_PX, QR_MODULE_PX * QR_QUIET_MODULES);
}

function RotatingTicket(props: { kept: KeptTicket }) {
  const { view, title, clockOffsetMs: offset } = props.kept;
  const now = () => Date.now() + offset;
  const [code, setCode] = useState<string | null>(null);
  const [step, setStep] = useState(() => stepOf(now()));
  const [leftMs, setLeftMs] = useState(() => msUntilNextStep(now()));
  const [error, setError] = useState<unknown>(null);

  // One timer a second drives the countdown and notices the step boundary.
  useEffect(() => {
    const timer = setInterval(() => {
      const t = now();
      setLeftMs(msUntilNextStep(t));
      setStep(stepOf(t));
    }, 1000);
    return () => clearInterval(timer);
  }, [offset]);

  useEffect(() => {
    if (view.cancelled) return;
    let current = true;
    rotatingCode(secretOf(view), step * STEP_MS)
      .then((c) => current && setCode(c))
      .catch((e: unknown) => current && setError(e));
    return () => {
      current = false;
    };
  }, [view.ticket, view.code.generation, view.code.mac_key, step]);

  const seconds = Math.ceil(leftMs / 1000);
  return (
    <article aria-labelledby="ticket-title">
      <h1 id="ticket-title">{title ?? tr("모바일 티켓", "Mobile ticket")}</h1>
      <dl class="facts" style="text-align: left">
        <dt>{tr("일시", "When")}</dt>
        <dd>{dateTime(view.starts_at_ms)}</dd>
        <dt>{tr("좌석", "Seat")}</dt>
        <dd>
          {view.grade} · {view.place}
        </dd>
        {view.discount && (
          <>
            <dt>{tr("할인", "Discount")}</dt>
            <dd>
              {view.discount.label}
              {view.discount.proof_at_entry ? tr(" (입장 시 증빙 필요)", " (bring proof)") : ""}
            </dd>
          </>
        )}
        {view.gates.length > 0 && (
          <>
            <dt>{tr("입장 게이트", "Gates")}</dt>
            <dd>{view.gates.join(", ")}</dd>
          </>
        )}
      </dl>
      {view.cancelled ? (
        <p class="error">{tr("취소된 티켓입니다.", "This ticket was cancelled.")}</p>
      ) : (
        <>
          {/* The same size whether or not the code is ready, so nothing moves when it rotates. */}
          {code ? (
            <img class="qr" data-testid="ticket-qr" data-code={code} data-step={step} src={qrDataUrl(code)} alt={tr("입장 QR 코드", "Entry QR code")} />
          ) : (
            <div class="qr" aria-hidden="true" />
          )}
          <p class="countdown" aria-live="off" data-testid="countdown">
            {tr(`${seconds}초 후 새 코드`, `New code in ${seconds} s`)}
          </p>
          <div class="meter" aria-hidden="true">
            <span style={`width: ${(leftMs / STEP_MS) * 100}%`} />
          </div>
          <p class="muted">
            {tr("화면 캡처한 코드는 30초 안에 만료됩니다. 입장 시 이 화면을 보여 주세요.", "A screenshot stops working within 30 s: show this screen at the door.")}
          </p>
        </>
      )}
      {error ? <p class="error">{errorMessage(error)}</p> : null}
    </article>
  );
}
