// The offline manifest (docs/protocol.md, "The offline manifest"; `picket_tickets::Manifest`):
// `PKM1` ‖ Ed25519 signature ‖ postcard body, verified with the performance's public key before
// a byte of the body is read, then decoded and checked as the server's `Manifest::open` does.
// Each ticket's MAC key, holder and discount stay sealed until its code (which carries the seal)
// is presented.

import { hmacSha256, MAC_KEY_LEN } from "./code";

const MAGIC = new TextEncoder().encode("PKM1");
const SIGNATURE_LEN = 64;
const NONCE_LEN = 12;
const SEAL_KEY_LABEL = new TextEncoder().encode("picket ticket seal v1");
/** `picket_tickets::limits`: a scanner refuses any manifest past these and keeps the one it had. */
export const MANIFEST_BYTES_MAX = 64 << 20;
export const MANIFEST_TICKETS_MAX = 150_000;
export const MANIFEST_REVOKED_MAX = 300_000;
export const LABEL_LEN_MAX = 192;

export interface DoorRules {
  performance: bigint;
  doorsOpenMs: number;
  printedCodes: boolean;
  reentry: boolean;
}

export interface ManifestEntry {
  ticket: bigint;
  generation: number;
  grade: string;
  place: string;
  nonce: Uint8Array;
  sealed: Uint8Array;
}

export interface Manifest {
  rules: DoorRules;
  issuedAtMs: number;
  /** Valid tickets by id (decimal string). */
  tickets: Map<string, ManifestEntry>;
  revoked: Set<string>;
}

/** What an entry's seal opens to. */
export interface Opened {
  macKey: Uint8Array;
  holder: string;
  proof: string | null;
}

/** Why a manifest was refused (`ManifestError`), plus `unsupported`: no Ed25519 in this browser. */
export type ManifestProblem = "too_large" | "magic" | "signature" | "body" | "wrong_performance" | "invalid" | "unsupported";

export class ManifestError extends Error {
  readonly problem: ManifestProblem;
  constructor(problem: ManifestProblem) {
    super(`manifest refused: ${problem}`);
    this.problem = problem;
  }
}

/** Reads postcard: LEB128 varints for integers wider than a byte, one byte for `u8` and `bool`. */
class Reader {
  private at = 0;
  constructor(private readonly bytes: Uint8Array) {}

  get done(): boolean {
    return this.at === this.bytes.length;
  }

  get left(): number {
    return this.bytes.length - this.at;
  }

  byte(): number {
    if (this.at >= this.bytes.length) throw new ManifestError("body");
    return this.bytes[this.at++];
  }

  /** A u64 varint: at most 10 bytes, no bits past 64. */
  varint(): bigint {
    let value = 0n;
    for (let i = 0; i < 10; i++) {
      const byte = this.byte();
      if (i === 9 && byte > 1) throw new ManifestError("body");
      value |= BigInt(byte & 0x7f) << BigInt(7 * i);
      if ((byte & 0x80) === 0) return value;
    }
    throw new ManifestError("body");
  }

  /** A varint that must be an exact JavaScript number (times in ms, lengths). */
  number(): number {
    const value = this.varint();
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new ManifestError("body");
    return Number(value);
  }

  bool(): boolean {
    const byte = this.byte();
    if (byte > 1) throw new ManifestError("body");
    return byte === 1;
  }

  fixed(length: number): Uint8Array {
    if (this.left < length) throw new ManifestError("body");
    const slice = this.bytes.slice(this.at, this.at + length);
    this.at += length;
    return slice;
  }

  bytesWithLength(): Uint8Array {
    return this.fixed(this.number());
  }

  string(): string {
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(this.bytesWithLength());
    } catch (error) {
      if (error instanceof ManifestError) throw error;
      throw new ManifestError("body");
    }
  }

  /** A list's count, refused when even one byte an item could not fit. */
  count(max: number): number {
    const count = this.number();
    if (count > max || count > this.left) throw new ManifestError("invalid");
    return count;
  }
}

function hexBytes(hex: string): Uint8Array | null {
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) return null;
  const bytes = new Uint8Array(32);
  for (let i = 0; i < 32; i++) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

async function signatureHolds(publicKey: Uint8Array, signature: Uint8Array, signed: Uint8Array): Promise<boolean> {
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey("raw", publicKey as BufferSource, { name: "Ed25519" }, false, ["verify"]);
  } catch (error) {
    // A browser without Ed25519 in WebCrypto names the algorithm unsupported; a key that is not a
    // point is a bad signature.
    if (error instanceof DOMException && error.name === "NotSupportedError") throw new ManifestError("unsupported");
    return false;
  }
  return crypto.subtle.verify({ name: "Ed25519" }, key, signature as BufferSource, signed as BufferSource);
}

/** Verifies and decodes a downloaded manifest of `performance`; throws `ManifestError`. */
export async function openManifest(bytes: Uint8Array, publicKeyHex: string, performance: bigint): Promise<Manifest> {
  if (bytes.length > MANIFEST_BYTES_MAX) throw new ManifestError("too_large");
  if (bytes.length < MAGIC.length + SIGNATURE_LEN || MAGIC.some((b, i) => bytes[i] !== b)) throw new ManifestError("magic");
  const publicKey = hexBytes(publicKeyHex);
  if (!publicKey) throw new ManifestError("signature");
  const signature = bytes.subarray(MAGIC.length, MAGIC.length + SIGNATURE_LEN);
  const body = bytes.subarray(MAGIC.length + SIGNATURE_LEN);
  const signed = new Uint8Array(MAGIC.length + body.length);
  signed.set(MAGIC, 0);
  signed.set(body, MAGIC.length);
  if (!(await signatureHolds(publicKey, signature, signed))) throw new ManifestError("signature");
  const manifest = decodeBody(new Reader(body));
  if (manifest.rules.performance !== performance) throw new ManifestError("wrong_performance");
  return manifest;
}

function label(reader: Reader): string {
  const text = reader.string();
  if (new TextEncoder().encode(text).length > LABEL_LEN_MAX) throw new ManifestError("invalid");
  return text;
}

function decodeBody(reader: Reader): Manifest {
  const rules: DoorRules = {
    performance: reader.varint(),
    doorsOpenMs: reader.number(),
    printedCodes: reader.bool(),
    reentry: reader.bool(),
  };
  const issuedAtMs = reader.number();
  const tickets = new Map<string, ManifestEntry>();
  let previous = -1n;
  const ticketCount = reader.count(MANIFEST_TICKETS_MAX);
  for (let i = 0; i < ticketCount; i++) {
    const entry: ManifestEntry = {
      ticket: reader.varint(),
      generation: reader.byte(),
      grade: label(reader),
      place: label(reader),
      nonce: reader.fixed(NONCE_LEN),
      sealed: reader.bytesWithLength(),
    };
    // Ascending and unique, as the server's `Manifest::check` demands.
    if (entry.ticket <= previous) throw new ManifestError("invalid");
    previous = entry.ticket;
    tickets.set(entry.ticket.toString(), entry);
  }
  const revoked = new Set<string>();
  previous = -1n;
  const revokedCount = reader.count(MANIFEST_REVOKED_MAX);
  for (let i = 0; i < revokedCount; i++) {
    const ticket = reader.varint();
    if (ticket <= previous) throw new ManifestError("invalid");
    previous = ticket;
    revoked.add(ticket.toString());
  }
  if (!reader.done) throw new ManifestError("body");
  return { rules, issuedAtMs, tickets, revoked };
}

function associatedData(performance: bigint, ticket: bigint, generation: number): Uint8Array {
  const aad = new Uint8Array(21);
  aad.set(MAGIC, 0);
  const view = new DataView(aad.buffer);
  view.setBigUint64(4, performance, false);
  view.setBigUint64(12, ticket, false);
  aad[20] = generation;
  return aad;
}

/** Opens a ticket's sealed entry with the seal its code carries; `null` when the seal is not its. */
export async function openEntry(manifest: Manifest, entry: ManifestEntry, seal: Uint8Array): Promise<Opened | null> {
  const keyBytes = await hmacSha256(seal, SEAL_KEY_LABEL);
  const key = await crypto.subtle.importKey("raw", keyBytes as BufferSource, { name: "AES-GCM" }, false, ["decrypt"]);
  let plain: Uint8Array;
  try {
    plain = new Uint8Array(
      await crypto.subtle.decrypt(
        {
          name: "AES-GCM",
          iv: entry.nonce as BufferSource,
          additionalData: associatedData(manifest.rules.performance, entry.ticket, entry.generation) as BufferSource,
          tagLength: 128,
        },
        key,
        entry.sealed as BufferSource,
      ),
    );
  } catch {
    return null;
  }
  try {
    const reader = new Reader(plain);
    const macKey = reader.fixed(MAC_KEY_LEN);
    const holder = label(reader);
    const proof = reader.bool() ? label(reader) : null;
    return reader.done ? { macKey, holder, proof } : null;
  } catch {
    return null;
  }
}
