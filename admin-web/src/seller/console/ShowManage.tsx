// `/seller/shows/:id`: a saved show — its banner (uploaded with a preview), its performances
// (more may be added while it is a draft), and publishing, with the API's 422 shown at its
// field. Once published: links to the board, the dashboard and the buyers' page.
import { useEffect, useState } from "preact/hooks";
import { useRoute } from "preact-iso";
import { API_BASE, ApiError, loadCredential, post, put } from "../../lib/api";
import { dateTime, won } from "../../lib/format";
import { tr } from "../../lib/i18n";
import { ErrorBox, Loading, useLoad } from "../../buyer/shop/load";
import { categoryName, regionName } from "../../buyer/shop/taxonomy";
import { get } from "../../lib/api";
import type { ShowDetail } from "./api-types";
import { Field, FieldMessage, FormError, control } from "./fields";
import { StatusBadge } from "./MyShows";
import { approvalNote } from "../approval";
import { loadSeller, seller } from "../session";
import { FeeSummary } from "./wizard/FeesStep";
import { forPerformance, performanceForm, type PerformanceDraft } from "./wizard/state";

/** The API's limit on a banner's size (`media::BANNER_BYTES_MAX`), checked here first so a
 * too-large file is refused before it is sent. */
const BANNER_BYTES_MAX = 2 * 1024 * 1024;
const BANNER_TYPES = ["image/png", "image/jpeg", "image/webp"];

/** The stored banner as an object URL (a draft's is only for its seller: the request carries
 * the token, which an `<img src>` cannot), or null when there is none. */
async function storedBanner(showId: string): Promise<string | null> {
  const token = loadCredential()?.token;
  const response = await fetch(`${API_BASE}/shows/${showId}/banner`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  if (!response.ok) return null;
  return URL.createObjectURL(await response.blob());
}

function BannerUpload({ showId }: { showId: string }) {
  const [preview, setPreview] = useState<string | null>(null);
  const [file, setFile] = useState<File | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    let url: string | null = null;
    void storedBanner(showId).then((stored) => {
      url = stored;
      if (stored) setPreview((current) => current ?? stored);
    });
    return () => {
      if (url) URL.revokeObjectURL(url);
    };
  }, [showId]);
  function choose(chosen: File | undefined) {
    setSaved(false);
    setError(null);
    if (!chosen) return;
    if (!BANNER_TYPES.includes(chosen.type)) {
      setError(new ApiError(415, "unsupported_media_type", chosen.type));
      return;
    }
    if (chosen.size > BANNER_BYTES_MAX) {
      setError(new ApiError(413, "too_large", String(chosen.size)));
      return;
    }
    setFile(chosen);
    setPreview(URL.createObjectURL(chosen));
  }
  async function upload() {
    if (!file) return;
    setBusy(true);
    setError(null);
    try {
      await put<void>(`/shows/${showId}/banner`, file, { headers: { "Content-Type": file.type } });
      setSaved(true);
      setFile(null);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  return (
    <section class="card">
      <h2>{tr("배너 이미지", "Banner")}</h2>
      <p class="muted">{tr("PNG, JPEG, WebP · 2MB 이하 · 가로세로 4,096px 이하", "PNG, JPEG or WebP, at most 2 MB and 4,096 px a side")}</p>
      {preview ? <img class="banner-preview" src={preview} alt={tr("배너 미리보기", "Banner preview")} data-testid="banner-preview" /> : <p class="muted">{tr("배너가 없습니다.", "No banner yet.")}</p>}
      <Field field="body" label={tr("이미지 파일", "Image file")} error={error}>
        <input {...control(error, "body")} type="file" accept={BANNER_TYPES.join(",")} onChange={(e) => choose(e.currentTarget.files?.[0])} data-testid="banner-file" />
      </Field>
      {error instanceof ApiError && error.code !== "invalid_request" && <ErrorBox error={error} />}
      <div class="actions">
        <button type="button" disabled={!file || busy} onClick={upload} data-testid="banner-upload">
          {tr("배너 올리기", "Upload the banner")}
        </button>
        {saved && (
          <span class="ok" role="status" data-testid="banner-saved">
            {tr("배너를 저장했습니다.", "Banner saved.")}
          </span>
        )}
      </div>
    </section>
  );
}

function AddPerformance({ showId, onAdded }: { showId: string; onAdded: () => void }) {
  const [performance, setPerformance] = useState<PerformanceDraft>({ starts: "", open: "", close: "" });
  const [error, setError] = useState<unknown>(null);
  const field = (name: string) => `performances[0].${name}`;
  async function add(event: Event) {
    event.preventDefault();
    setError(null);
    try {
      await post(`/shows/${showId}/performances`, performanceForm(performance, 0));
      setPerformance({ starts: "", open: "", close: "" });
      onAdded();
    } catch (e) {
      setError(forPerformance(e, 0));
    }
  }
  return (
    <form class="card" onSubmit={add} noValidate>
      <h3>{tr("회차 추가", "Add a performance")}</h3>
      <div class="row">
        <Field field={field("starts_at_ms")} label={tr("공연 시작 (한국 시간)", "Starts (Korea time)")} error={error}>
          <input {...control(error, field("starts_at_ms"))} type="datetime-local" value={performance.starts} onInput={(e) => setPerformance({ ...performance, starts: e.currentTarget.value })} />
        </Field>
        <Field field={field("sale_open_at_ms")} label={tr("예매 오픈", "Sale opens")} error={error}>
          <input {...control(error, field("sale_open_at_ms"))} type="datetime-local" value={performance.open} onInput={(e) => setPerformance({ ...performance, open: e.currentTarget.value })} />
        </Field>
        <Field field={field("sale_close_at_ms")} label={tr("예매 마감 (비우면 공연 시작)", "Sale closes (empty: at the start)")} error={error}>
          <input {...control(error, field("sale_close_at_ms"))} type="datetime-local" value={performance.close} onInput={(e) => setPerformance({ ...performance, close: e.currentTarget.value })} />
        </Field>
      </div>
      <FormError error={error} />
      <button type="submit" class="secondary">
        {tr("회차 추가", "Add")}
      </button>
    </form>
  );
}

export function ShowManagePage() {
  const { params, query } = useRoute();
  const id = params.id;
  const show = useLoad(() => get<ShowDetail>(`/shows/${id}`), [id]);
  const [publishError, setPublishError] = useState<unknown>(null);
  const [publishing, setPublishing] = useState(false);
  async function publish() {
    setPublishing(true);
    setPublishError(null);
    try {
      await post(`/shows/${id}/publish`);
      show.reload();
    } catch (e) {
      setPublishError(e);
      // An admin may have suspended (or approved) the company since the console loaded it.
      if (e instanceof ApiError && e.code === "company_not_approved") void loadSeller();
    } finally {
      setPublishing(false);
    }
  }
  if (show.error) return <ErrorBox error={show.error} />;
  const data = show.data;
  if (!data) return <Loading />;
  const draft = data.status !== "published";
  // Admins publish any company's show the API allows; a seller's own company must be approved.
  const blocked = approvalNote(seller.value?.company?.approval);
  return (
    <section>
      <div class="row" style="align-items: center">
        <h1 style="flex: 1 1 auto">{data.title}</h1>
        <StatusBadge status={data.status} />
      </div>
      {query.saved === "1" && draft && (
        <p class="notice" role="status">
          {tr("초안을 저장했습니다. 배너를 올리고 판매를 공개하세요.", "The draft is saved. Upload a banner and publish it.")}
        </p>
      )}
      <p class="muted">
        {categoryName(data.category)} · {regionName(data.region)} · {tr(`${data.running_minutes}분`, `${data.running_minutes} min`)} · {data.grades.map((g) => `${g.code} ${won(g.price_won)}`).join(", ")}
      </p>
      <nav class="links">
        <a href={`/seller/shows/${id}/board`}>{tr("게시판 (공지 · 문의)", "Board (notices · questions)")}</a>{" "}
        {!draft && <a href={`/seller/shows/${id}/dashboard`}>{tr("실시간 대시보드", "Live dashboard")}</a>}{" "}
        {!draft && <a href={`/shows/${id}`}>{tr("예매 페이지 보기", "Open the buyers' page")}</a>}
      </nav>
      <BannerUpload showId={id} />
      <section class="card">
        <h2>{tr("회차", "Performances")}</h2>
        {data.performances.length === 0 ? (
          <p class="muted">{tr("회차가 없습니다. 공개하려면 하나 이상 필요합니다.", "No performances yet; publishing needs at least one.")}</p>
        ) : (
          <table class="list" data-testid="performances">
            <thead>
              <tr>
                <th>{tr("공연 시작", "Starts")}</th>
                <th>{tr("예매 오픈", "Sale opens")}</th>
                <th>{tr("예매 마감", "Sale closes")}</th>
              </tr>
            </thead>
            <tbody>
              {data.performances.map((p) => (
                <tr key={p.id}>
                  <td>{dateTime(p.starts_at_ms)}</td>
                  <td>{dateTime(p.sale_open_at_ms)}</td>
                  <td>{dateTime(p.sale_close_at_ms)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {draft && <AddPerformance showId={id} onAdded={show.reload} />}
      </section>
      <section class="card">
        <h2>{tr("취소 수수료", "Cancellation fees")}</h2>
        <FeeSummary fees={data.cancellation.fees} />
      </section>
      {draft ? (
        <section class="card">
          <h2>{tr("판매 공개", "Publish")}</h2>
          <p>{tr("공개하면 예매 페이지에 나타나고, 각 회차의 예매 오픈 시각에 판매가 시작됩니다. 공개 후에는 회차와 등급을 바꿀 수 없습니다.", "Once published the show is listed and each performance's sale opens at its time. Performances and grades are then fixed.")}</p>
          <FieldMessage error={publishError} field="performances" />
          <FieldMessage error={publishError} field="grades" />
          {!(publishError instanceof ApiError && publishError.code === "invalid_request") && <FormError error={publishError} />}
          {blocked ? (
            <p class="field-error" id="publish-blocked" data-testid="publish-blocked">
              {blocked}
            </p>
          ) : null}
          <button type="button" onClick={publish} disabled={publishing || blocked !== null} aria-describedby={blocked ? "publish-blocked" : undefined} data-testid="publish">
            {tr("판매 공개하기", "Publish")}
          </button>
        </section>
      ) : (
        <p class="notice" data-testid="published-notice">
          {tr("판매 공개 중입니다.", "On sale.")}
        </p>
      )}
    </section>
  );
}
