// Browsing, shows, accounts, inbox, my bookings, tickets, waitlist, guest lookup.
import type { BuyerRoute } from "../routes";

export const shopRoutes: BuyerRoute[] = [];
