// `/seller/shows/:id/board`: the show's notices (optionally sent to everyone who booked it, or
// one performance's bookers) and buyers' questions with the seller's answers. The board is the
// published show's: a draft has none yet.
import { useState } from "preact/hooks";
import { useRoute } from "preact-iso";
import { get, post } from "../../lib/api";
import { dateTime } from "../../lib/format";
import { tr } from "../../lib/i18n";
import { ErrorBox, Loading, useLoad } from "../../buyer/shop/load";
import type { Page, Post, ShowDetail } from "./api-types";
import { Field, FormError, control, fieldMessage } from "./fields";

function NoticeForm({ show, onPosted }: { show: ShowDetail; onPosted: () => void }) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [notify, setNotify] = useState(false);
  async function submit(event: Event) {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    const performance = String(data.get("performance") ?? "");
    setBusy(true);
    setError(null);
    try {
      await post(`/shows/${show.id}/notices`, {
        title: String(data.get("title") ?? ""),
        body: String(data.get("body") ?? ""),
        notify_bookers: notify,
        ...(notify && performance ? { performance } : {}),
      });
      form.reset();
      setNotify(false);
      onPosted();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  return (
    <form class="card" onSubmit={submit} noValidate data-testid="notice-form">
      <h3>{tr("공지 쓰기", "Post a notice")}</h3>
      <Field field="title" label={tr("제목", "Title")} error={error}>
        <input {...control(error, "title")} name="title" maxLength={100} required />
      </Field>
      <Field field="body" label={tr("내용", "Text")} error={error}>
        <textarea {...control(error, "body")} name="body" rows={4} required />
      </Field>
      <label class="inline">
        <input type="checkbox" checked={notify} onChange={(e) => setNotify(e.currentTarget.checked)} /> {tr("예매자에게 알림 보내기", "Send it to the bookers")}
      </label>
      {notify && (
        <Field field="performance" label={tr("대상 회차", "Which performance's bookers")} error={error}>
          <select {...control(error, "performance")} name="performance">
            <option value="">{tr("모든 회차", "Every performance")}</option>
            {show.performances.map((p) => (
              <option key={p.id} value={p.id}>
                {dateTime(p.starts_at_ms)}
              </option>
            ))}
          </select>
        </Field>
      )}
      <FormError error={error} />
      <button type="submit" disabled={busy}>
        {tr("공지 올리기", "Post")}
      </button>
    </form>
  );
}

function AnswerForm({ question, onAnswered }: { question: Post; onAnswered: () => void }) {
  const [text, setText] = useState(question.answer ?? "");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await post(`/questions/${question.id}/answer`, { answer: text });
      onAnswered();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  // One form per question: ids carry the question's.
  const id = `answer-${question.id}`;
  const message = fieldMessage(error, "answer");
  return (
    <form onSubmit={submit} noValidate>
      <label for={id}>{question.answer ? tr("답변 고치기", "Edit the answer") : tr("답변", "Answer")}</label>
      <textarea id={id} rows={3} value={text} aria-invalid={message ? true : undefined} aria-describedby={`${id}-error`} onInput={(e) => setText(e.currentTarget.value)} data-testid="answer-text" />
      {message && (
        <p class="field-error" id={`${id}-error`} role="alert" data-field-error="answer">
          {tr(`입력값을 확인해 주세요: ${message}`, message)}
        </p>
      )}
      <FormError error={error} />
      <button type="submit" disabled={busy} data-testid="answer-submit">
        {tr("답변 등록", "Answer")}
      </button>
    </form>
  );
}

export function BoardPage() {
  const { params } = useRoute();
  const id = params.id;
  const show = useLoad(() => get<ShowDetail>(`/shows/${id}`), [id]);
  const published = show.data?.status === "published";
  const notices = useLoad(() => (published ? get<Page<Post>>(`/shows/${id}/notices?limit=50`) : Promise.resolve(null)), [id, published]);
  const questions = useLoad(() => (published ? get<Page<Post>>(`/shows/${id}/questions?limit=50`) : Promise.resolve(null)), [id, published]);
  if (show.error) return <ErrorBox error={show.error} />;
  if (!show.data) return <Loading />;
  const open = questions.data?.items.filter((q) => !q.answer) ?? [];
  const answered = questions.data?.items.filter((q) => q.answer) ?? [];
  return (
    <section>
      <p>
        <a href={`/seller/shows/${id}`}>← {show.data.title}</a>
      </p>
      <h1>{tr("게시판", "Board")}</h1>
      {!published ? (
        <p class="notice">{tr("게시판은 판매를 공개한 뒤에 열립니다.", "The board opens once the show is published.")}</p>
      ) : (
        <div class="board">
          <section>
            <h2>{tr("공지", "Notices")}</h2>
            <NoticeForm show={show.data} onPosted={notices.reload} />
            <ErrorBox error={notices.error} />
            <ul class="posts" data-testid="notices">
              {notices.data?.items.map((n) => (
                <li key={n.id} class="card">
                  <strong>{n.title}</strong> <span class="muted">{dateTime(n.created_at_ms)}</span>
                  <p class="post-body">{n.body}</p>
                </li>
              ))}
            </ul>
          </section>
          <section>
            <h2>
              {tr("문의", "Questions")} {open.length > 0 && <span class="badge">{tr(`미답변 ${open.length}`, `${open.length} open`)}</span>}
            </h2>
            <ErrorBox error={questions.error} />
            {questions.data?.items.length === 0 && <p class="muted">{tr("아직 문의가 없습니다.", "No questions yet.")}</p>}
            <ul class="posts" data-testid="questions">
              {[...open, ...answered].map((q) => (
                <li key={q.id} class="card" data-question-id={q.id}>
                  <strong>{q.title}</strong> <span class="muted">{dateTime(q.created_at_ms)}</span>
                  <p class="post-body">{q.body}</p>
                  {q.answer && (
                    <p class="answer" data-testid="answer">
                      <strong>{tr("답변", "Answer")}:</strong> {q.answer}
                    </p>
                  )}
                  <AnswerForm question={q} onAnswered={questions.reload} />
                </li>
              ))}
            </ul>
          </section>
        </div>
      )}
    </section>
  );
}
