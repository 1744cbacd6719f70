// Re-reading a service's endpoint on a timer for the admin pages that have no live feed: one
// round at a time (a slow round delays the next instead of piling up), only while the tab is
// visible, stopped when the page closes.
import { useEffect, useState } from "preact/hooks";

export interface Refreshed<T> {
  value: T | null;
  error: unknown;
  atMs: number | null;
}

/** `read` now and every `intervalMs` after each round ends; `version` re-reads at once. */
export function useRefreshed<T>(read: (signal: AbortSignal) => Promise<T>, intervalMs: number, version = 0): Refreshed<T> {
  const [state, setState] = useState<Refreshed<T>>({ value: null, error: null, atMs: null });
  useEffect(() => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    async function round() {
      if (document.visibilityState === "visible") {
        try {
          const value = await read(controller.signal);
          setState({ value, error: null, atMs: Date.now() });
        } catch (error) {
          if (controller.signal.aborted) return;
          setState((s) => ({ ...s, error }));
        }
      }
      if (!controller.signal.aborted) timer = setTimeout(round, intervalMs);
    }
    void round();
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, [version]);
  return state;
}
