// `/admin/sellers`: sellers' companies and their approval (`GET /api/v2/admin/companies`,
// `POST /api/v2/admin/companies/{id}/approval`). A pending or suspended company drafts shows but
// cannot publish them; approving lets it publish, suspending stops it again (its published shows
// stay on sale).
import { useEffect, useState } from "preact/hooks";
import { get, post } from "../lib/api";
import { errorMessage } from "../lib/errors";
import { count, date, dateTime } from "../lib/format";
import { tr } from "../lib/i18n";

/** Companies per page (the API's page limit). */
const COMPANIES_PER_PAGE = 50;

export type Approval = "pending" | "approved" | "suspended";

interface ListedCompany {
  id: string;
  name: string;
  business_number: string;
  contact_email: string;
  contact_phone: string;
  owner_email: string;
  created_at_ms: number;
  approval: Approval;
  approval_changed_at_ms: number | null;
  shows: number;
}

export function approvalLabel(approval: Approval): string {
  if (approval === "pending") return tr("승인 대기", "Pending");
  if (approval === "approved") return tr("승인됨", "Approved");
  return tr("정지됨", "Suspended");
}

const FILTERS: { value: "" | Approval; label: () => string }[] = [
  { value: "pending", label: () => tr("승인 대기", "Pending") },
  { value: "", label: () => tr("전체", "All") },
  { value: "approved", label: () => tr("승인됨", "Approved") },
  { value: "suspended", label: () => tr("정지됨", "Suspended") },
];

export function SellersPage() {
  const [filter, setFilter] = useState<"" | Approval>("");
  const [pages, setPages] = useState<ListedCompany[][]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [version, setVersion] = useState(0);
  const [busy, setBusy] = useState<string | null>(null);

  async function load(cursor: string | null) {
    const params = new URLSearchParams({ limit: String(COMPANIES_PER_PAGE) });
    if (filter) params.set("status", filter);
    if (cursor) params.set("cursor", cursor);
    const page = await get<{ items: ListedCompany[]; next_cursor: string | null }>(`/admin/companies?${params}`);
    setPages((p) => (cursor ? [...p, page.items] : [page.items]));
    setNext(page.next_cursor);
  }
  useEffect(() => {
    setError(null);
    load(null).catch(setError);
  }, [filter, version]);

  async function decide(company: ListedCompany, status: "approved" | "suspended") {
    setBusy(company.id);
    setError(null);
    try {
      await post(`/admin/companies/${company.id}/approval`, { status });
      setVersion((v) => v + 1);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  }

  const companies = pages.flat();
  return (
    <>
      <h1>{tr("판매자 승인", "Sellers")}</h1>
      <p class="muted">
        {tr(
          "승인 대기·정지된 회사는 공연 초안을 만들 수 있지만 공개할 수 없습니다. 정지해도 이미 공개된 공연의 판매는 계속됩니다.",
          "A pending or suspended company can draft shows but not publish them. Suspending keeps its published shows on sale.",
        )}
      </p>
      <div class="actions" role="group" aria-label={tr("상태로 거르기", "Filter by status")}>
        {FILTERS.map((f) => (
          <button key={f.value} type="button" class={filter === f.value ? "" : "secondary"} aria-pressed={filter === f.value} onClick={() => setFilter(f.value)}>
            {f.label()}
          </button>
        ))}
      </div>
      {error ? <p class="error" role="alert">{errorMessage(error)}</p> : null}
      {companies.length === 0 ? <p class="muted">{tr("해당하는 회사가 없습니다.", "No companies.")}</p> : null}
      <table class="list" data-testid="companies">
        <thead>
          <tr>
            <th scope="col">{tr("회사", "Company")}</th>
            <th scope="col">{tr("사업자등록번호", "Business number")}</th>
            <th scope="col">{tr("담당자", "Owner")}</th>
            <th scope="col">{tr("가입", "Joined")}</th>
            <th scope="col">{tr("공연", "Shows")}</th>
            <th scope="col">{tr("상태", "Status")}</th>
            <th scope="col">{tr("처리", "Action")}</th>
          </tr>
        </thead>
        <tbody>
          {companies.map((c) => (
            <tr key={c.id} data-testid={`company-${c.id}`}>
              <td>
                <strong>{c.name}</strong>
                <br />
                <span class="muted">
                  {c.contact_email} · {c.contact_phone}
                </span>
              </td>
              <td>{c.business_number.replace(/^(\d{3})(\d{2})(\d{5})$/, "$1-$2-$3")}</td>
              <td>{c.owner_email}</td>
              <td>{date(c.created_at_ms)}</td>
              <td>{count(c.shows)}</td>
              <td data-testid="company-approval">
                {approvalLabel(c.approval)}
                {c.approval_changed_at_ms ? <span class="muted"> · {dateTime(c.approval_changed_at_ms)}</span> : null}
              </td>
              <td style="white-space: nowrap">
                {c.approval !== "approved" ? (
                  <button type="button" disabled={busy === c.id} onClick={() => void decide(c, "approved")} data-testid="approve">
                    {tr("승인", "Approve")}
                  </button>
                ) : null}{" "}
                {c.approval !== "suspended" ? (
                  <button type="button" class="secondary" disabled={busy === c.id} onClick={() => void decide(c, "suspended")} data-testid="suspend">
                    {tr("정지", "Suspend")}
                  </button>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {next ? (
        <button type="button" class="secondary" onClick={() => load(next).catch(setError)}>
          {tr("더 보기", "More")}
        </button>
      ) : null}
    </>
  );
}
