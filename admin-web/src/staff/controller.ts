// One door at work: the scanner's stream while online, the verified manifest and this device's
// book while offline, the queue of offline scans and its upload when the network is back, and
// what the server reported about them (conflicts, refusals). The page only renders its signals.

import { signal } from "@preact/signals";
import { ApiError, API_BASE, get, post } from "../lib/api";
import { DoorBook, decideOffline, type ExitRefusal, type PendingScan } from "./door";
import { ManifestError, openManifest, type Manifest } from "./manifest";
import type { Direction, DoorInfo, DoorResult, UploadAnswer } from "./protocol";
import { signOut, token, type DoorChoice } from "./session";
import { emptyDoor, loadDoor, newNonce, REPORTED_KEPT_MAX, saveDoor, scannerId, type SavedDoor } from "./store";
import { ScannerStream, StreamUnavailable, type StreamAnswer } from "./stream";

/** A manifest older than this is downloaded again when the stream (re)connects. */
export const MANIFEST_STALE_MS = 60_000;
/** Scans one upload carries when the server has not said (`upload_scans_max`). */
const UPLOAD_SCANS_MAX_DEFAULT = 1_000;

/** Outcomes that are not a door's result: the scan could not be decided, or was not acted on. */
export type LocalOutcome =
  | { result: "unreadable" }
  | { result: "no_manifest" }
  | { result: ExitRefusal | "unknown_gate" }
  | { result: "retry"; code: string; message: string };

export type Outcome = DoorResult | LocalOutcome;

export interface Shown {
  outcome: Outcome;
  /** Decided here from the manifest (the network was down). */
  offline: boolean;
  /** The code scanned, to send again once staff saw a discount's proof. */
  code: string | null;
  /** Increases with every result, so a repeated outcome still reads as new. */
  seq: number;
}

export type ManifestState =
  | { state: "none" }
  | { state: "loading" }
  | { state: "ready"; issuedAtMs: number; tickets: number; revoked: number }
  | { state: "refused"; problem: string };

/** The manifest download, as bytes: `api()` reads JSON only. */
async function fetchManifest(performance: string): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(`${API_BASE}/performances/${performance}/door/manifest`, {
      headers: { Authorization: `Bearer ${token()}`, Accept: "application/octet-stream" },
    });
  } catch (error) {
    throw new ApiError(0, "network", String(error));
  }
  if (!response.ok) {
    const text = await response.text();
    let code = response.status >= 500 ? "internal" : "no_route";
    let detail = text.slice(0, 200);
    try {
      const problem = JSON.parse(text) as { code?: string; detail?: string };
      code = problem.code ?? code;
      detail = problem.detail ?? detail;
    } catch {
      // Not a problem document: the status stands.
    }
    throw new ApiError(response.status, code, detail);
  }
  return new Uint8Array(await response.arrayBuffer());
}

export class DoorController {
  readonly shown = signal<Shown | null>(null);
  readonly info = signal<DoorInfo | null>(null);
  readonly manifestState = signal<ManifestState>({ state: "none" });
  readonly pending = signal(0);
  readonly saved = signal<SavedDoor>(emptyDoor(""));
  readonly syncing = signal(false);
  readonly syncError = signal<unknown>(null);
  readonly loadError = signal<unknown>(null);
  readonly stream: ScannerStream;

  private manifest: Manifest | null = null;
  private book = new DoorBook(false);
  private seq = 0;
  /** Scans are decided one after another, so the book and the queue change in order. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly scanner = scannerId();

  constructor(
    readonly choice: DoorChoice,
    private readonly sessionToken: string,
  ) {
    this.stream = new ScannerStream(choice.performance, sessionToken, () => this.backOnline());
  }

  async start(): Promise<void> {
    const saved = await loadDoor(this.choice.performance);
    this.saved.value = saved;
    this.pending.value = saved.pending.length;
    this.book = new DoorBook(false, saved.book);
    if (saved.manifest) await this.adopt(new Uint8Array(saved.manifest.bytes), saved.manifest.publicKey, false);
    this.stream.start();
    // The door's settings and a fresh manifest while the network is up; offline, the kept ones.
    await this.refresh().catch((error) => (this.loadError.value = error));
  }

  stop(): void {
    this.stream.stop();
  }

  /** Reads the door's settings and counters, and downloads and verifies a new manifest. */
  async refresh(): Promise<void> {
    const info = await this.getDoor();
    this.info.value = info;
    this.loadError.value = null;
    const previous = this.manifestState.value;
    this.manifestState.value = { state: "loading" };
    try {
      const bytes = await fetchManifest(this.choice.performance);
      await this.adopt(bytes, info.manifest.public_key, true);
    } catch (error) {
      // The manifest it had stays (docs: a scanner keeps the one it had).
      this.manifestState.value = previous.state === "loading" ? { state: "none" } : previous;
      if (error instanceof ManifestError) this.manifestState.value = { state: "refused", problem: error.problem };
      else throw error;
    }
  }

  private async getDoor(): Promise<DoorInfo> {
    try {
      return await get<DoorInfo>(`/performances/${this.choice.performance}/door`, { token: this.sessionToken });
    } catch (error) {
      if (error instanceof ApiError && error.code === "unauthenticated") await signOut("unauthenticated");
      throw error;
    }
  }

  /** Verifies a manifest and, when it holds, uses it (and keeps it when it is new). */
  private async adopt(bytes: Uint8Array, publicKey: string, keep: boolean): Promise<void> {
    const manifest = await openManifest(bytes, publicKey, BigInt(this.choice.performance));
    this.manifest = manifest;
    // The show's re-entry rule is fixed at publication; the book follows the signed one.
    if (this.book.reentry !== manifest.rules.reentry) this.book = new DoorBook(manifest.rules.reentry, this.book.entries());
    this.manifestState.value = { state: "ready", issuedAtMs: manifest.issuedAtMs, tickets: manifest.tickets.size, revoked: manifest.revoked.size };
    if (keep) {
      const copy = bytes.slice().buffer;
      await this.persist({ manifest: { bytes: copy, publicKey, fetchedAtMs: Date.now() } });
    }
  }

  private async persist(change: Partial<SavedDoor>): Promise<void> {
    const next: SavedDoor = { ...this.saved.value, ...change, performance: this.choice.performance, book: this.book.entries() };
    this.saved.value = next;
    this.pending.value = next.pending.length;
    await saveDoor(next);
  }

  /** A code read by the camera or from a picture (`null`: no QR code found). */
  scan(code: string | null, direction: Direction, proofChecked = false): Promise<void> {
    const next = this.queue.then(() => this.decide(code, direction, proofChecked));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private show(outcome: Outcome, offline: boolean, code: string | null): void {
    this.seq += 1;
    this.shown.value = { outcome, offline, code, seq: this.seq };
  }

  private async decide(code: string | null, direction: Direction, proofChecked: boolean): Promise<void> {
    if (code === null) return this.show({ result: "unreadable" }, false, null);
    const gate = this.choice.gate;
    if (this.stream.status.value === "open") {
      try {
        const answer = await this.askStream({ code, gate, direction, proofChecked });
        return await this.answered(answer, code);
      } catch (error) {
        if (!(error instanceof StreamUnavailable)) throw error;
        // No answer: decided here, as when offline. The server may have recorded it; then the
        // upload reports the conflict (its own scan first), which staff can see and dismiss.
      }
    }
    if (!this.manifest) return this.show({ result: "no_manifest" }, true, code);
    const decision = await decideOffline(this.manifest, this.book, {
      code,
      gate,
      direction,
      proofChecked,
      nowMs: Date.now(),
      scanner: this.scanner,
      nonce: newNonce(),
    });
    if (decision.pending) await this.persist({ pending: [...this.saved.value.pending, decision.pending] });
    this.show(decision.result, true, code);
  }

  /** One scan over the stream; waits out one `rate_limited` and sends it again. */
  private async askStream(request: { code: string; gate: number; direction: Direction; proofChecked: boolean }): Promise<StreamAnswer> {
    const answer = await this.stream.scan(request);
    if (answer.kind === "error" && answer.code === "rate_limited") {
      await new Promise((resolve) => setTimeout(resolve, answer.retryAfterMs ?? 100));
      return this.stream.scan(request);
    }
    return answer;
  }

  private async answered(answer: StreamAnswer, code: string): Promise<void> {
    if (answer.kind === "result") {
      const result = answer.result;
      if (result.result === "admitted" || result.result === "exited") {
        // This device's book learns the server's admissions, so it refuses the same ticket
        // offline later.
        this.book.record(result.ticket, {
          at_ms: result.at_ms,
          gate: result.gate,
          direction: result.result === "admitted" ? "entry" : "exit",
          source: { online: true },
        });
        await this.persist({});
      }
      return this.show(result, false, code);
    }
    if (answer.code === "unauthenticated" || answer.code === "forbidden") {
      this.show({ result: "retry", code: answer.code, message: answer.message }, false, code);
      return;
    }
    if (answer.code === "ledger_rejected" && answer.reason && ["no_reentry", "not_inside", "unknown_gate", "too_many_scans"].includes(answer.reason)) {
      return this.show({ result: answer.reason as ExitRefusal | "unknown_gate" }, false, code);
    }
    this.show({ result: "retry", code: answer.code, message: answer.message }, false, code);
  }

  /** The stream is up again: upload what was queued, and refresh a stale manifest. */
  private backOnline(): void {
    void this.sync();
    const state = this.manifestState.value;
    const fetchedAt = this.saved.value.manifest?.fetchedAtMs ?? 0;
    if (state.state !== "loading" && Date.now() - fetchedAt > MANIFEST_STALE_MS) {
      this.refresh().catch((error) => (this.loadError.value = error));
    }
  }

  /** Uploads the offline scans, in batches the server takes, and keeps what it reported. */
  async sync(): Promise<void> {
    if (this.syncing.value) return;
    this.syncing.value = true;
    this.syncError.value = null;
    try {
      const max = this.info.value?.upload_scans_max ?? UPLOAD_SCANS_MAX_DEFAULT;
      while (this.saved.value.pending.length > 0) {
        const batch = this.saved.value.pending.slice(0, max);
        const answer = await post<UploadAnswer>(
          `/performances/${this.choice.performance}/door/uploads`,
          { scanner: this.scanner, scans: batch.map(uploadOf) },
          { token: this.sessionToken },
        );
        const sent = new Set(batch.map((s) => s.nonce));
        await this.persist({
          pending: this.saved.value.pending.filter((s) => !sent.has(s.nonce)),
          conflicts: [...answer.conflicts, ...this.saved.value.conflicts].slice(0, REPORTED_KEPT_MAX),
          refused: [...answer.refused, ...this.saved.value.refused].slice(0, REPORTED_KEPT_MAX),
        });
      }
      // The counters (every scanner's conflicts) as they are after this upload.
      this.info.value = await this.getDoor();
    } catch (error) {
      this.syncError.value = error;
      if (error instanceof ApiError && error.code === "unauthenticated") await signOut("unauthenticated");
    } finally {
      this.syncing.value = false;
    }
  }

  /** A ticket's grade and place as the manifest lists them (not sealed), when it does. */
  placeOf(ticket: string): string | null {
    const entry = this.manifest?.tickets.get(ticket);
    return entry ? `${entry.grade} ${entry.place}` : null;
  }

  /** Staff read the reported conflicts and refusals: clear them from this device's list. */
  async dismissReports(): Promise<void> {
    await this.persist({ conflicts: [], refused: [] });
  }
}

function uploadOf(scan: PendingScan) {
  return { ticket: scan.ticket, generation: scan.generation, at_ms: scan.at_ms, gate: scan.gate, direction: scan.direction, nonce: scan.nonce };
}
