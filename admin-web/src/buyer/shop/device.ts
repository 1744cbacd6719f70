// What this device keeps for its tickets, in IndexedDB so that the QR ticket opens with no
// network (docs/protocol.md "Ticket codes" → "Over HTTP"): the device's key pair, whose public
// half the API binds each ticket to (`POST /tickets/{id}/device`), and each ticket as the API
// gave it to this device, its secret included. Secrets never leave the device again.
import type { TicketSecret } from "../../lib/ticket-code";

const DB_NAME = "picket";
const DB_VERSION = 1;
const STORE = "kv";
const DEVICE_KEY = "device";
/** Tickets kept on one device; the oldest performances are dropped past it. */
export const TICKETS_KEPT_MAX = 200;

/** A ticket as `GET /api/v2/tickets/{id}` answers it (the fields the app shows and signs with). */
export interface TicketView {
  ticket: string;
  performance: string;
  booking: string;
  starts_at_ms: number;
  place: string;
  grade: string;
  discount: { label: string; proof_at_entry: boolean } | null;
  gates: string[];
  cancelled: boolean;
  static_code_allowed: boolean;
  code: { format: string; step_ms: number; generation: number; mac_key: string; seal: string };
  device: { public_key: string; bound_at_ms: number } | null;
  rebinds: number;
  rebinds_max: number;
}

/** What the device keeps of a ticket: the view, the show's title and the server clock's offset. */
export interface KeptTicket {
  view: TicketView;
  title: string | null;
  /** Server time minus this device's time, ms, when it was fetched (0 when within a few s). */
  clockOffsetMs: number;
  savedAtMs: number;
}

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, DB_VERSION);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function withStore<T>(mode: IDBTransactionMode, act: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const request = act(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

const getItem = <T>(key: string) => withStore<T | undefined>("readonly", (s) => s.get(key) as IDBRequest<T | undefined>);
const putItem = (key: string, value: unknown) => withStore("readwrite", (s) => s.put(value, key));

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

interface DeviceKey {
  publicKey: string;
  /** The private half, not extractable; kept for proving the device later, never sent. */
  privateKey: CryptoKey | null;
}

/** This device's Ed25519 public key (base64url, 43 characters), made once and kept. */
export async function devicePublicKey(): Promise<string> {
  const kept = await getItem<DeviceKey>(DEVICE_KEY);
  if (kept) return kept.publicKey;
  let made: DeviceKey;
  try {
    const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"])) as CryptoKeyPair;
    const raw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
    made = { publicKey: base64url(raw), privateKey: pair.privateKey };
  } catch {
    // Browsers without WebCrypto Ed25519: 32 random bytes still name this device uniquely,
    // which is all the binding needs (the app signs nothing with the key).
    made = { publicKey: base64url(crypto.getRandomValues(new Uint8Array(32))), privateKey: null };
  }
  await putItem(DEVICE_KEY, made);
  return made.publicKey;
}

export async function keptTicket(ticket: string): Promise<KeptTicket | undefined> {
  return getItem<KeptTicket>(`ticket:${ticket}`);
}

export async function keepTicket(kept: KeptTicket): Promise<void> {
  await putItem(`ticket:${kept.view.ticket}`, kept);
  const keys = (await withStore("readonly", (s) => s.getAllKeys())) as string[];
  const tickets = keys.filter((k) => k.startsWith("ticket:"));
  if (tickets.length > TICKETS_KEPT_MAX) {
    const all = await Promise.all(tickets.map((k) => getItem<KeptTicket>(k)));
    const oldest = all
      .filter((t): t is KeptTicket => !!t)
      .sort((a, b) => a.view.starts_at_ms - b.view.starts_at_ms)
      .slice(0, tickets.length - TICKETS_KEPT_MAX);
    for (const t of oldest) await withStore("readwrite", (s) => s.delete(`ticket:${t.view.ticket}`));
  }
}

/** The secret `rotatingCode` signs with. */
export function secretOf(view: TicketView): TicketSecret {
  return {
    performance: view.performance,
    ticket: view.ticket,
    generation: view.code.generation,
    macKey: view.code.mac_key,
    seal: view.code.seal,
  };
}
