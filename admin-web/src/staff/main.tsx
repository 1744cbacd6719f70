// The staff scanner at `/staff/`: sign in, pick a performance and gate, scan tickets.
import { render } from "preact";
import "../ui/base.css";
import { Scanner } from "./Scanner";

// The app's service worker (scope `/`) keeps this page's files too, so a scanner whose network
// drops at the door can still be reloaded and go on deciding from its stored manifest.
if ("serviceWorker" in navigator && !import.meta.env.DEV) {
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {
    // Without it the scanner still works while the page stays open.
  });
}

render(<Scanner />, document.getElementById("app")!);
