// The signed-in seller: the account and its company. The token is kept like a member's, with
// `saveCredential` (`picket.credential`, kind "member"): the API has one kind of session and
// tells sellers apart by the account's role, so signing in here also signs the buyer app in as
// that account on this device.
import { signal } from "@preact/signals";
import { ApiError, del, get, loadCredential, post, saveCredential } from "../lib/api";

export interface Account {
  id: string;
  email: string;
  name: string;
  phone: string | null;
  role: string;
}

export interface Company {
  id: string;
  name: string;
  business_number: string;
  contact_email: string;
  contact_phone: string;
  /** Only an approved company publishes shows (an admin approves or suspends it). */
  approval: "pending" | "approved" | "suspended";
}

export interface Seller {
  account: Account;
  /** `null` for an account that is not a seller's (a member, staff): the console refuses it. */
  company: Company | null;
}

interface SessionView {
  token: string;
  expires_at_ms: number;
  account: Account;
}

/** Who is signed in on this device; `undefined` while not known yet, `null` when nobody. */
export const seller = signal<Seller | null | undefined>(undefined);

async function companyOf(account: Account): Promise<Company | null> {
  if (account.role !== "seller") return null;
  return get<Company>("/companies/mine");
}

/** Reads who the stored token belongs to and, for a seller, the company. */
export async function loadSeller(): Promise<void> {
  if (loadCredential()?.kind !== "member") {
    seller.value = null;
    return;
  }
  try {
    const account = await get<Account>("/me");
    seller.value = { account, company: await companyOf(account) };
  } catch (error) {
    // A session that ended is forgotten; any other failure leaves the token for a retry.
    if (error instanceof ApiError && error.status === 401) saveCredential(null);
    seller.value = null;
  }
}

export async function signIn(email: string, password: string): Promise<Seller> {
  const session = await post<SessionView>("/sessions", { email, password }, { token: null });
  saveCredential({ kind: "member", token: session.token });
  const signedIn = { account: session.account, company: await companyOf(session.account) };
  seller.value = signedIn;
  return signedIn;
}

export interface CompanySignUp {
  account: { email: string; password: string; name: string; phone?: string };
  company: { name: string; business_number: string; contact_email: string; contact_phone: string };
}

/** `POST /companies` (a seller account with its company), then signs that account in. */
export async function signUp(form: CompanySignUp): Promise<Seller> {
  await post<unknown>("/companies", form, { token: null });
  return signIn(form.account.email, form.account.password);
}

export async function signOut(): Promise<void> {
  try {
    await del<void>("/sessions/current");
  } catch {
    // Signed out on this device whatever the server said: the token is dropped below.
  }
  saveCredential(null);
  seller.value = null;
}
