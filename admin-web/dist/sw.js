// The buyer app's service worker, served as /sw.js with scope / (built by the `serviceWorker`
// plugin in vite.config.ts, which fills in PRECACHE and VERSION from the build's own files).
// It precaches the app shell and every hashed asset so the app — the rotating QR ticket above
// all — opens with no network at the venue; and it shows Web Push notifications with the app
// closed (docs/protocol.md "Web Push": the payload is one inbox item). Self-contained: no
// imports, since it is transpiled, not bundled.
/// <reference lib="webworker" />
/** Every file of the build to keep (paths from the site root), and the build's version. */
const PRECACHE = JSON.parse("[\"/admin/index.html\",\"/assets/Account-OpfoJwCe.js\",\"/assets/BookPage-cWh_65A3.js\",\"/assets/Bookings-D76RAkbF.js\",\"/assets/Charts-C-W6P8ND.js\",\"/assets/Charts-CnsZ1jie.css\",\"/assets/DashboardPage-BTP5HUJS.js\",\"/assets/DashboardPage-DJXB6_-_.css\",\"/assets/Guest-CjYmfn-g.js\",\"/assets/Inbox-BzzmE-W9.js\",\"/assets/Layout-BYF_O4gG.js\",\"/assets/Layout-D-InxbLZ.css\",\"/assets/ReturnPage-CPLfN0Zn.js\",\"/assets/ShowPage-BgIg0DBy.js\",\"/assets/SignInForm-D4a9vOSj.js\",\"/assets/SignInForm-b2BYHxb9.css\",\"/assets/Ticket-mFAOcJJ0.js\",\"/assets/Waitlist-CPqIXuR9.js\",\"/assets/admin-B8VLnuZ-.js\",\"/assets/booking-CUb3KqE0.css\",\"/assets/buyer-CcRqD8g8.js\",\"/assets/buyer-glsn0W5h.css\",\"/assets/data-Bo9XL570.js\",\"/assets/jsQR-DFncVDGV.js\",\"/assets/preload-helper-DdBB-4Xk.js\",\"/assets/rolldown-runtime-QQ38H6s1.js\",\"/assets/router-DyoZnQmT.js\",\"/assets/seller-CGMlkBP_.js\",\"/assets/seller-DWs7mKB5.css\",\"/assets/staff-2b4mCTsq.css\",\"/assets/staff-EHlXGh2r.js\",\"/assets/taxonomy-0n3iJPnz.js\",\"/assets/ws-CwcsEk_0.js\",\"/index.html\",\"/seller/index.html\",\"/staff/index.html\",\"/icon-192.png\",\"/icon-512.png\",\"/icon.svg\",\"/manifest.webmanifest\"]");
const VERSION = "ce0f3e2453c18b99";
const CACHE = `picket-shell-${VERSION}`;
/** Notification ids the worker remembers having shown (the same id may be pushed twice). */
const SHOWN_IDS_MAX = 200;
const shownIds = [];
self.addEventListener("install", (event) => {
	event.waitUntil((async () => {
		const cache = await caches.open(CACHE);
		await cache.addAll(PRECACHE);
		await self.skipWaiting();
	})());
});
self.addEventListener("activate", (event) => {
	event.waitUntil((async () => {
		for (const name of await caches.keys()) {
			if (name.startsWith("picket-shell-") && name !== CACHE) await caches.delete(name);
		}
		await self.clients.claim();
	})());
});
/** The page a navigation falls back to offline: the staff scanner's, the seller console's, the
* admin dashboard's or the buyer app's shell. */
function shellFor(path) {
	for (const section of [
		"staff",
		"seller",
		"admin"
	]) {
		if (path === `/${section}` || path.startsWith(`/${section}/`)) return `/${section}/index.html`;
	}
	return "/index.html";
}
self.addEventListener("fetch", (event) => {
	const request = event.request;
	if (request.method !== "GET") return;
	const url = new URL(request.url);
	// The API and the WebSocket are always live: never answered from the cache.
	if (url.origin !== self.location.origin || url.pathname.startsWith("/api/") || url.pathname === "/ws") return;
	if (request.mode === "navigate") {
		event.respondWith((async () => {
			try {
				return await fetch(request);
			} catch {
				const cached = await caches.match(shellFor(url.pathname), {
					cacheName: CACHE,
					ignoreVary: true
				});
				return cached ?? Response.error();
			}
		})());
		return;
	}
	// Hashed assets never change under one name: the cache first, then the network. `ignoreVary`:
	// a server may answer `Vary: Origin`, and module scripts are asked for with an Origin header
	// that the precache's own requests did not have.
	event.respondWith((async () => {
		const cached = await caches.match(request, {
			cacheName: CACHE,
			ignoreVary: true
		});
		return cached ?? fetch(request);
	})());
});
/** The app page a notification is about (the same mapping as src/buyer/shop/inbox-state.ts). */
function linkOf(item) {
	const data = item.data ?? {};
	switch (item.kind) {
		case "interest_alert":
		case "reminder":
		case "seller_notice": return data.show ? `/shows/${data.show}` : "/inbox";
		case "booking_confirmed":
		case "tickets_cancelled":
		case "refund_paid": return data.booking ? `/me/bookings/${data.booking}` : "/me/bookings";
		case "waitlist_offer":
		case "waitlist_ended": return "/me/waitlist";
		default: return "/inbox";
	}
}
self.addEventListener("push", (event) => {
	let item;
	try {
		item = event.data?.json();
	} catch {
		return;
	}
	if (!item || typeof item.id !== "string") return;
	event.waitUntil((async () => {
		if (shownIds.includes(item.id)) return;
		shownIds.push(item.id);
		if (shownIds.length > SHOWN_IDS_MAX) shownIds.shift();
		// An app open and in view shows it itself (its inbox count): no system notification.
		const windows = await self.clients.matchAll({
			type: "window",
			includeUncontrolled: true
		});
		const visible = windows.filter((w) => w.visibilityState === "visible" && w.focused);
		if (visible.length > 0) {
			for (const w of visible) w.postMessage({
				type: "notification",
				item
			});
			return;
		}
		// Korean by default; English where the device prefers it (the payload carries both).
		const english = self.navigator.language.toLowerCase().startsWith("en");
		const text = (english ? item.texts?.en : item.texts?.ko) ?? {
			title: item.title,
			body: item.body
		};
		await self.registration.showNotification(text.title, {
			body: text.body,
			tag: item.id,
			icon: "/icon-192.png",
			badge: "/icon-192.png",
			lang: english ? "en" : "ko",
			data: { link: linkOf(item) }
		});
	})());
});
self.addEventListener("notificationclick", (event) => {
	event.notification.close();
	const link = event.notification.data?.link ?? "/inbox";
	const target = new URL(link, self.location.origin).href;
	event.waitUntil((async () => {
		const windows = await self.clients.matchAll({
			type: "window",
			includeUncontrolled: true
		});
		for (const w of windows) {
			if (new URL(w.url).origin === self.location.origin) {
				const focused = await w.focus();
				await focused.navigate(target).catch(() => undefined);
				return;
			}
		}
		await self.clients.openWindow(target);
	})());
});
