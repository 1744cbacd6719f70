// The staff scanner at `/staff/`: sign in, pick a performance and gate, scan tickets.
import { render } from "preact";
import "../ui/base.css";
import { Scanner } from "./Scanner";

render(<Scanner />, document.getElementById("app")!);
