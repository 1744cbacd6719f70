// The admin dashboard at `/admin/`: the platform overview (services' health, the ledger's roles,
// sales), every sale on now, operations figures (error and rejection rates, the refund backlog,
// payment reconciliation), seller approval, board moderation and staff accounts. Korean first, English through the header's
// toggle; laid out for a desktop.
import { render } from "preact";
import { LocationProvider, Route, Router } from "preact-iso";
import "../ui/base.css";
import "../seller/seller.css";
import { AdminFrame, NotFound } from "./frame";
import { ModerationPage } from "./Moderation";
import { OperationsPage } from "./Operations";
import { OverviewPage } from "./Overview";
import { SalesPage } from "./Sales";
import { SellersPage } from "./Sellers";
import { SignInPage } from "./SignIn";
import { StaffPage } from "./Staff";

function App() {
  return (
    <LocationProvider>
      <AdminFrame>
        <Router>
          <Route path="/admin/" component={OverviewPage} />
          <Route path="/admin/signin" component={SignInPage} />
          <Route path="/admin/sales" component={SalesPage} />
          <Route path="/admin/operations" component={OperationsPage} />
          <Route path="/admin/sellers" component={SellersPage} />
          <Route path="/admin/moderation" component={ModerationPage} />
          <Route path="/admin/staff" component={StaffPage} />
          <Route default component={NotFound} />
        </Router>
      </AdminFrame>
    </LocationProvider>
  );
}

render(<App />, document.getElementById("app")!);
