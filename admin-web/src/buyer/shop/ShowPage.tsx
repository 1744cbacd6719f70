// `/shows/:id`: a show with its performances (prices, places left, a link to book each),
// discounts, the cancellation rule in words, the waitlist of a sold-out performance, opening
// reminders, and its board: the seller's notices and buyers' questions (members may ask).
import { useState } from "preact/hooks";
import { ApiError, del, get, post, put } from "../../lib/api";
import { errorMessage } from "../../lib/errors";
import { tr } from "../../lib/i18n";
import { count, dateTime, won } from "../../lib/format";
import type { Discount, Page, PerformanceListed, Post, ShowDetail } from "./api-types";
import { feeRules } from "./fees";
import { Banner } from "./Home";
import { ErrorBox, Loading, useLoad } from "./load";
import { member } from "./session";
import { categoryName, regionName } from "./taxonomy";
import { WaitlistJoin } from "./Waitlist";

export function ShowPage(props: { id: string }) {
  const show = useLoad(() => get<ShowDetail>(`/shows/${props.id}`), [props.id]);
  if (show.error) return <ErrorBox error={show.error} />;
  if (!show.data) return <Loading />;
  const s = show.data;
  const rules = s.cancellation ? feeRules(s.cancellation.fees, s.booking_fee_won) : [];
  return (
    <article class="stack">
      <Banner show={s.id} title={s.title} />
      <header>
        <h1>{s.title}</h1>
        <ul class="tags">
          <li class="tag">{categoryName(s.category)}</li>
          <li class="tag">{regionName(s.region)}</li>
          {s.age_rating && <li class="tag">{tr(`관람 ${s.age_rating}`, `Age ${s.age_rating}`)}</li>}
          {s.running_minutes > 0 && <li class="tag">{tr(`${s.running_minutes}분`, `${s.running_minutes} min`)}</li>}
        </ul>
        {s.description && <p style="white-space: pre-line">{s.description}</p>}
      </header>

      <section aria-labelledby="performances">
        <h2 id="performances">{tr("회차", "Performances")}</h2>
        {s.performances.length === 0 && <p class="muted">{tr("예정된 회차가 없습니다.", "No performances scheduled.")}</p>}
        <ul class="cards" style="grid-template-columns: 1fr">
          {s.performances.map((p) => (
            <PerformanceCard key={p.id} show={s} performance={p} />
          ))}
        </ul>
        {s.booking_fee_won > 0 && (
          <p class="muted">{tr(`예매수수료 티켓당 ${won(s.booking_fee_won)}`, `Booking fee ${won(s.booking_fee_won)} per ticket`)}</p>
        )}
        {s.per_buyer_limit !== undefined && (
          <p class="muted">{tr(`1인 최대 ${s.per_buyer_limit}매`, `At most ${s.per_buyer_limit} tickets per person`)}</p>
        )}
      </section>

      {s.discounts.length > 0 && (
        <section aria-labelledby="discounts">
          <h2 id="discounts">{tr("할인", "Discounts")}</h2>
          <ul>
            {s.discounts.map((d) => (
              <li key={d.id}>{discountText(d)}</li>
            ))}
          </ul>
        </section>
      )}

      <section aria-labelledby="cancellation" data-testid="cancellation-rule">
        <h2 id="cancellation">{tr("취소 수수료 안내", "Cancellation fees")}</h2>
        <ul>
          {rules.map((r) => (
            <li>{r}</li>
          ))}
        </ul>
      </section>

      <Board show={s.id} />
    </article>
  );
}

function discountText(d: Discount): string {
  const amount = d.percent !== null ? `${d.percent}%` : d.amount_won !== null ? won(d.amount_won) : "";
  const parts = [`${d.label} ${amount}`.trim()];
  if (d.grades && d.grades.length > 0) parts.push(tr(`${d.grades.join(", ")}석`, `${d.grades.join(", ")} seats`));
  if (d.until_ms) parts.push(tr(`${dateTime(d.until_ms)}까지`, `until ${dateTime(d.until_ms)}`));
  if (d.proof_at_entry) parts.push(tr("입장 시 증빙 확인", "proof checked at the door"));
  return parts.join(" · ");
}

function PerformanceCard(props: { show: ShowDetail; performance: PerformanceListed }) {
  const { show, performance: p } = props;
  const now = Date.now();
  const started = p.starts_at_ms <= now;
  const soldOut = p.grades.length > 0 && p.grades.every((g) => g.left === 0);
  const opensLater = p.sale_open_at_ms > now;
  return (
    <li class="perf" data-testid="performance">
      <h3>{dateTime(p.starts_at_ms)}</h3>
      <ul class="grades">
        {p.grades.map((g) => (
          <li>
            <span>
              {g.grade} · {won(g.price_won)}
            </span>
            <span class={g.left === 0 ? "left-none" : ""}>
              {g.left === null ? tr("확인 중", "checking") : g.left === 0 ? tr("매진", "Sold out") : tr(`잔여 ${count(g.left)}석`, `${count(g.left)} left`)}
            </span>
          </li>
        ))}
      </ul>
      <p class="muted">
        {opensLater
          ? tr(`티켓 오픈 ${dateTime(p.sale_open_at_ms)}`, `Tickets open ${dateTime(p.sale_open_at_ms)}`)
          : tr(`판매 마감 ${dateTime(p.sale_close_at_ms)}`, `Sales close ${dateTime(p.sale_close_at_ms)}`)}
      </p>
      <div class="row">
        {p.cancelled ? (
          <strong class="left-none">{tr("취소된 회차입니다", "This performance was called off")}</strong>
        ) : started ? (
          <span class="muted">{tr("종료된 회차", "Already started")}</span>
        ) : (
          <a class="button" href={`/performances/${p.id}/book`}>
            {opensLater ? tr("대기열 입장", "Join the queue") : soldOut ? tr("좌석 확인", "Check seats") : tr("예매하기", "Book")}
          </a>
        )}
        {opensLater && !p.cancelled && member.value && <ReminderToggle performance={p.id} />}
      </div>
      {soldOut && !p.cancelled && !started && show.waitlist.enabled && (
        <WaitlistJoin performance={p.id} grades={p.grades.map((g) => g.grade)} perBuyerLimit={show.per_buyer_limit ?? 4} />
      )}
    </li>
  );
}

/** Reminders of a ticket opening, an hour and ten minutes before (`PUT …/reminder`). */
function ReminderToggle(props: { performance: string }) {
  const [on, setOn] = useState<boolean | null>(null);
  const [error, setError] = useState<unknown>(null);
  useLoad(async () => {
    const { items } = await get<{ items: { performance: string }[] }>("/me/reminders");
    setOn(items.some((r) => r.performance === props.performance));
  }, [props.performance]);
  async function toggle() {
    try {
      if (on) await del(`/performances/${props.performance}/reminder`);
      else await put(`/performances/${props.performance}/reminder`, { hour_before: true, ten_minutes_before: true });
      setOn(!on);
      setError(null);
    } catch (e) {
      setError(e);
    }
  }
  return (
    <>
      <button type="button" class="secondary" aria-pressed={on === true} onClick={toggle} disabled={on === null}>
        {on ? tr("오픈 알림 끄기", "Stop opening reminders") : tr("오픈 알림 받기", "Remind me at opening")}
      </button>
      <ErrorBox error={error} />
    </>
  );
}

function Board(props: { show: string }) {
  const notices = useLoad(() => get<Page<Post>>(`/shows/${props.show}/notices?limit=20`), [props.show]);
  const questions = useLoad(() => get<Page<Post>>(`/shows/${props.show}/questions?limit=20`), [props.show]);
  return (
    <section aria-labelledby="board" class="stack">
      <h2 id="board">{tr("공지사항", "Notices")}</h2>
      <ErrorBox error={notices.error} />
      {notices.data && notices.data.items.length === 0 && <p class="muted">{tr("공지사항이 없습니다.", "No notices.")}</p>}
      {notices.data?.items.map((n) => (
        <details key={n.id}>
          <summary>
            {n.title} <span class="muted">{dateTime(n.created_at_ms)}</span>
          </summary>
          <p style="white-space: pre-line">{n.body}</p>
        </details>
      ))}
      <h2>{tr("Q&A", "Q&A")}</h2>
      <ErrorBox error={questions.error} />
      {questions.data && questions.data.items.length === 0 && <p class="muted">{tr("아직 질문이 없습니다.", "No questions yet.")}</p>}
      {questions.data?.items.map((q) => (
        <details key={q.id} data-testid="question">
          <summary>
            {q.title} <span class="muted">{q.answer ? tr("답변 완료", "Answered") : tr("답변 대기", "Awaiting answer")}</span>
          </summary>
          <p style="white-space: pre-line">{q.body}</p>
          {q.answer && (
            <p class="notice" style="white-space: pre-line">
              <strong>{tr("판매자 답변: ", "Seller's answer: ")}</strong>
              {q.answer}
            </p>
          )}
        </details>
      ))}
      {member.value ? (
        <AskForm show={props.show} onAsked={questions.reload} />
      ) : (
        <p class="muted">
          <a href={`/signin?next=/shows/${props.show}`}>{tr("로그인", "Sign in")}</a>
          {tr("하면 질문할 수 있습니다.", " to ask a question.")}
        </p>
      )}
    </section>
  );
}

function AskForm(props: { show: string; onAsked: () => void }) {
  const [error, setError] = useState<unknown>(null);
  const [sent, setSent] = useState(false);
  async function submit(event: Event) {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    try {
      await post(`/shows/${props.show}/questions`, { title: String(data.get("title")), body: String(data.get("body")) });
      form.reset();
      setSent(true);
      setError(null);
      props.onAsked();
    } catch (e) {
      setError(e);
      setSent(false);
    }
  }
  const fieldError = (name: string) => (error instanceof ApiError ? error.errors.find((f) => f.field === name)?.message : undefined);
  return (
    <form onSubmit={submit}>
      <h3>{tr("질문하기", "Ask a question")}</h3>
      <label for="q-title">{tr("제목", "Subject")}</label>
      <input id="q-title" name="title" required maxLength={100} aria-invalid={!!fieldError("title")} />
      <label for="q-body">{tr("내용", "Question")}</label>
      <textarea id="q-body" name="body" required rows={3} maxLength={2000} aria-invalid={!!fieldError("body")} />
      {error ? <p class="error" role="alert">{errorMessage(error)}</p> : null}
      {sent && <p class="notice" role="status">{tr("질문이 등록되었습니다.", "Your question was posted.")}</p>}
      <p>
        <button type="submit">{tr("질문 등록", "Post question")}</button>
      </p>
    </form>
  );
}
