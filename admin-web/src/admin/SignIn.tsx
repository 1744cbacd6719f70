// `/admin/signin`: an admin's session (`POST /api/v2/sessions`). Admin accounts are made with
// the operator token or by another admin (`POST /api/v2/admin/accounts`, role "admin").
import { useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { tr } from "../lib/i18n";
import { Field, FormError, control } from "../seller/console/fields";
import { signIn } from "./session";

/** Where to go after signing in: an admin path only. */
function nextPath(query: Record<string, string>): string {
  const next = query.next ?? "";
  return next.startsWith("/admin/") && !next.startsWith("//") ? next : "/admin/";
}

export function SignInPage() {
  const { query, route } = useLocation();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  async function submit(event: Event) {
    event.preventDefault();
    const data = new FormData(event.currentTarget as HTMLFormElement);
    setBusy(true);
    setError(null);
    try {
      await signIn(String(data.get("email") ?? "").trim(), String(data.get("password") ?? ""));
      route(nextPath(query));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  return (
    <section class="narrow">
      <h1>{tr("관리자 로그인", "Admin sign in")}</h1>
      <form onSubmit={submit}>
        <Field field="email" label={tr("이메일", "Email")} error={error}>
          <input {...control(error, "email")} name="email" type="email" required autoComplete="email" />
        </Field>
        <Field field="password" label={tr("비밀번호", "Password")} error={error}>
          <input {...control(error, "password")} name="password" type="password" required autoComplete="current-password" />
        </Field>
        <FormError error={error} />
        <div class="actions">
          <button type="submit" disabled={busy}>
            {tr("로그인", "Sign in")}
          </button>
        </div>
      </form>
    </section>
  );
}
