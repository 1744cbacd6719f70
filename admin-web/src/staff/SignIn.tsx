// Signing venue staff in. The session is the scanner's own (see session.ts); an account that is
// not venue staff is told so here rather than at its first scan.

import { useState } from "preact/hooks";
import { ApiError } from "../lib/api";
import { errorMessage } from "../lib/errors";
import { tr } from "../lib/i18n";
import { signIn, signOut, signedOutBecause, session } from "./session";

function reasonText(reason: string | null): string | null {
  if (reason === "unauthenticated") return tr("로그인이 만료되었습니다. 다시 로그인하세요.", "Your session ended. Please sign in again.");
  if (reason === "forbidden") return tr("이 공연을 확인할 권한이 없습니다.", "This account may not scan that show.");
  if (reason === "not_staff") return tr("입장 확인 직원 계정이 아닙니다. 공연장에서 받은 직원 계정으로 로그인하세요.", "This is not a venue-staff account. Sign in with the staff account the venue gave you.");
  return null;
}

export function SignIn() {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(email.trim(), password);
      // The scanner lists the shows venue staff are assigned to: other accounts have none here.
      if (session.value?.account.role !== "staff") await signOut("not_staff");
    } catch (caught) {
      setError(
        caught instanceof ApiError && caught.code === "too_many_attempts" && caught.retryAfterSec
          ? `${errorMessage(caught)} (${tr(`${caught.retryAfterSec}초 후`, `in ${caught.retryAfterSec} s`)})`
          : errorMessage(caught),
      );
    } finally {
      setBusy(false);
    }
  }

  const notice = error ?? reasonText(signedOutBecause.value);
  return (
    <section class="staff-card" aria-labelledby="sign-in-title">
      <h1 id="sign-in-title">{tr("직원 로그인", "Staff sign-in")}</h1>
      <p class="muted">{tr("입장 확인은 공연에 배정된 직원 계정으로 합니다.", "Scan tickets with the staff account assigned to the show.")}</p>
      <form onSubmit={submit} noValidate>
        <label for="staff-email">{tr("이메일", "Email")}</label>
        <input
          id="staff-email"
          type="email"
          autoComplete="username"
          inputMode="email"
          required
          value={email}
          onInput={(e) => setEmail(e.currentTarget.value)}
        />
        <label for="staff-password">{tr("비밀번호", "Password")}</label>
        <input
          id="staff-password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
        {notice && (
          <p class="error" role="alert" data-testid="sign-in-error">
            {notice}
          </p>
        )}
        <button type="submit" class="wide" disabled={busy || !email || !password}>
          {busy ? tr("로그인 중…", "Signing in…") : tr("로그인", "Sign in")}
        </button>
      </form>
    </section>
  );
}
