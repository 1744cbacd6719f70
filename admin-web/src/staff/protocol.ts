// The scanner's stream (docs/protocol.md, "The scanner's stream", v1) and the door's typed
// results ("Ticket codes" → "At the door" / "Over HTTP"), as TypeScript types. Ids of records
// are decimal strings on the wire; a scan's `id` is this scanner's own correlation number.

export type Direction = "entry" | "exit";

/** Scanner → API. */
export type ScannerRequest =
  | { type: "hello"; token: string }
  | { type: "scan"; id: number; code: string; gate: number; direction: Direction; proof_checked: boolean };

export interface ScannerLimits {
  message_bytes_max: number;
  in_flight_max: number;
  messages_per_sec: number;
  messages_burst: number;
  ping_interval_ms: number;
  idle_timeout_ms: number;
}

/** The door's answer to one scan, online or decided here from the manifest. */
export type DoorResult =
  | {
      result: "admitted" | "exited";
      ticket: string;
      at_ms: number;
      gate: number;
      printed: boolean;
      grade: string;
      place: string;
      holder: string;
      /** The discount whose proof staff saw (or must see). */
      proof: string | null;
    }
  | { result: "already_used"; at_ms: number; gate: number }
  | { result: "proof_required"; discount: string }
  | { result: "wrong_performance" | "code_expired" | "revoked" | "not_yet_open" | "forged" };

export type ResultCode = DoorResult["result"];

/** Every result code, for code that must handle each (a message, a colour). */
export const RESULT_CODES: readonly ResultCode[] = [
  "admitted",
  "exited",
  "already_used",
  "proof_required",
  "wrong_performance",
  "code_expired",
  "revoked",
  "not_yet_open",
  "forged",
];

/** The stream's error codes (docs/protocol.md, "API → scanner"). */
export type StreamErrorCode =
  | "bad_json"
  | "unknown_type"
  | "invalid_field"
  | "too_big"
  | "binary_not_supported"
  | "not_authenticated"
  | "already_authenticated"
  | "duplicate_id"
  | "too_many_in_flight"
  | "rate_limited"
  | "ledger_rejected"
  | "ledger_unavailable"
  | "store_unavailable"
  | "internal"
  | "unauthenticated"
  | "forbidden";

/** API → scanner. */
export type ScannerMessage =
  | { type: "welcome"; performance: string; account: string; role: string; limits: ScannerLimits }
  | ({ type: "result"; id: number } & DoorResult)
  | {
      type: "error";
      id: number | null;
      code: StreamErrorCode;
      message: string;
      /** `ledger_rejected`: `unknown_gate`, `no_reentry`, `not_inside`. */
      reason?: string;
      retry_after_ms?: number;
    };

/** Close codes after which connecting again cannot help (the token or the right is gone). */
export const CLOSE_UNAUTHENTICATED = 4001;
export const CLOSE_FORBIDDEN = 4003;
/** Kept sending after `rate_limited`: wait longer before connecting again. */
export const CLOSE_FLOOD = 4008;

/** `GET /performances/{id}/door`. */
export interface DoorInfo {
  performance: string;
  starts_at_ms: number;
  doors_open_ms: number;
  gates: { id: number; label: string }[];
  reentry: boolean;
  static_tickets: boolean;
  manifest: { format: string; public_key: string; tickets_max: number; revoked_max: number };
  upload_scans_max: number;
  counters: {
    admitted: number;
    inside: number;
    no_shows: number;
    conflicts: Conflict[];
    conflicts_total: number;
  };
}

/** A scan as the server reports it in a conflict: `scanner` is `null` for an online scan. */
export interface ReportedScan {
  at_ms: number;
  gate: number;
  direction: Direction;
  scanner: string | null;
}

/** The same ticket let in twice: `kept` counts (the earlier), `duplicate` came while inside. */
export interface Conflict {
  ticket: string;
  kept: ReportedScan;
  duplicate: ReportedScan;
}

/** One queued offline scan as `POST /performances/{id}/door/uploads` takes it. */
export interface UploadScan {
  ticket: string;
  generation: number;
  at_ms: number;
  gate: number;
  direction: Direction;
  nonce: string;
}

export type UploadRefusal = "unknown_ticket" | "revoked" | "unknown_gate" | "scan_ahead" | "too_many_scans";

export interface UploadAnswer {
  recorded: number;
  repeated: number;
  refused: { ticket: string; nonce: string; reason: UploadRefusal }[];
  conflicts: Conflict[];
}
