// The live dashboard's pages (docs/protocol.md, "The seller's dashboard"): a show's dashboard
// opens on its first performance, `/seller/shows/:id/dashboard/:performance` on another. The
// page, and the chart library inside it, load on demand.
import { lazy } from "preact-iso";
import type { SellerRoute } from "../route";

const DashboardPage = lazy(() => import("./DashboardPage"));

export const dashboardRoutes: SellerRoute[] = [
  { path: "/seller/shows/:id/dashboard", component: DashboardPage },
  { path: "/seller/shows/:id/dashboard/:performance", component: DashboardPage },
];
