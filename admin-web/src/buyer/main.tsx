// The buyer app: one page application at `/`, Korean first, phone first.
import { render } from "preact";
import { LocationProvider, Router, Route } from "preact-iso";
import "../ui/base.css";
import { bookingRoutes } from "./booking/routes";
import { shopRoutes } from "./shop/routes";
import { BuyerFrame, NotFound } from "./frame";

function App() {
  return (
    <LocationProvider>
      <BuyerFrame>
        <Router>
          {[...shopRoutes, ...bookingRoutes].map((route) => (
            <Route key={route.path} path={route.path} component={route.component} />
          ))}
          <Route default component={NotFound} />
        </Router>
      </BuyerFrame>
    </LocationProvider>
  );
}

render(<App />, document.getElementById("app")!);
