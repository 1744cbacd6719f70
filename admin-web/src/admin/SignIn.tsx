// `/admin/signin`: an admin's session (`POST /api/v2/sessions`). Admin accounts are made with
// the operator token or by another admin (`POST /api/v2/admin/accounts`, role "admin").
import { tr } from "../lib/i18n";
import { SignInForm } from "../seller/console/SignInForm";
import { signIn } from "./session";

export function SignInPage() {
  return <SignInForm heading={tr("관리자 로그인", "Admin sign in")} home="/admin/" signIn={signIn} />;
}
