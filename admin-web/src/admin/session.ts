// The signed-in admin. The API has one kind of session and tells admins apart by the account's
// role, so the token is kept like a member's (`saveCredential`, kind "member"); an account of
// another role is refused by the page (and by every admin route of the API).
import { signal } from "@preact/signals";
import { ApiError, del, get, loadCredential, post, saveCredential } from "../lib/api";

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

/** Who is signed in on this device; `undefined` while not known yet, `null` when nobody. */
export const admin = signal<Account | null | undefined>(undefined);

export async function loadAdmin(): Promise<void> {
  if (loadCredential()?.kind !== "member") {
    admin.value = null;
    return;
  }
  try {
    admin.value = await get<Account>("/me");
  } catch (error) {
    // A session that ended is forgotten; any other failure leaves the token for a retry.
    if (error instanceof ApiError && error.status === 401) saveCredential(null);
    admin.value = null;
  }
}

export async function signIn(email: string, password: string): Promise<Account> {
  const session = await post<SessionView>("/sessions", { email, password }, { token: null });
  saveCredential({ kind: "member", token: session.token });
  admin.value = session.account;
  return session.account;
}

export async function signOut(): Promise<void> {
  try {
    await del<void>("/sessions/current");
  } catch {
    // Signed out on this device whatever the server said: the token is dropped below.
  }
  saveCredential(null);
  admin.value = null;
}
