// The signed-in member (or none), shared by the header and every page. The token itself is
// kept by `saveCredential` (src/lib/api.ts); this holds the account it belongs to.
import { signal } from "@preact/signals";
import { ApiError, del, get, loadCredential, post, saveCredential } from "../../lib/api";

export interface Account {
  id: string;
  email: string;
  name: string;
  phone: string | null;
  role: string;
}

interface SessionView {
  token: string;
  expires_at_ms: number;
  account: Account;
}

/** The member signed in on this device; `undefined` while not known yet. */
export const member = signal<Account | null | undefined>(undefined);

/** Reads who the stored member token belongs to (a guest's token is not a member). */
export async function loadMember(): Promise<void> {
  const credential = loadCredential();
  if (credential?.kind !== "member") {
    member.value = null;
    return;
  }
  try {
    member.value = await get<Account>("/me");
  } catch (error) {
    // A session that ended (expired, signed out elsewhere) is forgotten; a network failure is
    // not a reason to sign the member out of an app that works offline.
    if (error instanceof ApiError && error.status === 401) {
      saveCredential(null);
      member.value = null;
    } else {
      member.value = null;
    }
  }
}

export async function signIn(email: string, password: string): Promise<Account> {
  const session = await post<SessionView>("/sessions", { email, password }, { token: null });
  saveCredential({ kind: "member", token: session.token });
  member.value = session.account;
  return session.account;
}

export async function signUp(form: { email: string; password: string; name: string; phone?: string }): Promise<Account> {
  const body: Record<string, string> = { email: form.email, password: form.password, name: form.name };
  if (form.phone) body.phone = form.phone;
  await post<Account>("/accounts", body, { token: null });
  return signIn(form.email, form.password);
}

export async function signOut(): Promise<void> {
  try {
    await del<void>("/sessions/current");
  } catch {
    // Signed out on this device whatever the server said: the token is dropped below.
  }
  saveCredential(null);
  member.value = null;
}
