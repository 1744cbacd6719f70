// A buyer route: a path pattern (preact-iso syntax, `/shows/:id`) and its page.
import type { ComponentType } from "preact";

export interface BuyerRoute {
  path: string;
  component: ComponentType<any>;
}
