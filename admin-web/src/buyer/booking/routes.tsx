// The booking pages: the queue, the seat map, checkout and the return from the payment page.
//
// Entry point: `/performances/:performanceId/book` — the show page's "예매하기 / Book" link for
// one performance (its id, which is also its sale's id). The page finds the show and venue from
// the performance (`GET /api/v2/performances/{id}`), queues, then moves on to the seat map and
// checkout by itself. `/booking/return` is the payment provider's success and fail URL.
//
// Both pages are loaded on demand (`lazy`), so the app's first load stays small.
import { lazy } from "preact-iso";
import type { BuyerRoute } from "../routes";

const BookPage = lazy(() => import("./BookPage"));
const ReturnPage = lazy(() => import("./ReturnPage"));

export const bookingRoutes: BuyerRoute[] = [
  { path: "/performances/:performanceId/book", component: BookPage },
  { path: "/booking/return", component: ReturnPage },
];
