// The email + password sign-in form the seller console and the admin dashboard share: each page
// passes its heading, its own sign-in (which checks the role) and the path prefix it may return to.
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { tr } from "../../lib/i18n";
import { Field, FormError, control } from "./fields";

/** Where to go after signing in: `?next=` when it is a path under `home`, else `home`. */
export function nextPath(query: Record<string, string>, home: string): string {
  const next = query.next ?? "";
  return next.startsWith(home) ? next : home;
}

export function SignInForm(props: {
  heading: string;
  /** The page's root, e.g. `/seller/`; `?next=` is followed only below it. */
  home: string;
  signIn: (email: string, password: string) => Promise<unknown>;
  /** Links beside the submit button (e.g. to sign up). */
  children?: ComponentChildren;
}) {
  const { query, route } = useLocation();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  async function submit(event: Event) {
    event.preventDefault();
    const data = new FormData(event.currentTarget as HTMLFormElement);
    setBusy(true);
    setError(null);
    try {
      await props.signIn(String(data.get("email") ?? "").trim(), String(data.get("password") ?? ""));
      route(nextPath(query, props.home));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  return (
    <section class="narrow">
      <h1>{props.heading}</h1>
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
          {props.children}
        </div>
      </form>
    </section>
  );
}
