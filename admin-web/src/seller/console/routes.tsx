// The console's own pages (the editor's and the dashboard's are theirs).
import type { SellerRoute } from "../route";
import { SignInPage, SignUpPage } from "./Account";
import { BoardPage } from "./Board";
import { MyShowsPage } from "./MyShows";
import { ShowManagePage } from "./ShowManage";
import { NewShowPage } from "./wizard/Wizard";

export const consoleRoutes: SellerRoute[] = [
  { path: "/seller/", component: MyShowsPage },
  { path: "/seller/signin", component: SignInPage },
  { path: "/seller/signup", component: SignUpPage },
  { path: "/seller/shows/new", component: NewShowPage },
  { path: "/seller/shows/:id", component: ShowManagePage },
  { path: "/seller/shows/:id/board", component: BoardPage },
];
