// The scanner's stream client (docs/protocol.md, "The scanner's stream"): one WebSocket per
// performance, `hello` with the staff session first, then scans each with a correlation id,
// answers in any order. It connects again by itself with growing waits; a scan that cannot be
// answered (no stream, the stream closed under it, no answer in time) is the caller's to decide
// offline.

import { signal } from "@preact/signals";
import {
  CLOSE_FLOOD,
  CLOSE_FORBIDDEN,
  CLOSE_UNAUTHENTICATED,
  type DoorResult,
  type ScannerLimits,
  type ScannerMessage,
  type ScannerRequest,
  type StreamErrorCode,
  type Direction,
} from "./protocol";

/** First wait before connecting again; doubles each failure up to `RECONNECT_DELAY_MS_MAX`. */
export const RECONNECT_DELAY_MS_MIN = 500;
export const RECONNECT_DELAY_MS_MAX = 15_000;
/** After the server closed for flooding (4008): wait this long at least. */
const FLOOD_DELAY_MS = 10_000;
/** A person waits at the door: past this the scan is decided offline. */
export const SCAN_ANSWER_TIMEOUT_MS = 4_000;
/** Scans in flight this side keeps at most, below the server's `SCANNER_IN_FLIGHT_MAX` (32). */
export const IN_FLIGHT_MAX = 16;

export type StreamStatus = "connecting" | "open" | "waiting" | "offline" | "denied" | "stopped";

export interface ScanRequest {
  code: string;
  gate: number;
  direction: Direction;
  proofChecked: boolean;
}

/** What the server said to one scan: a door result, or an error naming why it was not acted on. */
export type StreamAnswer =
  | { kind: "result"; result: DoorResult }
  | { kind: "error"; code: StreamErrorCode; reason?: string; message: string; retryAfterMs?: number };

/** The scan got no answer over the stream: decide it offline (or scan again). */
export class StreamUnavailable extends Error {}

interface InFlight {
  resolve: (answer: StreamAnswer) => void;
  reject: (error: StreamUnavailable) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class ScannerStream {
  readonly status = signal<StreamStatus>("stopped");
  /** Why the server refused the session (`unauthenticated` or `forbidden`) once `denied`. */
  readonly denial = signal<"unauthenticated" | "forbidden" | null>(null);
  limits: ScannerLimits | null = null;

  private socket: WebSocket | null = null;
  private nextId = 1;
  private readonly inFlight = new Map<number, InFlight>();
  private failures = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly onOnline = () => this.connect();
  private readonly onOffline = () => this.dropForOffline();

  constructor(
    private readonly performance: string,
    private readonly token: string,
    /** Called at each `welcome`: the stream is (back) up. */
    private readonly onWelcome: () => void = () => {},
  ) {}

  start(): void {
    window.addEventListener("online", this.onOnline);
    window.addEventListener("offline", this.onOffline);
    this.connect();
  }

  stop(): void {
    window.removeEventListener("online", this.onOnline);
    window.removeEventListener("offline", this.onOffline);
    this.clearRetry();
    this.status.value = "stopped";
    this.close(1000);
  }

  /** Sends a scan and waits for its answer; throws `StreamUnavailable` when none can come. */
  scan(request: ScanRequest): Promise<StreamAnswer> {
    const socket = this.socket;
    if (!socket || this.status.value !== "open" || this.inFlight.size >= IN_FLIGHT_MAX) {
      return Promise.reject(new StreamUnavailable("not connected"));
    }
    const id = this.nextId;
    // A u32 the server takes; wrapping is safe, as no scan stays in flight that long.
    this.nextId = this.nextId >= 0xffffffff ? 1 : this.nextId + 1;
    return new Promise<StreamAnswer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.inFlight.delete(id);
        reject(new StreamUnavailable("no answer in time"));
      }, SCAN_ANSWER_TIMEOUT_MS);
      this.inFlight.set(id, { resolve, reject, timer });
      this.send({ type: "scan", id, code: request.code, gate: request.gate, direction: request.direction, proof_checked: request.proofChecked });
    });
  }

  private send(message: ScannerRequest): void {
    this.socket?.send(JSON.stringify(message));
  }

  private connect(): void {
    if (this.status.value === "denied") return;
    if (typeof navigator !== "undefined" && navigator.onLine === false) {
      this.status.value = "offline";
      return;
    }
    if (this.socket) return;
    this.clearRetry();
    this.status.value = "connecting";
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(`${scheme}//${location.host}/api/v2/performances/${this.performance}/scanner`);
    this.socket = socket;
    socket.onopen = () => this.send({ type: "hello", token: this.token });
    socket.onmessage = (event) => this.receive(event.data);
    socket.onclose = (event) => this.closed(socket, event.code);
  }

  private receive(data: unknown): void {
    if (typeof data !== "string") return;
    let message: ScannerMessage;
    try {
      message = JSON.parse(data) as ScannerMessage;
    } catch {
      return;
    }
    if (message.type === "welcome") {
      this.limits = message.limits;
      this.failures = 0;
      this.status.value = "open";
      this.onWelcome();
      return;
    }
    if (message.type === "error" && (message.code === "unauthenticated" || message.code === "forbidden")) {
      this.denial.value = message.code;
    }
    if (message.id === null || message.id === undefined) return;
    const waiting = this.inFlight.get(message.id);
    if (!waiting) return;
    this.inFlight.delete(message.id);
    clearTimeout(waiting.timer);
    if (message.type === "result") {
      const { type: _type, id: _id, ...result } = message;
      waiting.resolve({ kind: "result", result: result as DoorResult });
    } else {
      waiting.resolve({ kind: "error", code: message.code, reason: message.reason, message: message.message, retryAfterMs: message.retry_after_ms });
    }
  }

  private closed(socket: WebSocket, code: number): void {
    if (this.socket !== socket) return;
    this.socket = null;
    this.failInFlight();
    if (this.status.value === "stopped") return;
    if (code === CLOSE_UNAUTHENTICATED || code === CLOSE_FORBIDDEN) {
      this.denial.value ??= code === CLOSE_FORBIDDEN ? "forbidden" : "unauthenticated";
      this.status.value = "denied";
      return;
    }
    if (typeof navigator !== "undefined" && navigator.onLine === false) {
      this.status.value = "offline";
      return;
    }
    this.failures += 1;
    const backoff = Math.min(RECONNECT_DELAY_MS_MAX, RECONNECT_DELAY_MS_MIN * 2 ** (this.failures - 1));
    // Jitter spreads a venue's scanners reconnecting after one outage.
    const delay = Math.max(code === CLOSE_FLOOD ? FLOOD_DELAY_MS : 0, backoff * (0.75 + Math.random() * 0.5));
    this.status.value = "waiting";
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  /** The device lost its network: the stream cannot answer, so scans are decided offline now. */
  private dropForOffline(): void {
    this.clearRetry();
    this.close(1000);
    this.status.value = "offline";
  }

  private close(code: number): void {
    const socket = this.socket;
    this.socket = null;
    this.failInFlight();
    if (socket && socket.readyState <= WebSocket.OPEN) socket.close(code);
  }

  private failInFlight(): void {
    for (const waiting of this.inFlight.values()) {
      clearTimeout(waiting.timer);
      waiting.reject(new StreamUnavailable("the stream closed"));
    }
    this.inFlight.clear();
  }

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }
}
