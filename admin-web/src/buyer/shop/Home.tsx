// `/`: browse and search published shows (category, region, dates, title words), each with its
// banner and the places left per grade of its performances, a page at a time.
import { useEffect, useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { get } from "../../lib/api";
import { tr } from "../../lib/i18n";
import { count, date, won } from "../../lib/format";
import type { Page, ShowDetail, ShowListItem } from "./api-types";
import { ErrorBox, Loading, kstDayStartMs, useLoad } from "./load";
import { CATEGORIES, REGIONS, categoryName, regionName } from "./taxonomy";

/** Shows asked for per page. */
const SHOWS_PER_PAGE = 12;
const DAY_MS = 86_400_000;

function browsePath(query: Record<string, string>, cursor: string | null): string {
  const params = new URLSearchParams();
  if (query.category) params.set("category", query.category);
  if (query.region) params.set("region", query.region);
  if (query.q) params.set("q", query.q);
  const from = query.from ? kstDayStartMs(query.from) : null;
  const to = query.to ? kstDayStartMs(query.to) : null;
  if (from !== null) params.set("from_ms", String(from));
  // The end date is inclusive: up to the last ms of that Korean day.
  if (to !== null) params.set("to_ms", String(to + DAY_MS - 1));
  params.set("limit", String(SHOWS_PER_PAGE));
  if (cursor) params.set("cursor", cursor);
  return `/shows?${params}`;
}

export function Home() {
  const { query, route } = useLocation();
  const key = JSON.stringify([query.category, query.region, query.q, query.from, query.to]);
  const first = useLoad(() => get<Page<ShowListItem>>(browsePath(query, null)), [key]);
  const [more, setMore] = useState<ShowListItem[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [moreError, setMoreError] = useState<unknown>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  useEffect(() => {
    setMore([]);
    setCursor(first.data?.next_cursor ?? null);
  }, [first.data]);

  async function loadMore() {
    if (!cursor) return;
    setLoadingMore(true);
    try {
      const page = await get<Page<ShowListItem>>(browsePath(query, cursor));
      setMore((m) => [...m, ...page.items]);
      setCursor(page.next_cursor);
      setMoreError(null);
    } catch (e) {
      setMoreError(e);
    } finally {
      setLoadingMore(false);
    }
  }

  function search(event: Event) {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const params = new URLSearchParams();
    for (const name of ["q", "category", "region", "from", "to"]) {
      const value = String(form.get(name) ?? "").trim();
      if (value) params.set(name, value);
    }
    const text = params.toString();
    route(text ? `/?${text}` : "/");
  }

  const shows = [...(first.data?.items ?? []), ...more];
  return (
    <section>
      <h1>{tr("공연 둘러보기", "Browse shows")}</h1>
      <form class="filters" role="search" onSubmit={search} key={key}>
        <div class="wide">
          <label for="q">{tr("공연 이름", "Title")}</label>
          <input id="q" name="q" type="search" defaultValue={query.q ?? ""} placeholder={tr("예: 레미제라블", "e.g. Les Misérables")} />
        </div>
        <div>
          <label for="category">{tr("장르", "Category")}</label>
          <select id="category" name="category" defaultValue={query.category ?? ""}>
            <option value="">{tr("전체", "All")}</option>
            {Object.keys(CATEGORIES).map((c) => (
              <option value={c}>{categoryName(c)}</option>
            ))}
          </select>
        </div>
        <div>
          <label for="region">{tr("지역", "Region")}</label>
          <select id="region" name="region" defaultValue={query.region ?? ""}>
            <option value="">{tr("전체", "All")}</option>
            {Object.keys(REGIONS).map((r) => (
              <option value={r}>{regionName(r)}</option>
            ))}
          </select>
        </div>
        <div>
          <label for="from">{tr("공연일 (부터)", "From date")}</label>
          <input id="from" name="from" type="date" defaultValue={query.from ?? ""} />
        </div>
        <div>
          <label for="to">{tr("공연일 (까지)", "To date")}</label>
          <input id="to" name="to" type="date" defaultValue={query.to ?? ""} />
        </div>
        <div class="wide row">
          <button type="submit">{tr("검색", "Search")}</button>
          {key !== JSON.stringify([undefined, undefined, undefined, undefined, undefined]) && (
            <a class="button secondary" href="/">
              {tr("필터 지우기", "Clear filters")}
            </a>
          )}
        </div>
      </form>
      <ErrorBox error={first.error} />
      {first.loading && !first.data ? (
        <Loading />
      ) : (
        <>
          <p class="muted" aria-live="polite">
            {shows.length === 0 ? tr("조건에 맞는 공연이 없습니다.", "No shows match.") : tr(`공연 ${count(shows.length)}개`, `${count(shows.length)} shows`)}
          </p>
          <ul class="cards" data-testid="show-list">
            {shows.map((show) => (
              <ShowCard key={show.id} show={show} />
            ))}
          </ul>
        </>
      )}
      <ErrorBox error={moreError} />
      {cursor && (
        <button type="button" class="secondary" onClick={loadMore} disabled={loadingMore}>
          {loadingMore ? tr("불러오는 중…", "Loading…") : tr("더 보기", "Show more")}
        </button>
      )}
    </section>
  );
}

/** Places left per grade over the performances still to come (null: not known yet). */
function leftPerGrade(detail: ShowDetail): { grade: string; price_won: number; left: number | null }[] {
  const now = Date.now();
  const upcoming = detail.performances.filter((p) => p.starts_at_ms > now && !p.cancelled);
  const first = detail.performances[0]?.grades ?? [];
  return first.map((g, i) => {
    let left: number | null = 0;
    for (const p of upcoming) {
      const n = p.grades[i]?.left;
      if (n === null || n === undefined) left = null;
      else if (left !== null) left += n;
    }
    return { grade: g.grade, price_won: g.price_won, left };
  });
}

export function Banner(props: { show: string; title: string }) {
  const [failed, setFailed] = useState(false);
  // The box keeps its 16:9 place whether or not a banner loads, so the list does not jump.
  if (failed) return <div class="banner" aria-hidden="true" />;
  return <img class="banner" src={`/api/v2/shows/${props.show}/banner`} alt="" loading="lazy" onError={() => setFailed(true)} />;
}

function ShowCard(props: { show: ShowListItem }) {
  const { show } = props;
  const detail = useLoad(() => get<ShowDetail>(`/shows/${show.id}`), [show.id]);
  const dates = detail.data?.performances.map((p) => p.starts_at_ms) ?? [];
  return (
    <li class="card" data-testid="show-card">
      <a class="cover" href={`/shows/${show.id}`}>
        <Banner show={show.id} title={show.title} />
        <div class="body">
          <h2>{show.title}</h2>
          <ul class="tags">
            <li class="tag">{categoryName(show.category)}</li>
            <li class="tag">{regionName(show.region)}</li>
            {dates.length > 0 && (
              <li class="tag">
                {date(Math.min(...dates))}
                {dates.length > 1 ? ` – ${date(Math.max(...dates))}` : ""}
              </li>
            )}
          </ul>
          {detail.data && (
            <ul class="grades" aria-label={tr("등급별 잔여석", "Places left per grade")}>
              {leftPerGrade(detail.data).map((g) => (
                <li>
                  <span>
                    {g.grade} · {won(g.price_won)}
                  </span>
                  <span class={g.left === 0 ? "left-none" : ""}>
                    {g.left === null ? tr("확인 중", "checking") : g.left === 0 ? tr("매진", "Sold out") : tr(`${count(g.left)}석`, `${count(g.left)} left`)}
                  </span>
                </li>
              ))}
            </ul>
          )}
        </div>
      </a>
    </li>
  );
}
