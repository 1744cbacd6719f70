// `/admin/moderation`: a show's questions and notices, and the platform's notices, each with a
// "hide" (`POST /api/v2/posts/{id}/hide`, admin only): the post stays stored but is no longer
// listed. The API has no route that deletes a post, so neither does this page.
import { useEffect, useState } from "preact/hooks";
import { get, post } from "../lib/api";
import { errorMessage } from "../lib/errors";
import { dateTime } from "../lib/format";
import { tr } from "../lib/i18n";
import { SHOWS_MAX } from "./Overview";

interface Post {
  id: string;
  title: string;
  body: string;
  answer: string | null;
  created_at_ms: number;
}

interface ShowSummary {
  id: string;
  title: string;
}

/** Posts listed per board (one page of the API's). */
const POSTS_MAX = 50;

function Board(props: { title: string; path: string; testId: string }) {
  const [posts, setPosts] = useState<Post[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [version, setVersion] = useState(0);
  useEffect(() => {
    setPosts(null);
    get<{ items: Post[] }>(`${props.path}?limit=${POSTS_MAX}`)
      .then((page) => setPosts(page.items))
      .catch(setError);
  }, [props.path, version]);
  async function hide(id: string) {
    setError(null);
    try {
      await post<void>(`/posts/${id}/hide`);
      setVersion((v) => v + 1);
    } catch (e) {
      setError(e);
    }
  }
  return (
    <section data-testid={props.testId}>
      <h2>{props.title}</h2>
      {error ? <p class="error" role="alert">{errorMessage(error)}</p> : null}
      {posts === null ? <p class="muted">{tr("불러오는 중…", "Loading…")}</p> : null}
      {posts?.length === 0 ? <p class="muted">{tr("게시글이 없습니다.", "No posts.")}</p> : null}
      <ul class="posts">
        {posts?.map((p) => (
          <li key={p.id} data-testid={`post-${p.id}`}>
            <strong>{p.title}</strong> <span class="muted">{dateTime(p.created_at_ms)}</span>
            <p>{p.body}</p>
            {p.answer ? <p class="muted">↳ {p.answer}</p> : null}
            <button type="button" class="secondary" onClick={() => void hide(p.id)}>
              {tr("숨기기", "Hide")}
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

export function ModerationPage() {
  const [shows, setShows] = useState<ShowSummary[]>([]);
  const [showId, setShowId] = useState<string>("");
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    get<{ items: ShowSummary[] }>(`/shows?limit=${SHOWS_MAX}`)
      .then((page) => {
        setShows(page.items);
        if (page.items[0]) setShowId(page.items[0].id);
      })
      .catch(setError);
  }, []);
  return (
    <>
      <h1>{tr("게시판 관리", "Board moderation")}</h1>
      <p class="muted">{tr("숨긴 글은 저장은 되지만 목록에 보이지 않습니다. 글을 지우는 API는 없습니다.", "A hidden post stays stored but is no longer listed. The API has no way to delete a post.")}</p>
      {error ? <p class="error" role="alert">{errorMessage(error)}</p> : null}
      <label>
        {tr("공연", "Show")}{" "}
        <select name="show" value={showId} onChange={(e) => setShowId((e.currentTarget as HTMLSelectElement).value)}>
          {shows.map((s) => (
            <option key={s.id} value={s.id}>
              {s.title}
            </option>
          ))}
        </select>
      </label>
      {showId ? (
        <>
          <Board title={tr("문의", "Questions")} path={`/shows/${showId}/questions`} testId="questions" />
          <Board title={tr("공연 공지", "Show notices")} path={`/shows/${showId}/notices`} testId="show-notices" />
        </>
      ) : null}
      <Board title={tr("플랫폼 공지", "Platform notices")} path="/notices" testId="platform-notices" />
    </>
  );
}
