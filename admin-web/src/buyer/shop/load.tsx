// Loading state for a page's data: one request, its error shown with the message for its code.
import { useCallback, useEffect, useState } from "preact/hooks";
import { errorMessage } from "../../lib/errors";
import { tr } from "../../lib/i18n";

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` when `deps` change (and on `reload`), keeping the last data while reloading so
 * the page does not jump. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [round, setRound] = useState(0);
  useEffect(() => {
    let current = true;
    setLoading(true);
    load()
      .then((value) => {
        if (!current) return;
        setData(value);
        setError(null);
      })
      .catch((e: unknown) => current && setError(e))
      .finally(() => current && setLoading(false));
    return () => {
      current = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, round]);
  const reload = useCallback(() => setRound((r) => r + 1), []);
  return { data, error, loading, reload };
}

export function ErrorBox(props: { error: unknown }) {
  if (!props.error) return null;
  return (
    <p class="error" role="alert">
      {errorMessage(props.error)}
    </p>
  );
}

export function Loading() {
  return (
    <p class="muted" aria-live="polite">
      {tr("불러오는 중…", "Loading…")}
    </p>
  );
}

/** A date input's value (YYYY-MM-DD, a Korean calendar day) as the first ms of that day in KST. */
export function kstDayStartMs(day: string): number | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!match) return null;
  return Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) - 9 * 3_600_000;
}
