// A seller page: a path pattern under `/seller/` (preact-iso syntax, `/seller/shows/:id`) and
// its component. The console, the seat-map editor and the dashboard each export a list of
// these (`consoleRoutes`, `editorRoutes`, `dashboardRoutes`); `main.tsx` mounts them all.
import type { ComponentType } from "preact";

export interface SellerRoute {
  path: string;
  component: ComponentType<any>;
}
