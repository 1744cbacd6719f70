// The member's unread count for the header, and where each notification leads.
import { signal } from "@preact/signals";
import { get } from "../../lib/api";
import type { InboxItem, Page } from "./api-types";

export const unread = signal<number | null>(null);

export async function refreshUnread(): Promise<void> {
  try {
    const page = await get<Page<InboxItem> & { unread: number }>("/me/notifications?limit=1");
    unread.value = page.unread;
  } catch {
    // Offline or signed out: the count shown stays as it was.
  }
}

/** The app page a notification is about (public/sw.js's `linkOf` is the same mapping). */
export function notificationLink(item: Pick<InboxItem, "kind" | "data">): string {
  const data = item.data ?? {};
  switch (item.kind) {
    case "interest_alert":
    case "reminder":
    case "seller_notice":
      return data.show ? `/shows/${data.show}` : "/inbox";
    case "booking_confirmed":
    case "tickets_cancelled":
    case "refund_paid":
      return data.booking ? `/me/bookings/${data.booking}` : "/me/bookings";
    case "waitlist_offer":
    case "waitlist_ended":
      return "/me/waitlist";
    default:
      return "/inbox";
  }
}
