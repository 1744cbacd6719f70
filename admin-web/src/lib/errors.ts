// Every error code the server sends — the HTTP API's problem codes (`picket_edge::problem::CODES`),
// the WebSocket's `error.code`s and the ledger's rejections (docs/protocol.md) — as a message a
// buyer or a member of staff can act on, in the page's language.

import { ApiError } from "./api";
import { tr } from "./i18n";

type Pair = readonly [ko: string, en: string];

/** Messages by code. Codes not here fall back to the server's own `detail`. */
export const MESSAGES: Record<string, Pair> = {
  network: ["서버에 연결할 수 없습니다. 네트워크를 확인하고 다시 시도해 주세요.", "Cannot reach the server. Check the network and try again."],
  internal: ["일시적인 오류가 발생했습니다. 잠시 후 다시 시도해 주세요.", "Something went wrong on our side. Please try again shortly."],
};

/** The message for a code, or for an error thrown by `api()` or the socket. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return messageFor(error.code, error.detail);
  if (error instanceof Error) return messageFor("internal", error.message);
  return messageFor("internal", String(error));
}

export function messageFor(code: string, detail = ""): string {
  const pair = MESSAGES[code];
  if (pair) return tr(pair[0], pair[1]);
  return detail || tr(`오류: ${code}`, `Error: ${code}`);
}
