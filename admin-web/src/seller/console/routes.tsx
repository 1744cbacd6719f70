// The console's own pages (the editor's and the dashboard's are theirs).
import type { SellerRoute } from "../route";
import { SignInPage, SignUpPage } from "./Account";
import { MyShowsPage } from "./MyShows";

export const consoleRoutes: SellerRoute[] = [
  { path: "/seller/", component: MyShowsPage },
  { path: "/seller/signin", component: SignInPage },
  { path: "/seller/signup", component: SignUpPage },
];
