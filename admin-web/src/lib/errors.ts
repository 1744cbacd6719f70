// Every error code the server sends, as a message a buyer or a member of staff can act on, in
// the page's language (docs/protocol.md is the source of every list below):
// - the HTTP API's problem codes (`picket_edge::problem::CODES`),
// - the WebSocket's `error.code`s and the ledger's rejection codes (`result` … `code`),
// - the door's scan results and offline upload refusals, the scanner stream's error codes,
// - the close codes of both WebSockets, as `close_<code>` (`closeMessage`).
// `tests/tests/tidy_web_errors.rs` fails when a code the server can send has no entry here. A
// code that means the same in several places (`unknown_hold` over HTTP and over the socket)
// has one entry: an object literal cannot name a key twice.

import { ApiError } from "./api";
import { tr } from "./i18n";

type Pair = readonly [ko: string, en: string];

const RELOAD: Pair = ["앱과 서버의 통신에 문제가 생겼습니다. 페이지를 새로고침해 주세요.", "Something went wrong between the app and the server. Please reload the page."];
const RETRY_SOON: Pair = ["서비스가 잠시 응답하지 않습니다. 잠시 후 다시 시도해 주세요.", "The service is not answering right now. Please try again in a moment."];
const RECONNECTING: Pair = ["연결이 끊겼습니다. 다시 연결하는 중입니다.", "The connection dropped. Reconnecting…"];

/** Messages by code. Codes not here fall back to the server's own `detail`. */
export const MESSAGES: Record<string, Pair> = {
  // The app's own.
  network: ["서버에 연결할 수 없습니다. 네트워크를 확인하고 다시 시도해 주세요.", "Cannot reach the server. Check the network and try again."],
  internal: ["일시적인 오류가 발생했습니다. 잠시 후 다시 시도해 주세요.", "Something went wrong on our side. Please try again shortly."],

  // HTTP API problems (picket_edge::problem::CODES).
  invalid_request: ["입력한 내용을 다시 확인해 주세요.", "Please check what you entered."],
  bad_body: RELOAD,
  bad_parameter: ["주소나 검색 조건이 올바르지 않습니다.", "The address or the search filters are not valid."],
  unsupported_media_type: ["이 형식의 파일은 올릴 수 없습니다.", "Files of this kind cannot be uploaded."],
  too_large: ["파일이나 내용이 너무 큽니다.", "The file or the text is too large."],
  unauthenticated: ["로그인이 필요합니다. 다시 로그인해 주세요.", "Please sign in (again)."],
  forbidden: ["이 작업을 할 권한이 없습니다.", "You are not allowed to do this."],
  not_found: ["찾는 정보가 없습니다. 삭제되었거나 주소가 잘못되었을 수 있습니다.", "Not found. It may have been removed, or the address is wrong."],
  no_route: RELOAD,
  method_not_allowed: RELOAD,
  conflict: ["이미 처리되었거나 다른 변경과 겹칩니다. 새로고침 후 다시 확인해 주세요.", "This was already done or clashes with another change. Reload and check again."],
  venue_in_use: ["공연이 공개된 공연장은 좌석 배치를 바꿀 수 없습니다. 새 공연장으로 저장하세요.", "A published performance uses this venue, so its seats cannot change. Save the layout as a new venue."],
  wrong_credentials: ["이메일 또는 비밀번호가 맞지 않습니다.", "The email or the password is wrong."],
  too_many_attempts: ["시도가 너무 많습니다. 잠시 후 다시 시도해 주세요.", "Too many attempts. Please wait a moment and try again."],
  store_unavailable: RETRY_SOON,
  queue_unavailable: ["대기열이 잠시 멈췄습니다. 순서는 그대로 유지됩니다.", "The queue is paused for a moment. Your place is kept."],
  media_unavailable: ["이미지를 잠시 불러올 수 없습니다. 잠시 후 다시 시도해 주세요.", "Images cannot be loaded right now. Please try again in a moment."],
  operator_only: ["운영자만 할 수 있는 작업입니다.", "Only the operator can do this."],
  unknown_sale: ["판매 정보를 찾을 수 없습니다. 공연 페이지에서 다시 시작해 주세요.", "This sale was not found. Please start again from the show's page."],
  not_drawn: ["추첨 결과는 판매가 열릴 때 공개됩니다.", "The draw is published when the sale opens."],
  ledger_rejected: ["요청이 거절되었습니다.", "The request was refused."],
  performance_already_open: ["이미 판매가 열린 회차입니다.", "This performance is already on sale."],
  ledger_unavailable: ["예매 처리가 잠시 지연되고 있습니다. 잠시 후 다시 시도해 주세요.", "Booking is delayed for a moment. Please try again shortly."],
  unsupported_protocol: ["앱이 최신 버전이 아닙니다. 페이지를 새로고침해 주세요.", "This version of the app is out of date. Please reload the page."],
  websocket_required: RELOAD,
  unknown_hold: ["선택한 좌석이 더 이상 잡혀 있지 않습니다. 좌석을 다시 선택해 주세요.", "The seats you chose are no longer held. Please choose seats again."],
  not_your_hold: ["다른 분이 선택한 좌석입니다. 좌석을 다시 선택해 주세요.", "Someone else holds these seats. Please choose seats again."],
  hold_expired: ["좌석 선택 시간이 지났습니다. 결제되지 않았으니 좌석을 다시 선택해 주세요.", "Time to pay ran out; nothing was charged. Please choose seats again."],
  payment_declined: ["결제가 거절되었습니다. 좌석은 유지되니 다른 카드로 다시 시도해 주세요.", "The payment was declined. Your seats are still held: try another card."],
  payment_not_found: ["결제 정보를 확인할 수 없어 예매되지 않았습니다. 다시 결제해 주세요.", "The payment could not be found, so nothing was booked. Please pay again."],
  payment_amount_mismatch: ["결제 금액이 주문 금액과 달라 예매되지 않았습니다. 다시 결제해 주세요.", "The amount paid differs from the order, so nothing was booked. Please pay again."],
  payment_unavailable: ["결제 서비스가 잠시 응답하지 않습니다. 잠시 후 다시 시도해 주세요. 결제는 한 번만 처리됩니다.", "Payments are not answering right now. Please try again shortly; you will be charged only once."],
  payment_refunded: ["결제는 승인되었지만 좌석을 확정할 수 없어 바로 취소했습니다. 청구되지 않습니다.", "The payment was approved but the seats could not be booked, so it was voided at once. You are not charged."],
  webhook_signature: ["결제 알림의 서명이 올바르지 않습니다.", "The payment notification's signature is not valid."],
  no_admission: ["대기열에서 차례가 온 뒤에 예매할 수 있습니다.", "You can book once your turn in the queue comes."],
  admission_invalid: ["입장 정보가 올바르지 않습니다. 대기열에 다시 들어가 주세요.", "Your turn could not be verified. Please join the queue again."],
  admission_expired: ["예매 가능 시간이 끝났습니다. 대기열에 다시 들어가 주세요.", "Your booking time is over. Please join the queue again."],
  members_only: ["회원만 할 수 있습니다. 회원가입 후 로그인해 주세요.", "Members only. Please sign up and sign in."],
  transfers_off: ["이 공연은 티켓 양도를 할 수 없습니다.", "Tickets of this show cannot be transferred."],
  transfer_deadline_passed: ["양도 마감 시간이 지났습니다.", "The deadline for transfers has passed."],
  ticket_used: ["이미 입장에 사용된 티켓입니다.", "This ticket has been used at the door."],
  ticket_cancelled: ["취소된 티켓입니다.", "This ticket was cancelled."],
  too_many_transfers: ["이 티켓은 더 이상 양도할 수 없습니다.", "This ticket cannot be transferred again."],
  recipient_over_limit: ["받는 분이 이 회차에서 가질 수 있는 매수를 넘습니다.", "The recipient would hold more tickets of this performance than one buyer may."],
  transfer_to_self: ["본인에게는 양도할 수 없습니다.", "You cannot transfer a ticket to yourself."],
  unknown_member: ["이 이메일로 가입한 회원이 없습니다.", "No member has this email address."],
  static_tickets_off: ["이 공연은 인쇄용 티켓을 발급하지 않습니다.", "This show issues no printed tickets."],
  waitlist_closed: ["이 회차는 취소표 대기를 받지 않습니다.", "This performance takes no waitlist."],
  waitlist_full: ["취소표 대기 인원이 가득 찼습니다.", "The waitlist is full."],
  too_many_waitlist_entries: ["이 회차에 신청한 취소표 대기가 너무 많습니다. 하나를 취소한 뒤 다시 신청해 주세요.", "You have too many waitlist entries for this performance. Leave one, then join again."],
  too_many_waitlists: ["취소표 대기를 신청한 회차가 너무 많습니다.", "You are on too many waitlists."],
  over_buyer_limit: ["1인당 구매할 수 있는 매수를 넘었습니다.", "That is more tickets than one buyer may have."],
  waitlist_sales_closed: ["공연이 시작되었거나 취소되어 대기를 받지 않습니다.", "The performance started or was called off: its waitlist is closed."],
  unknown_waitlist_entry: ["취소표 대기 신청을 찾을 수 없습니다. 이미 끝났을 수 있습니다.", "This waitlist entry was not found. It may have ended."],
  no_waitlist_offer: ["아직 배정된 취소표가 없습니다.", "No tickets have been offered to you yet."],
  company_not_approved: ["판매자 승인 전이거나 정지된 회사라 공연을 공개할 수 없습니다. 초안은 저장할 수 있으며, 관리자 승인 후 공개해 주세요.", "Your company is not approved (pending or suspended), so it cannot publish shows. Drafts are kept; publish once an admin approves the company."],
  too_many_push_subscriptions: ["알림을 받는 기기가 너무 많습니다. 다른 기기의 알림을 끈 뒤 다시 시도해 주세요.", "Too many devices get notifications. Turn them off on another device and try again."],
  unknown_billing_method: ["등록된 결제 수단을 찾을 수 없습니다.", "This payment method was not found."],
  too_many_billing_methods: ["등록할 수 있는 결제 수단 수를 넘었습니다.", "You have registered as many payment methods as you may."],

  // The WebSocket's error.code (docs/protocol.md, "Error codes"), beside those above.
  bad_json: RELOAD,
  unknown_type: RELOAD,
  invalid_field: ["요청 내용이 올바르지 않습니다. 다시 시도해 주세요.", "The request was not valid. Please try again."],
  too_big: ["보낸 내용이 너무 큽니다.", "What was sent is too large."],
  binary_not_supported: RELOAD,
  not_authenticated: ["연결을 준비하는 중입니다. 잠시 후 다시 시도해 주세요.", "Still connecting. Please try again in a moment."],
  already_authenticated: RELOAD,
  token_invalid: ["로그인 정보가 올바르지 않습니다. 다시 로그인해 주세요.", "Your sign-in is not valid. Please sign in again."],
  token_expired: ["로그인이 만료되었습니다. 다시 로그인해 주세요.", "Your sign-in expired. Please sign in again."],
  rate_limited: ["요청이 너무 빠릅니다. 잠시 후 다시 시도해 주세요.", "Too fast. Please try again in a moment."],
  slow_down: ["예매 시도가 너무 잦습니다. 잠시 후 다시 시도해 주세요.", "Too many booking attempts. Please try again in a moment."],
  busy: ["접속이 많습니다. 잠시 후 다시 시도해 주세요.", "It is very busy. Please try again in a moment."],
  over_seat_limit: ["한 번에 선택할 수 있는 좌석 수를 넘었습니다.", "That is more seats than you may choose at once."],
  dashboard_unavailable: ["판매 현황을 불러올 수 없습니다. 잠시 후 다시 시도해 주세요.", "The dashboard cannot be read right now. Please try again shortly."],
  session_ended: ["로그인이 만료되었습니다. 다시 로그인해 주세요.", "Your session has ended. Please sign in again."],
  too_many_subscriptions: ["동시에 연 공연이 너무 많습니다. 다른 창을 닫고 다시 시도해 주세요.", "Too many shows open at once. Close other tabs and try again."],

  // The ledger's rejections (docs/protocol.md, "Outcome"), beside those above.
  unknown_performance: ["판매 중인 회차가 아닙니다.", "This performance is not on sale."],
  partition_full: ["지금은 새 회차를 열 수 없습니다.", "No new performance can be opened right now."],
  sales_closed: ["판매가 종료되었습니다.", "Sales have closed."],
  unknown_seat: ["없는 좌석입니다. 좌석 배치도를 새로고침해 주세요.", "No such seat. Please reload the seat map."],
  unknown_grade: ["없는 좌석 등급입니다.", "No such seat grade."],
  unknown_zone: ["없는 구역입니다.", "No such zone."],
  seat_taken: ["이미 다른 분이 선택한 좌석입니다. 다른 좌석을 골라 주세요.", "Someone else just took that seat. Please pick another."],
  not_enough_available: ["남은 좌석이 부족합니다. 매수를 줄여 주세요.", "Not enough places are left. Please ask for fewer."],
  wrong_amount: ["결제 금액이 맞지 않습니다. 다시 결제해 주세요.", "The amount does not match. Please pay again."],
  unknown_booking: ["예매 내역을 찾을 수 없습니다.", "This booking was not found."],
  not_your_booking: ["본인의 예매가 아닙니다.", "This is not your booking."],
  unknown_ticket: ["티켓을 찾을 수 없습니다.", "This ticket was not found."],
  ticket_already_cancelled: ["이미 취소된 티켓입니다.", "This ticket is already cancelled."],
  cancellation_closed: ["온라인 취소 가능 시간이 지났습니다. 공연 당일 예매한 티켓은 취소할 수 없습니다.", "Online cancellation has closed. Tickets bought on the day of the show cannot be cancelled."],
  already_checked_in: ["이미 입장 확인된 티켓입니다.", "This ticket is already checked in."],
  already_used: ["이미 입장한 티켓입니다.", "This ticket has already been admitted."],
  wrong_performance: ["다른 회차의 티켓입니다.", "This ticket is for another performance."],
  revoked: ["더 이상 유효하지 않은 코드입니다. 양도되었거나 다른 기기로 옮겨진 티켓입니다.", "This code is no longer valid: the ticket was transferred or moved to another device."],
  not_inside: ["입장 기록이 없어 퇴장 처리할 수 없습니다.", "This ticket is not inside, so it cannot exit."],
  no_reentry: ["이 공연은 재입장이 없습니다. 티켓은 사용된 상태로 남습니다.", "This show allows no re-entry; the ticket stays used."],
  unknown_gate: ["이 공연의 입구가 아닙니다. 입구를 다시 선택해 주세요.", "That gate is not one of this performance's. Please choose the gate again."],
  not_your_ticket: ["본인의 티켓이 아닙니다.", "This is not your ticket."],
  transfer_closed: ["양도할 수 없는 티켓입니다. 양도가 없는 공연이거나 마감되었습니다.", "This ticket cannot be transferred: the show allows none, or the deadline passed."],
  too_many_rebinds: ["이 티켓은 더 이상 다른 기기로 옮길 수 없습니다. 고객센터에 문의해 주세요.", "This ticket cannot move to another device again. Please contact support."],
  too_many_scans: ["이 티켓의 스캔 횟수가 한도를 넘었습니다.", "This ticket has been scanned as often as it may be."],
  admission_not_yours: ["다른 구매자가 사용한 차례입니다. 대기열에 다시 들어가 주세요.", "This turn was used by another buyer. Please join the queue again."],
  admission_spent: ["이번 차례로 이미 예매했습니다. 더 사려면 대기열에 다시 들어가 주세요.", "You already booked with this turn. Join the queue again to buy more."],
  unknown_offer: ["없는 할인 또는 쿠폰입니다.", "No such discount or coupon."],
  offer_not_active: ["지금은 사용할 수 없는 할인 또는 쿠폰입니다.", "This discount or coupon cannot be used now."],
  offer_not_applicable: ["선택한 좌석 등급에는 적용되지 않는 할인입니다.", "This discount does not cover the seats you chose."],
  below_coupon_minimum: ["최소 주문 금액 이상일 때 쓸 수 있는 쿠폰입니다.", "The order is below this coupon's minimum."],
  coupon_used_up: ["쿠폰이 모두 소진되었습니다.", "This coupon has run out."],
  coupon_already_used: ["이미 사용한 쿠폰입니다.", "You have already used this coupon."],
  performance_cancelled: ["취소된 공연입니다. 결제한 금액은 환불됩니다.", "This performance was called off. What you paid is refunded."],
  unknown_refund: ["환불 내역을 찾을 수 없습니다.", "This refund was not found."],
  refund_already_recorded: ["이미 환불 처리되었습니다.", "This refund was already made."],
  refund_amount_mismatch: ["환불 금액이 맞지 않습니다.", "The refund amount does not match."],
  not_your_waitlist_entry: ["본인의 취소표 대기 신청이 아닙니다.", "This waitlist entry is not yours."],
  not_auto_pay: ["자동 결제로 신청한 대기가 아닙니다.", "This waitlist entry does not pay automatically."],

  // The door: scan results (docs/protocol.md, "At the door") and offline upload refusals.
  admitted: ["입장 확인", "Admitted"],
  exited: ["퇴장 확인", "Exit recorded"],
  forged: ["유효하지 않은 코드입니다.", "Not a valid ticket code."],
  code_expired: ["코드 시간이 지났습니다. 관객 화면의 새 코드로 다시 스캔하세요.", "The code expired. Scan the fresh code on the screen."],
  not_yet_open: ["아직 입장 시간이 아닙니다.", "The doors are not open yet."],
  proof_required: ["할인 증빙을 확인한 뒤 다시 스캔하세요.", "Check the discount's proof, then scan again."],
  scan_ahead: ["스캐너 시계가 5분 넘게 빠릅니다. 기기 시간을 맞춰 주세요.", "The scanner's clock is more than 5 minutes fast. Please set the device's time."],

  // The scanner stream's own error.code (docs/protocol.md, "API → scanner"), beside those above.
  duplicate_id: ["같은 스캔이 처리 중입니다. 잠시 후 다시 스캔하세요.", "The same scan is still in progress. Scan again in a moment."],
  too_many_in_flight: ["스캔이 밀려 있습니다. 잠시 후 다시 스캔하세요.", "Too many scans are waiting. Scan again in a moment."],

  // Close codes of the buyers' /ws and the scanner's stream (docs/protocol.md, "Close codes");
  // 1006 is the browser's own for a connection lost without a close frame.
  close_1000: ["연결을 닫았습니다.", "Connection closed."],
  close_1002: RECONNECTING,
  close_1006: RECONNECTING,
  close_1007: RECONNECTING,
  close_1009: ["보낸 내용이 너무 커서 연결이 끊겼습니다.", "The connection closed: a message was too large."],
  close_1011: ["서버가 잠시 확인할 수 없습니다. 다시 연결하는 중입니다.", "The server could not check right now. Reconnecting…"],
  close_1012: ["서버를 옮기는 중입니다. 순서는 유지되며 곧 다시 연결합니다.", "Moving to another server. Your place is kept; reconnecting shortly."],
  close_1013: ["접속이 많습니다. 잠시 후 다시 연결합니다.", "It is very busy. Reconnecting shortly."],
  close_4000: ["응답이 없어 연결이 끊겼습니다. 다시 연결하는 중입니다.", "The connection went quiet and closed. Reconnecting…"],
  close_4001: ["로그인 정보를 확인할 수 없어 연결이 끊겼습니다. 다시 로그인해 주세요.", "Your sign-in could not be verified. Please sign in again."],
  close_4003: ["이 공연을 스캔할 권한이 없습니다.", "You may not scan tickets of this show."],
  close_4008: ["요청이 너무 많아 연결이 끊겼습니다. 잠시 후 다시 연결합니다.", "Too many messages: the connection closed. Reconnecting shortly."],
  close_4009: ["네트워크가 느려 연결이 끊겼습니다. 다시 연결하는 중입니다.", "The network was too slow and the connection closed. Reconnecting…"],
};

/** The message for a code, or for an error thrown by `api()` or the socket. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) {
    // A refused ledger command names the ledger's own code in its detail: "…refused (seat_taken)…".
    const ledgerCode = error.code === "ledger_rejected" ? /\(([a-z_]+)\)/.exec(error.detail)?.[1] : undefined;
    if (ledgerCode && MESSAGES[ledgerCode]) return messageFor(ledgerCode);
    return messageFor(error.code, error.detail);
  }
  if (error instanceof Error) return messageFor("internal", error.message);
  return messageFor("internal", String(error));
}

export function messageFor(code: string, detail = ""): string {
  const pair = MESSAGES[code];
  if (pair) return tr(pair[0], pair[1]);
  return detail || tr(`오류: ${code}`, `Error: ${code}`);
}

/** The message for a WebSocket's close code (either socket). */
export function closeMessage(code: number): string {
  return messageFor(`close_${code}`, tr(`연결이 끊겼습니다 (${code}).`, `The connection closed (${code}).`));
}
