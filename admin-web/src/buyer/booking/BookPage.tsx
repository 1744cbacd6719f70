// `/performances/:performanceId/book`: the queue, then the seat map, then checkout, then off to
// the payment provider's page. Everything live comes over the one WebSocket (lib/ws.ts).

import { useEffect, useMemo, useState } from "preact/hooks";
import { useSignal, useSignalEffect } from "@preact/signals";
import { useRoute } from "preact-iso";
import { errorMessage } from "../../lib/errors";
import { tr } from "../../lib/i18n";
import { dateTime } from "../../lib/format";
import { loadCredential } from "../../lib/api";
import { socket, type Held, type SeatMap as SeatMapState, type Selection } from "../../lib/ws";
import { loadContext, loadHold, saveHold, type BookingContext, type SavedHold } from "./data";
import { QueuePanel } from "./QueuePanel";
import { SeatStep } from "./SeatStep";
import { CheckoutStep } from "./CheckoutStep";
import "./booking.css";

export default function BookPage() {
  const { params } = useRoute();
  const performanceId = params.performanceId;
  const [context, setContext] = useState<BookingContext | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);

  useEffect(() => {
    setContext(null);
    setLoadError(null);
    loadContext(performanceId).then(setContext, setLoadError);
  }, [performanceId]);

  if (loadError) {
    return (
      <section>
        <h1>{tr("예매", "Book")}</h1>
        <p class="error" role="alert">{errorMessage(loadError)}</p>
        <a href="/">{tr("공연 둘러보기", "Browse shows")}</a>
      </section>
    );
  }
  if (!context) return <p aria-busy="true">{tr("불러오는 중…", "Loading…")}</p>;
  return <Booking context={context} />;
}

function Booking(props: { context: BookingContext }) {
  const { context } = props;
  const sale = context.performance.sale;
  const performance = context.performance.id;
  const sock = socket();
  const view = useMemo(() => sock.join(sale), [sale]);
  const [hold, setHold] = useState<SavedHold | null>(() => loadHold(performance));
  const seatMap = useSignal<SeatMapState | null>(null);
  const admitted = view.value.admitted;
  const guest = loadCredential()?.kind !== "member";

  // The seat map is watched once admitted (and stops when the page goes).
  useEffect(() => {
    if (!admitted) return;
    const watched = sock.watch(performance, context.seats.length);
    const dispose = watched.view.subscribe((value) => (seatMap.value = value));
    return () => {
      dispose();
      watched.stop();
    };
  }, [admitted != null, performance]);

  useSignalEffect(() => {
    if (sock.state.value === "signed_out") saveHold(null, performance);
  });

  const onHeld = (held: Held) => {
    const saved = { performance, hold: held.hold, places: held.places, expires_at_ms: held.expires_at_ms };
    saveHold(saved, performance);
    setHold(saved);
  };

  const onReleased = () => {
    saveHold(null, performance);
    setHold(null);
  };

  const title = context.show.title;
  const when = dateTime(context.performance.starts_at_ms);

  if (sock.authError.value) {
    return (
      <section>
        <h1>{title}</h1>
        <p class="error" role="alert">{errorMessage(sock.authError.value)}</p>
        <a class="button" href="/">{tr("처음으로", "Home")}</a>
      </section>
    );
  }

  const ended = view.value.ended;
  if (ended && !admitted) {
    return (
      <section>
        <h1>{title}</h1>
        <p class="error" role="alert" data-testid="queue-ended">
          {ended.code === "admission_expired"
            ? tr("예매 가능 시간이 끝났습니다. 다시 줄을 서면 대기열 맨 뒤에서 시작합니다.", "Your booking time ended. Queue again to start at the end of the line.")
            : errorMessage(ended)}
        </p>
        <button type="button" onClick={() => sock.join(sale)}>
          {tr("다시 줄서기", "Queue again")}
        </button>
      </section>
    );
  }

  if (!admitted) {
    return (
      <>
        <Header title={title} when={when} />
        <QueuePanel view={view.value} connection={sock.state.value} sale={sale} />
      </>
    );
  }

  return (
    <>
      <Header title={title} when={when} />
      <AdmissionTimer expiresAt={admitted.expires_at_ms} />
      {hold ? (
        <CheckoutStep context={context} hold={hold} admissionToken={admitted.token} guest={guest} onReleased={onReleased} />
      ) : (
        <SeatStep
          context={context}
          map={seatMap.value}
          limit={admitted.seat_limit}
          onHold={async (selection: Selection, offer, key) => {
            const held = await sock.hold(sale, selection, key, offer);
            onHeld(held);
          }}
        />
      )}
    </>
  );
}

function Header(props: { title: string; when: string }) {
  return (
    <header class="book-head">
      <strong data-testid="book-title">{props.title}</strong>
      <span class="muted">{props.when}</span>
    </header>
  );
}

/** How long the admission lasts: the buyer must pay before it ends. */
function AdmissionTimer(props: { expiresAt: number }) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  const left = Math.max(0, props.expiresAt - now);
  const min = Math.floor(left / 60000);
  const sec = Math.floor((left % 60000) / 1000);
  return (
    <p class="notice admission" data-testid="admitted">
      {tr("차례가 되었습니다! 남은 예매 시간 ", "Your turn! Time left to book ")}
      <span class="q-num-inline">{`${min}:${String(sec).padStart(2, "0")}`}</span>
    </p>
  );
}
