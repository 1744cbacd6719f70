// The queue, the seat map, checkout and the return from the payment page.
import type { BuyerRoute } from "../routes";

export const bookingRoutes: BuyerRoute[] = [];
