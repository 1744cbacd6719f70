// A ticket code as the door reads it (docs/protocol.md, "Ticket codes" → "The code"): the same
// parse as `picket_tickets::Code::parse`, so the scanner offline refuses exactly the texts the
// server refuses. Parsing is total: every string is a `Code` or `null` (the door's `forged`).

export const CODE_LEN = 68;
export const PREFIX_ROTATING = "PK1R";
export const PREFIX_PRINTED = "PK1P";
export const PAYLOAD_LEN = 40;
export const MAC_LEN = 10;
export const SEAL_LEN = 9;
export const MAC_KEY_LEN = 32;
/** One step of a rotating code: a new code every 15 s of Unix time. */
export const STEP_MS = 15_000;
/** A rotating code is accepted within its step ±1 of the door's. */
export const STEP_SKEW_MAX = 1;
/** Bytes the MAC covers after the prefix: payload bytes 0–29. */
const SIGNED_LEN = PAYLOAD_LEN - MAC_LEN;

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

export type CodeKind = "rotating" | "printed";

/** A parsed code. Its fields are claims until its MAC is checked against the ticket's key. */
export interface Code {
  kind: CodeKind;
  performance: bigint;
  ticket: bigint;
  generation: number;
  step: number;
  seal: Uint8Array;
  mac: Uint8Array;
  /** What the MAC signs: the prefix's 4 ASCII bytes and payload bytes 0–29. */
  signed: Uint8Array;
}

/** RFC 4648 base32, upper case, no padding, canonical (zero trailing bits); `null` otherwise. */
export function base32Decode(text: string): Uint8Array | null {
  if ([1, 3, 6].includes(text.length % 8)) return null;
  const bytes = new Uint8Array(Math.floor((text.length * 5) / 8));
  let buffer = 0;
  let bits = 0;
  let at = 0;
  for (const character of text) {
    const value = ALPHABET.indexOf(character);
    if (value < 0) return null;
    buffer = ((buffer << 5) | value) & 0x0fff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes[at++] = (buffer >> bits) & 0xff;
    }
  }
  if ((buffer & ((1 << bits) - 1)) !== 0) return null;
  return bytes;
}

function u64At(bytes: Uint8Array, at: number): bigint {
  return new DataView(bytes.buffer, bytes.byteOffset + at, 8).getBigUint64(0, false);
}

/** The code a text holds, or `null` when it is not exactly a v1 code. */
export function parseCode(text: string): Code | null {
  if (text.length !== CODE_LEN) return null;
  const prefix = text.slice(0, 4);
  const kind: CodeKind | null = prefix === PREFIX_ROTATING ? "rotating" : prefix === PREFIX_PRINTED ? "printed" : null;
  if (!kind) return null;
  const payload = base32Decode(text.slice(4));
  if (!payload || payload.length !== PAYLOAD_LEN) return null;
  const step = new DataView(payload.buffer, 17, 4).getUint32(0, false);
  if (kind === "printed" && step !== 0) return null;
  const signed = new Uint8Array(4 + SIGNED_LEN);
  signed.set(new TextEncoder().encode(prefix), 0);
  signed.set(payload.subarray(0, SIGNED_LEN), 4);
  return {
    kind,
    performance: u64At(payload, 0),
    ticket: u64At(payload, 8),
    generation: payload[16],
    step,
    seal: payload.slice(21, 30),
    mac: payload.slice(30, 40),
    signed,
  };
}

/** The step of a Unix time in ms. */
export function stepAt(nowMs: number): number {
  return Math.min(Math.floor(nowMs / STEP_MS), 0xffffffff);
}

export async function hmacSha256(key: Uint8Array, message: Uint8Array): Promise<Uint8Array> {
  const imported = await crypto.subtle.importKey("raw", key as BufferSource, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", imported, message as BufferSource));
}

/** Whether the code's MAC is the first 10 bytes of HMAC-SHA256(mac_key, prefix ‖ bytes 0–29). */
export async function macMatches(code: Code, macKey: Uint8Array): Promise<boolean> {
  const full = await hmacSha256(macKey, code.signed);
  // Compared without an early exit, as the server does.
  let difference = 0;
  for (let i = 0; i < MAC_LEN; i++) difference |= full[i] ^ code.mac[i];
  return difference === 0;
}
