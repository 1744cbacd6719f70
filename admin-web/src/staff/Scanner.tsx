// The staff scanner's one page: sign in, choose the performance and gate, then scan.

import { tr } from "../lib/i18n";
import { Layout } from "../ui/Layout";
import { PickDoor } from "./PickDoor";
import { ScanScreen } from "./ScanScreen";
import { door, session } from "./session";
import { SignIn } from "./SignIn";
import "./staff.css";

export function Scanner() {
  const signedIn = session.value;
  const choice = door.value;
  return (
    <Layout
      home="/staff/"
      brand={tr("Picket 입장 확인", "Picket door")}
      nav={signedIn && <span class="muted staff-who">{signedIn.account.name}</span>}
    >
      {!signedIn ? <SignIn /> : !choice ? <PickDoor /> : <ScanScreen key={`${choice.performance}-${choice.gate}`} choice={choice} token={signedIn.token} />}
    </Layout>
  );
}
