// `/seller/`: the company's shows, drafts and published, newest first, each with the way to
// its board and (once published) its dashboard; and the company's venues.
import { get } from "../../lib/api";
import { dateTime } from "../../lib/format";
import { tr } from "../../lib/i18n";
import { ErrorBox, Loading, useLoad } from "../../buyer/shop/load";
import { categoryName, regionName } from "../../buyer/shop/taxonomy";
import type { MyShow, MyVenue, Page } from "./api-types";

export function StatusBadge(props: { status: string }) {
  const published = props.status === "published";
  return (
    <span class={`status ${published ? "published" : "draft"}`} data-testid="show-status">
      {published ? tr("판매 공개", "Published") : tr("초안", "Draft")}
    </span>
  );
}

export function MyShowsPage() {
  const shows = useLoad(() => get<Page<MyShow>>("/companies/mine/shows?limit=50"), []);
  const venues = useLoad(() => get<Page<MyVenue>>("/companies/mine/venues?limit=50"), []);
  return (
    <section>
      <div class="row" style="align-items: center">
        <h1 style="flex: 1 1 auto">{tr("내 공연", "My shows")}</h1>
        <a class="button" href="/seller/shows/new" style="flex: 0 0 auto">
          {tr("+ 새 공연 등록", "+ Register a show")}
        </a>
      </div>
      <ErrorBox error={shows.error} />
      {shows.loading && !shows.data && <Loading />}
      {shows.data && shows.data.items.length === 0 && (
        <p class="notice">{tr("아직 등록한 공연이 없습니다. 첫 공연을 등록해 보세요.", "No shows yet. Register your first show.")}</p>
      )}
      {shows.data && shows.data.items.length > 0 && (
        <table class="list" data-testid="my-shows">
          <thead>
            <tr>
              <th>{tr("공연", "Show")}</th>
              <th>{tr("장르 · 지역", "Category · region")}</th>
              <th>{tr("첫 공연", "First performance")}</th>
              <th>{tr("상태", "Status")}</th>
              <th>{tr("관리", "Manage")}</th>
            </tr>
          </thead>
          <tbody>
            {shows.data.items.map((show) => (
              <tr key={show.id} data-show-id={show.id}>
                <td>
                  <a href={`/seller/shows/${show.id}`}>{show.title}</a>
                </td>
                <td>
                  {categoryName(show.category)} · {regionName(show.region)}
                </td>
                <td>{show.first_starts_at_ms != null ? dateTime(show.first_starts_at_ms) : "—"}</td>
                <td>
                  <StatusBadge status={show.status} />
                </td>
                <td class="links">
                  <a href={`/seller/shows/${show.id}`}>{tr("상세 · 공개", "Details · publish")}</a>{" "}
                  <a href={`/seller/shows/${show.id}/board`}>{tr("게시판", "Board")}</a>{" "}
                  {show.status === "published" && <a href={`/seller/shows/${show.id}/dashboard`}>{tr("대시보드", "Dashboard")}</a>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>{tr("공연장", "Venues")}</h2>
      <ErrorBox error={venues.error} />
      {venues.data && venues.data.items.length === 0 && (
        <p class="muted">{tr("등록한 공연장이 없습니다. 공연을 등록하며 만들 수 있습니다.", "No venues yet. You can create one while registering a show.")}</p>
      )}
      {venues.data && venues.data.items.length > 0 && (
        <ul data-testid="my-venues">
          {venues.data.items.map((venue) => (
            <li key={venue.id}>
              {venue.name} <span class="muted">({regionName(venue.region)} · {tr(`${venue.seats.toLocaleString("ko-KR")}석`, `${venue.seats.toLocaleString("en")} seats`)})</span>{" "}
              <a href={`/seller/venues/${venue.id}`} data-testid="edit-venue">{tr("배치도 편집", "Edit seat map")}</a>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
