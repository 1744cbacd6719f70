// `/admin/moderation`: every board post — platform notices, show notices, questions — newest
// first, hidden ones too (`GET /api/v2/admin/posts`), each with hide / unhide
// (`POST /api/v2/posts/{id}/hide|unhide`) and delete (`DELETE /api/v2/posts/{id}`, after a
// confirmation: a deleted post is gone for good, a hidden one can be shown again).
import { useEffect, useState } from "preact/hooks";
import { del, get, post } from "../lib/api";
import { errorMessage } from "../lib/errors";
import { dateTime } from "../lib/format";
import { tr } from "../lib/i18n";

/** Posts per page (the API's page limit). */
const POSTS_PER_PAGE = 50;

interface ModeratedPost {
  id: string;
  show: string | null;
  show_title: string | null;
  kind: "notice" | "question";
  author_email: string;
  title: string;
  body: string;
  answer: string | null;
  hidden: boolean;
  created_at_ms: number;
}

function kindLabel(p: ModeratedPost): string {
  if (p.kind === "question") return tr("문의", "Question");
  return p.show ? tr("공연 공지", "Show notice") : tr("플랫폼 공지", "Platform notice");
}

export function ModerationPage() {
  const [hiddenOnly, setHiddenOnly] = useState(false);
  const [posts, setPosts] = useState<ModeratedPost[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [version, setVersion] = useState(0);
  const [confirming, setConfirming] = useState<string | null>(null);

  async function load(cursor: string | null) {
    const params = new URLSearchParams({ limit: String(POSTS_PER_PAGE) });
    if (hiddenOnly) params.set("hidden", "true");
    if (cursor) params.set("cursor", cursor);
    const page = await get<{ items: ModeratedPost[]; next_cursor: string | null }>(`/admin/posts?${params}`);
    setPosts((p) => (cursor && p ? [...p, ...page.items] : page.items));
    setNext(page.next_cursor);
  }
  useEffect(() => {
    setError(null);
    load(null).catch(setError);
  }, [hiddenOnly, version]);

  async function act(run: () => Promise<unknown>) {
    setError(null);
    try {
      await run();
      setConfirming(null);
      setVersion((v) => v + 1);
    } catch (e) {
      setError(e);
    }
  }

  return (
    <>
      <h1>{tr("게시판 관리", "Board moderation")}</h1>
      <p class="muted">
        {tr(
          "숨긴 글은 저장된 채 목록에서 빠지고 다시 보이게 할 수 있습니다. 삭제한 글은 되돌릴 수 없습니다.",
          "A hidden post stays stored, is no longer listed and can be shown again. A deleted post is gone for good.",
        )}
      </p>
      <label>
        <input type="checkbox" checked={hiddenOnly} onChange={(e) => setHiddenOnly((e.currentTarget as HTMLInputElement).checked)} /> {tr("숨긴 글만 보기", "Hidden posts only")}
      </label>
      {error ? <p class="error" role="alert">{errorMessage(error)}</p> : null}
      {posts === null ? <p class="muted">{tr("불러오는 중…", "Loading…")}</p> : null}
      {posts?.length === 0 ? <p class="muted">{tr("게시글이 없습니다.", "No posts.")}</p> : null}
      <ul class="posts" data-testid="moderated-posts">
        {posts?.map((p) => (
          <li key={p.id} data-testid={`post-${p.id}`} class="card">
            <p>
              <span class="chip">{kindLabel(p)}</span>
              {p.show_title ? <a href={`/shows/${p.show}`}>{p.show_title}</a> : null} <span class="muted">{p.author_email} · {dateTime(p.created_at_ms)}</span>
              {p.hidden ? <span class="badge" data-testid="post-hidden"> {tr("숨김", "Hidden")}</span> : null}
            </p>
            <strong>{p.title}</strong>
            <p class="post-body">{p.body}</p>
            {p.answer ? <p class="answer">↳ {p.answer}</p> : null}
            <div class="actions">
              {p.hidden ? (
                <button type="button" class="secondary" onClick={() => void act(() => post<void>(`/posts/${p.id}/unhide`))}>
                  {tr("다시 보이기", "Unhide")}
                </button>
              ) : (
                <button type="button" class="secondary" onClick={() => void act(() => post<void>(`/posts/${p.id}/hide`))}>
                  {tr("숨기기", "Hide")}
                </button>
              )}
              {confirming === p.id ? (
                <>
                  <button type="button" onClick={() => void act(() => del<void>(`/posts/${p.id}`))} data-testid="confirm-delete">
                    {tr("영구 삭제", "Delete for good")}
                  </button>
                  <button type="button" class="secondary" onClick={() => setConfirming(null)}>
                    {tr("취소", "Cancel")}
                  </button>
                </>
              ) : (
                <button type="button" class="secondary" onClick={() => setConfirming(p.id)}>
                  {tr("삭제", "Delete")}
                </button>
              )}
            </div>
          </li>
        ))}
      </ul>
      {next ? (
        <button type="button" class="secondary" onClick={() => load(next).catch(setError)}>
          {tr("더 보기", "More")}
        </button>
      ) : null}
    </>
  );
}
