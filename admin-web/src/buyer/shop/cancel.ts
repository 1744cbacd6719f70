// Cancelling tickets is a booking command on the WebSocket (docs/protocol.md, `cancel`): the
// ledger refunds the price less the fee that applies at that moment. One short connection:
// hello with the stored token, one `cancel`, its `result` — then close.
import { ApiError, loadCredential } from "../../lib/api";

/** How long to wait for the ledger's answer before saying so (the command may still apply). */
export const CANCEL_ANSWER_TIMEOUT_MS = 15_000;

export interface Cancelled {
  booking: string;
  tickets: string[];
  refund_won: number;
  fee_won: number;
  booking_fee_kept_won: number;
}

type Incoming =
  | { type: "welcome" }
  | { type: "result"; id: string; outcome: { Ok?: { Cancelled?: Cancelled }; Err?: unknown }; code?: string }
  | { type: "error"; id?: string; code: string; message: string; retry_after_ms?: number };

/** Cancels `tickets` (empty: every valid ticket) of `booking`; `key` makes a retry apply once. */
export function cancelTickets(performance: string, booking: string, tickets: string[], key: string): Promise<Cancelled> {
  const token = loadCredential()?.token;
  if (!token) return Promise.reject(new ApiError(401, "unauthenticated", ""));
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${scheme}//${location.host}/ws`, "picket.v2");
    const id = "cancel-1";
    const timer = setTimeout(() => finish(new ApiError(0, "ledger_unavailable", "")), CANCEL_ANSWER_TIMEOUT_MS);
    let done = false;
    function finish(outcome: Cancelled | Error) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.close(1000);
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    }
    socket.onopen = () => socket.send(JSON.stringify({ type: "hello", token }));
    socket.onerror = () => finish(new ApiError(0, "network", ""));
    socket.onclose = () => finish(new ApiError(0, "network", ""));
    socket.onmessage = (event) => {
      let message: Incoming;
      try {
        message = JSON.parse(String(event.data)) as Incoming;
      } catch {
        return;
      }
      if (message.type === "welcome") {
        socket.send(JSON.stringify({ type: "cancel", id, sale: performance, key, booking, tickets }));
      } else if (message.type === "result" && message.id === id) {
        const cancelled = message.outcome.Ok?.Cancelled;
        if (cancelled) finish(cancelled);
        else finish(new ApiError(422, message.code ?? "ledger_rejected", JSON.stringify(message.outcome.Err ?? "")));
      } else if (message.type === "error" && (message.id === id || !message.id)) {
        finish(new ApiError(0, message.code, message.message, [], message.retry_after_ms ? Math.ceil(message.retry_after_ms / 1000) : null));
      }
    };
  });
}
