// The seller console at `/seller/`: company sign-up and sign-in, "my shows", the show
// registration wizard and publishing, the board (notices, answers), the seat-map editor and the
// live dashboard. Korean first, English through the header's toggle; laid out for a desktop
// but usable on a phone.
import { render } from "preact";
import { LocationProvider, Route, Router } from "preact-iso";
import "../ui/base.css";
import "./seller.css";
import { consoleRoutes } from "./console/routes";
import { NotFound, SellerFrame } from "./frame";
import type { SellerRoute } from "./route";

// The editor's and the dashboard's routes are found by file name rather than imported by name,
// so this page builds whichever of the three parts a branch has. Eager: they are part of the
// page's bundle like a static import (each part lazy-loads its own heavy code, e.g. charts).
const parts = import.meta.glob<Record<string, SellerRoute[] | undefined>>(["./editor/routes.tsx", "./dashboard/routes.tsx"], { eager: true });
const partRoutes: SellerRoute[] = [...(parts["./editor/routes.tsx"]?.editorRoutes ?? []), ...(parts["./dashboard/routes.tsx"]?.dashboardRoutes ?? [])];

const routes: SellerRoute[] = [...consoleRoutes, ...partRoutes];

function App() {
  return (
    <LocationProvider>
      <SellerFrame>
        <Router>
          {routes.map((route) => (
            <Route key={route.path} path={route.path} component={route.component} />
          ))}
          <Route default component={NotFound} />
        </Router>
      </SellerFrame>
    </LocationProvider>
  );
}

render(<App />, document.getElementById("app")!);
