// The staff member's session, kept apart from the buyer app's credential (`picket.credential`):
// a phone may be a member's own and the venue's scanner at once, and signing out of one must not
// sign out of the other. Every API call of the scanner passes this token explicitly.

import { signal } from "@preact/signals";
import { ApiError, del, get, post } from "../lib/api";

const SESSION_KEY = "picket.staff.session";
const DOOR_KEY = "picket.staff.door";

export interface StaffAccount {
  id: string;
  email: string;
  name: string;
  role: string;
}

export interface StaffSession {
  token: string;
  expires_at_ms: number;
  account: StaffAccount;
}

/** The performance and gate this scanner checks. */
export interface DoorChoice {
  show: string;
  title: string;
  performance: string;
  starts_at_ms: number;
  gate: number;
  gateLabel: string;
}

function load<T>(key: string): T | null {
  try {
    const raw = localStorage.getItem(key);
    return raw ? (JSON.parse(raw) as T) : null;
  } catch {
    return null;
  }
}

function store(key: string, value: unknown): void {
  if (value === null) localStorage.removeItem(key);
  else localStorage.setItem(key, JSON.stringify(value));
}

function liveSession(): StaffSession | null {
  const saved = load<StaffSession>(SESSION_KEY);
  return saved && saved.expires_at_ms > Date.now() ? saved : null;
}

export const session = signal<StaffSession | null>(liveSession());
export const door = signal<DoorChoice | null>(session.value ? load<DoorChoice>(DOOR_KEY) : null);
/** Why the scanner went back to sign-in (a session that ended), shown there. */
export const signedOutBecause = signal<string | null>(null);

export function chooseDoor(choice: DoorChoice | null): void {
  door.value = choice;
  store(DOOR_KEY, choice);
}

export async function signIn(email: string, password: string): Promise<void> {
  const created = await post<StaffSession>("/sessions", { email, password }, { token: null });
  session.value = created;
  signedOutBecause.value = null;
  store(SESSION_KEY, created);
}

/** Ends the session here, and on the server when it still answers. */
export async function signOut(reason: string | null = null): Promise<void> {
  const current = session.value;
  session.value = null;
  signedOutBecause.value = reason;
  store(SESSION_KEY, null);
  chooseDoor(null);
  if (current && reason !== "unauthenticated") {
    try {
      await del("/sessions/current", { token: current.token });
    } catch {
      // Signed out on this device already; the server's session expires by itself.
    }
  }
}

export function token(): string | null {
  return session.value?.token ?? null;
}

/** A GET with the staff token; a session the server no longer knows signs out here too. */
export async function staffGet<T>(path: string): Promise<T> {
  try {
    return await get<T>(path, { token: token() });
  } catch (error) {
    if (error instanceof ApiError && error.code === "unauthenticated") await signOut("unauthenticated");
    throw error;
  }
}
