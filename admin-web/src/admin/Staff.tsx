// `/admin/staff`: a venue-staff (or another admin's) account (`POST /api/v2/admin/accounts`),
// and assigning a staff account to a show so it may scan the show's tickets
// (`POST /api/v2/shows/{id}/staff`, which the show's seller or an admin may call).
import { useEffect, useState } from "preact/hooks";
import { get, post } from "../lib/api";
import { errorMessage } from "../lib/errors";
import { tr } from "../lib/i18n";
import { Field, FormError, control } from "../seller/console/fields";
import type { Account } from "./session";

/** Newest published shows the page offers to assign staff to (one page of `GET /shows`). */
const SHOWS_MAX = 20;

interface ShowSummary {
  id: string;
  title: string;
}

export function StaffPage() {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<Account | null>(null);
  const [shows, setShows] = useState<ShowSummary[]>([]);
  const [assignError, setAssignError] = useState<unknown>(null);
  const [assigned, setAssigned] = useState<string | null>(null);
  useEffect(() => {
    get<{ items: ShowSummary[] }>(`/shows?limit=${SHOWS_MAX}`)
      .then((page) => setShows(page.items))
      .catch(setAssignError);
  }, []);
  async function create(event: Event) {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    const text = (name: string) => String(data.get(name) ?? "").trim();
    setBusy(true);
    setError(null);
    setAssigned(null);
    try {
      const account = await post<Account>("/admin/accounts", {
        account: { email: text("email"), password: String(data.get("password") ?? ""), name: text("name"), phone: text("phone") || undefined },
        role: text("role"),
      });
      setCreated(account);
      form.reset();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  async function assign(event: Event) {
    event.preventDefault();
    if (!created) return;
    const data = new FormData(event.currentTarget as HTMLFormElement);
    const showId = String(data.get("show") ?? "");
    setAssignError(null);
    try {
      await post<void>(`/shows/${showId}/staff`, { account_id: created.id });
      setAssigned(shows.find((s) => s.id === showId)?.title ?? showId);
    } catch (e) {
      setAssignError(e);
    }
  }
  return (
    <section class="narrow">
      <h1>{tr("스태프 계정", "Staff accounts")}</h1>
      <form onSubmit={create} noValidate>
        <Field field="name" label={tr("이름", "Name")} error={error}>
          <input {...control(error, "name")} name="name" maxLength={50} required />
        </Field>
        <Field field="email" label={tr("로그인 이메일", "Sign-in email")} error={error}>
          <input {...control(error, "email")} name="email" type="email" required />
        </Field>
        <Field field="password" label={tr("비밀번호 (8자 이상)", "Password (8 characters or more)")} error={error}>
          <input {...control(error, "password")} name="password" type="password" minLength={8} maxLength={128} required autoComplete="new-password" />
        </Field>
        <Field field="phone" label={tr("휴대폰 (선택)", "Mobile (optional)")} error={error}>
          <input {...control(error, "phone")} name="phone" type="tel" placeholder="010-1234-5678" />
        </Field>
        <Field field="role" label={tr("역할", "Role")} error={error}>
          <select {...control(error, "role")} name="role">
            <option value="staff">{tr("현장 스태프 (입장 확인)", "Venue staff (scans tickets)")}</option>
            <option value="admin">{tr("관리자", "Admin")}</option>
          </select>
        </Field>
        <FormError error={error} />
        <div class="actions">
          <button type="submit" disabled={busy}>
            {tr("계정 만들기", "Create the account")}
          </button>
        </div>
      </form>
      {created ? (
        <div class="notice" role="status" data-testid="created-account">
          <p>
            {tr("계정을 만들었습니다", "Account created")}: <strong>{created.email}</strong> ({created.role})
          </p>
          {created.role === "staff" ? (
            <form onSubmit={assign}>
              <label>
                {tr("배정할 공연", "Assign to show")}{" "}
                <select name="show">
                  {shows.map((s) => (
                    <option key={s.id} value={s.id}>
                      {s.title}
                    </option>
                  ))}
                </select>
              </label>{" "}
              <button type="submit" disabled={shows.length === 0}>
                {tr("배정", "Assign")}
              </button>
            </form>
          ) : null}
          {assignError ? <p class="error" role="alert">{errorMessage(assignError)}</p> : null}
          {assigned ? <p data-testid="assigned">{tr(`${assigned}에 배정했습니다.`, `Assigned to ${assigned}.`)}</p> : null}
        </div>
      ) : null}
    </section>
  );
}
