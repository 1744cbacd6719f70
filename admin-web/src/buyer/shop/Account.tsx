// `/signup` and `/signin`: a member account with the interests its alerts follow
// (`PUT /api/v2/me/interests`), and the session kept with `saveCredential`.
import { useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { ApiError, put } from "../../lib/api";
import { errorMessage } from "../../lib/errors";
import { tr } from "../../lib/i18n";
import { signIn, signUp } from "./session";
import { CATEGORIES, REGIONS, categoryName, regionName } from "./taxonomy";

/** Where to go after signing in: a path on this site only. */
function nextPath(query: Record<string, string>): string {
  const next = query.next ?? "";
  return next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

function FieldMessage(props: { error: unknown; field: string; id: string }) {
  if (!(props.error instanceof ApiError)) return null;
  const found = props.error.errors.find((f) => f.field === props.field);
  return found ? (
    <p class="error" id={props.id}>
      {found.message}
    </p>
  ) : null;
}

export function SignUpPage() {
  const { query, route } = useLocation();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  async function submit(event: Event) {
    event.preventDefault();
    const data = new FormData(event.currentTarget as HTMLFormElement);
    setBusy(true);
    try {
      await signUp({
        email: String(data.get("email")),
        password: String(data.get("password")),
        name: String(data.get("name")),
        phone: String(data.get("phone") ?? "").trim() || undefined,
      });
      await put("/me/interests", {
        categories: data.getAll("categories").map(String),
        regions: data.getAll("regions").map(String),
      });
      route(nextPath(query));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  const invalid = (field: string) => error instanceof ApiError && error.errors.some((f) => f.field === field);
  return (
    <section>
      <h1>{tr("회원가입", "Sign up")}</h1>
      <form onSubmit={submit} noValidate={false}>
        <label for="su-email">{tr("이메일", "Email")}</label>
        <input id="su-email" name="email" type="email" autoComplete="email" required aria-invalid={invalid("email")} aria-describedby="su-email-error" />
        <FieldMessage error={error} field="email" id="su-email-error" />
        <label for="su-password">{tr("비밀번호 (8자 이상)", "Password (8 characters or more)")}</label>
        <input id="su-password" name="password" type="password" autoComplete="new-password" minLength={8} maxLength={128} required aria-invalid={invalid("password")} aria-describedby="su-password-error" />
        <FieldMessage error={error} field="password" id="su-password-error" />
        <label for="su-name">{tr("이름", "Name")}</label>
        <input id="su-name" name="name" autoComplete="name" maxLength={50} required aria-invalid={invalid("name")} aria-describedby="su-name-error" />
        <FieldMessage error={error} field="name" id="su-name-error" />
        <label for="su-phone">{tr("휴대폰 번호 (선택)", "Mobile number (optional)")}</label>
        <input id="su-phone" name="phone" type="tel" autoComplete="tel" placeholder="010-1234-5678" aria-invalid={invalid("phone")} aria-describedby="su-phone-error" />
        <FieldMessage error={error} field="phone" id="su-phone-error" />
        <fieldset class="checks">
          <legend>{tr("관심 장르 — 새 공연이 등록되면 알려드려요", "Categories you like — we tell you about new shows")}</legend>
          {Object.keys(CATEGORIES).map((c) => (
            <label>
              <input type="checkbox" name="categories" value={c} /> {categoryName(c)}
            </label>
          ))}
        </fieldset>
        <fieldset class="checks">
          <legend>{tr("관심 지역", "Regions you like")}</legend>
          {Object.keys(REGIONS).map((r) => (
            <label>
              <input type="checkbox" name="regions" value={r} /> {regionName(r)}
            </label>
          ))}
        </fieldset>
        {error ? (
          <p class="error" role="alert">
            {errorMessage(error)}
          </p>
        ) : null}
        <p>
          <button type="submit" disabled={busy}>
            {tr("가입하기", "Create account")}
          </button>
        </p>
      </form>
      <p>
        {tr("이미 회원이신가요? ", "Already a member? ")}
        <a href={`/signin${query.next ? `?next=${encodeURIComponent(query.next)}` : ""}`}>{tr("로그인", "Sign in")}</a>
      </p>
    </section>
  );
}

export function SignInPage() {
  const { query, route } = useLocation();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  async function submit(event: Event) {
    event.preventDefault();
    const data = new FormData(event.currentTarget as HTMLFormElement);
    setBusy(true);
    try {
      await signIn(String(data.get("email")), String(data.get("password")));
      route(nextPath(query));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  return (
    <section>
      <h1>{tr("로그인", "Sign in")}</h1>
      <form onSubmit={submit}>
        <label for="si-email">{tr("이메일", "Email")}</label>
        <input id="si-email" name="email" type="email" autoComplete="email" required />
        <label for="si-password">{tr("비밀번호", "Password")}</label>
        <input id="si-password" name="password" type="password" autoComplete="current-password" required />
        {error ? (
          <p class="error" role="alert">
            {errorMessage(error)}
          </p>
        ) : null}
        <p>
          <button type="submit" disabled={busy}>
            {tr("로그인", "Sign in")}
          </button>
        </p>
      </form>
      <p>
        <a href={`/signup${query.next ? `?next=${encodeURIComponent(query.next)}` : ""}`}>{tr("회원가입", "Sign up")}</a>
        {" · "}
        <a href="/guest">{tr("비회원 예매 조회", "Guest booking lookup")}</a>
      </p>
    </section>
  );
}
