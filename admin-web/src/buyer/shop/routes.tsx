// Browsing, shows, accounts, inbox, my bookings, tickets, waitlist, guest lookup. The home page
// is in the first load; the others load when first opened (the service worker precaches them
// all, so they open offline too).
import { lazy } from "preact-iso";
import type { BuyerRoute } from "../routes";
import { Home } from "./Home";
import "./shop.css";

const ShowPage = lazy(() => import("./ShowPage").then((m) => m.ShowPage));
const SignUpPage = lazy(() => import("./Account").then((m) => m.SignUpPage));
const SignInPage = lazy(() => import("./Account").then((m) => m.SignInPage));
const InboxPage = lazy(() => import("./Inbox").then((m) => m.InboxPage));
const MyBookings = lazy(() => import("./Bookings").then((m) => m.MyBookings));
const BookingDetail = lazy(() => import("./Bookings").then((m) => m.BookingDetail));
const TicketPage = lazy(() => import("./Ticket").then((m) => m.TicketPage));
const MyWaitlist = lazy(() => import("./Waitlist").then((m) => m.MyWaitlist));
const GuestLookup = lazy(() => import("./Guest").then((m) => m.GuestLookup));

export const shopRoutes: BuyerRoute[] = [
  { path: "/", component: Home },
  { path: "/shows/:id", component: ShowPage },
  { path: "/signup", component: SignUpPage },
  { path: "/signin", component: SignInPage },
  { path: "/inbox", component: InboxPage },
  { path: "/me/bookings", component: MyBookings },
  { path: "/me/bookings/:id", component: BookingDetail },
  { path: "/tickets/:id", component: TicketPage },
  { path: "/me/waitlist", component: MyWaitlist },
  { path: "/guest", component: GuestLookup },
];
