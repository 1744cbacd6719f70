// Deciding a scan with no network, by the same rules as the server: the checks of
// `picket_tickets::verify` in their order, then the book of who is inside
// (`picket_tickets::CheckIns` over `picket_ledger_core::door::DoorBook`): an entry while outside
// admits, an exit while inside lets out (only where the show allows re-entry), an entry while
// inside is `already_used` naming the entry that counts.

import { macMatches, parseCode, stepAt, STEP_SKEW_MAX } from "./code";
import { openEntry, type Manifest } from "./manifest";
import type { Direction, DoorResult } from "./protocol";

/** `picket_ledger_core::limits::SCANS_PER_TICKET_MAX`. */
export const SCANS_PER_TICKET_MAX = 64;

/** Where a scan was decided: online (by the server) or here offline (with its nonce). */
export type ScanSource = { online: true } | { online: false; scanner: string; nonce: string };

export interface BookScan {
  at_ms: number;
  gate: number;
  direction: Direction;
  source: ScanSource;
}

/** The server's order of scans: time, gate, direction (entry first), then source (online first). */
export function compareScans(a: BookScan, b: BookScan): number {
  if (a.at_ms !== b.at_ms) return a.at_ms - b.at_ms;
  if (a.gate !== b.gate) return a.gate - b.gate;
  if (a.direction !== b.direction) return a.direction === "entry" ? -1 : 1;
  if (a.source.online || b.source.online) return Number(!a.source.online) - Number(!b.source.online);
  return compareDecimal(a.source.scanner, b.source.scanner) || compareDecimal(a.source.nonce, b.source.nonce);
}

function compareDecimal(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The entry that holds a ticket inside, or `null` when it is outside. */
export function presence(scans: readonly BookScan[], reentry: boolean): BookScan | null {
  let inside: BookScan | null = null;
  for (const scan of scans) {
    if (scan.direction === "entry") inside ??= scan;
    else if (inside && reentry) inside = null;
  }
  return inside;
}

/** A verified code: what the door may admit, with what staff must check. */
export interface Verified {
  ticket: string;
  generation: number;
  printed: boolean;
  grade: string;
  place: string;
  holder: string;
  proof: string | null;
}

type Refused = Exclude<DoorResult, { result: "admitted" | "exited" | "already_used" | "proof_required" }>;

/** Checks a code against the manifest in the server's order; a refusal or the verified ticket. */
export async function verifyOffline(text: string, nowMs: number, manifest: Manifest): Promise<Verified | Refused> {
  const code = parseCode(text);
  if (!code) return { result: "forged" };
  if (code.performance !== manifest.rules.performance) return { result: "wrong_performance" };
  const id = code.ticket.toString();
  if (manifest.revoked.has(id)) return { result: "revoked" };
  const entry = manifest.tickets.get(id);
  if (!entry) return { result: "forged" };
  if (code.generation < entry.generation) return { result: "revoked" };
  if (code.generation > entry.generation) return { result: "forged" };
  const opened = await openEntry(manifest, entry, code.seal);
  if (!opened || !(await macMatches(code, opened.macKey))) return { result: "forged" };
  if (code.kind === "printed" && !manifest.rules.printedCodes) return { result: "revoked" };
  if (nowMs < manifest.rules.doorsOpenMs) return { result: "not_yet_open" };
  if (code.kind === "rotating" && Math.abs(stepAt(nowMs) - code.step) > STEP_SKEW_MAX) return { result: "code_expired" };
  return {
    ticket: id,
    generation: code.generation,
    printed: code.kind === "printed",
    grade: entry.grade,
    place: entry.place,
    holder: opened.holder,
    proof: opened.proof,
  };
}

/** A scan this scanner decided offline, queued for `POST /performances/{id}/door/uploads`. */
export interface PendingScan {
  ticket: string;
  generation: number;
  at_ms: number;
  gate: number;
  direction: Direction;
  nonce: string;
}

/** An exit the book did not record (the online stream's `ledger_rejected` reasons). */
export type ExitRefusal = "no_reentry" | "not_inside" | "too_many_scans";

/** One performance's check-ins on this device: the scans it decided or saw admitted online. */
export class DoorBook {
  readonly reentry: boolean;
  private readonly scans = new Map<string, BookScan[]>();

  constructor(reentry: boolean, saved: [string, BookScan[]][] = []) {
    this.reentry = reentry;
    for (const [ticket, scans] of saved) this.scans.set(ticket, [...scans].sort(compareScans));
  }

  /** What to keep in IndexedDB. */
  entries(): [string, BookScan[]][] {
    return [...this.scans.entries()];
  }

  scansOf(ticket: string): readonly BookScan[] {
    return this.scans.get(ticket) ?? [];
  }

  /** The only change: one scan, kept in the server's order. */
  record(ticket: string, scan: BookScan): void {
    const scans = this.scans.get(ticket) ?? [];
    const at = scans.findIndex((s) => compareScans(s, scan) > 0);
    scans.splice(at < 0 ? scans.length : at, 0, scan);
    this.scans.set(ticket, scans);
  }

  /** A live entry: `null` to admit, or the entry that counts (`already_used`). */
  entryRefusal(ticket: string): { at_ms: number; gate: number } | null {
    const scans = this.scansOf(ticket);
    const inside = presence(scans, this.reentry);
    if (inside) return { at_ms: inside.at_ms, gate: inside.gate };
    if (scans.length >= SCANS_PER_TICKET_MAX) {
      // As the ledger: a full ticket answers with its last entry (or its last scan).
      const last = [...scans].reverse().find((s) => s.direction === "entry") ?? scans[scans.length - 1];
      return { at_ms: last.at_ms, gate: last.gate };
    }
    return null;
  }

  exitRefusal(ticket: string): ExitRefusal | null {
    if (!this.reentry) return "no_reentry";
    if (!presence(this.scansOf(ticket), this.reentry)) return "not_inside";
    if (this.scansOf(ticket).length >= SCANS_PER_TICKET_MAX) return "too_many_scans";
    return null;
  }
}

/** What an offline scan decided: the result to show, and the scan to queue when one was made. */
export interface OfflineDecision {
  result: DoorResult | { result: ExitRefusal };
  pending: PendingScan | null;
}

export interface OfflineScanInput {
  code: string;
  gate: number;
  direction: Direction;
  proofChecked: boolean;
  nowMs: number;
  scanner: string;
  nonce: string;
}

/** Decides a scan from the manifest and the book, recording it in the book when it admits. */
export async function decideOffline(manifest: Manifest, book: DoorBook, input: OfflineScanInput): Promise<OfflineDecision> {
  const verified = await verifyOffline(input.code, input.nowMs, manifest);
  if ("result" in verified) return { result: verified, pending: null };
  const scan: BookScan = {
    at_ms: input.nowMs,
    gate: input.gate,
    direction: input.direction,
    source: { online: false, scanner: input.scanner, nonce: input.nonce },
  };
  const pending: PendingScan = {
    ticket: verified.ticket,
    generation: verified.generation,
    at_ms: input.nowMs,
    gate: input.gate,
    direction: input.direction,
    nonce: input.nonce,
  };
  const admitted = {
    ticket: verified.ticket,
    at_ms: input.nowMs,
    gate: input.gate,
    printed: verified.printed,
    grade: verified.grade,
    place: verified.place,
    holder: verified.holder,
    proof: verified.proof,
  };
  if (input.direction === "exit") {
    const refusal = book.exitRefusal(verified.ticket);
    if (refusal) return { result: { result: refusal }, pending: null };
    book.record(verified.ticket, scan);
    return { result: { result: "exited", ...admitted }, pending };
  }
  if (verified.proof && !input.proofChecked) return { result: { result: "proof_required", discount: verified.proof }, pending: null };
  const used = book.entryRefusal(verified.ticket);
  if (used) return { result: { result: "already_used", ...used }, pending: null };
  book.record(verified.ticket, scan);
  return { result: { result: "admitted", ...admitted }, pending };
}
