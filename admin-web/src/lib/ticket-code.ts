// The rotating ticket code, made on the holder's device exactly as docs/protocol.md "Ticket
// codes (v1)" → "The code" specifies (`picket_tickets::Code` in Rust): a 40-byte payload
// (performance, ticket, generation, time step, seal, an 80-bit HMAC-SHA256 MAC) in RFC 4648
// base32 after the prefix `PK1R`. Only WebCrypto is used, so it works with no network.

/** Milliseconds per time step: a new code at :00, :15, :30 and :45 of each minute. */
export const STEP_MS = 15_000;
/** The prefix of a rotating code (a printed one is `PK1P`, made only by the server). */
export const ROTATING_PREFIX = "PK1R";
/** Characters in a code: the prefix and 64 base32 characters for 40 bytes. */
export const CODE_CHARS = 68;
const PAYLOAD_BYTES = 40;
const MAC_BYTES = 10;
const SEAL_BYTES = 9;
const MAC_KEY_BYTES = 32;
const BASE32_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** A ticket's secret as `GET /api/v2/tickets/{id}` gives it (`code`), with the ids it signs. */
export interface TicketSecret {
  performance: string;
  ticket: string;
  generation: number;
  /** 64 hex digits. */
  macKey: string;
  /** 18 hex digits. */
  seal: string;
}

/** The time step a moment (Unix ms) falls in. */
export function stepOf(ms: number): number {
  return Math.floor(ms / STEP_MS);
}

/** Milliseconds from `ms` until the next step starts (when the next code is due). */
export function msUntilNextStep(ms: number): number {
  return STEP_MS - (ms % STEP_MS);
}

export function hexToBytes(hex: string, expected: number): Uint8Array {
  if (hex.length !== expected * 2 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new Error(`expected ${expected} bytes of hex`);
  }
  const bytes = new Uint8Array(expected);
  for (let i = 0; i < expected; i++) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

/** RFC 4648 base32, upper case, no padding. */
export function base32(bytes: Uint8Array): string {
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += BASE32_ALPHABET[(buffer >> bits) & 31];
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32_ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
}

/** Writes a decimal id (a u64, kept as a string because JS numbers stop at 2^53) big-endian. */
function writeU64(view: DataView, offset: number, decimal: string): void {
  if (!/^\d{1,20}$/.test(decimal)) throw new Error("an id is 1 to 20 digits");
  const value = BigInt(decimal);
  if (value >= 1n << 64n) throw new Error("an id is a u64");
  view.setBigUint64(offset, value, false);
}

/** The 30 signed bytes: performance, ticket, generation, step, seal. */
export function payloadHead(secret: TicketSecret, step: number): Uint8Array {
  const head = new Uint8Array(30);
  const view = new DataView(head.buffer);
  writeU64(view, 0, secret.performance);
  writeU64(view, 8, secret.ticket);
  if (!Number.isInteger(secret.generation) || secret.generation < 0 || secret.generation > 255) {
    throw new Error("generation is one byte");
  }
  head[16] = secret.generation;
  view.setUint32(17, step >>> 0, false);
  head.set(hexToBytes(secret.seal, SEAL_BYTES), 21);
  return head;
}

/** The rotating code of `secret` at the moment `nowMs` (Unix ms). */
export async function rotatingCode(secret: TicketSecret, nowMs: number): Promise<string> {
  const head = payloadHead(secret, stepOf(nowMs));
  const prefix = new TextEncoder().encode(ROTATING_PREFIX);
  const message = new Uint8Array(prefix.length + head.length);
  message.set(prefix, 0);
  message.set(head, prefix.length);
  const key = await crypto.subtle.importKey(
    "raw",
    hexToBytes(secret.macKey, MAC_KEY_BYTES) as BufferSource,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, message as BufferSource));
  const payload = new Uint8Array(PAYLOAD_BYTES);
  payload.set(head, 0);
  payload.set(mac.subarray(0, MAC_BYTES), head.length);
  return ROTATING_PREFIX + base32(payload);
}
