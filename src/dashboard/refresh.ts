import { useEffect, useRef } from 'react';

const REFRESH_MS = 2000;

/**
 * Calls `refresh` when `counters` change, at most once every 2 s (the last change is never
 * dropped), and at once when `status` changes: a campaign that just completed should not
 * show stale data for another two seconds. A running campaign changes its live counters four
 * times a second, and the views refetched from them need not follow each step.
 */
export function useThrottledRefresh(status: string, counters: string, refresh: () => void): void {
  const last = useRef(0);
  // What the view was fetched for needs no refresh.
  const fetchedFor = useRef({ status, counters });
  const latest = useRef(refresh);
  latest.current = refresh;
  useEffect(() => {
    const fetched = fetchedFor.current;
    if (status === fetched.status && counters === fetched.counters) return;
    const wait = status === fetched.status ? Math.max(0, last.current + REFRESH_MS - Date.now()) : 0;
    const timer = window.setTimeout(() => {
      last.current = Date.now();
      fetchedFor.current = { status, counters };
      latest.current();
    }, wait);
    return () => window.clearTimeout(timer);
  }, [status, counters]);
}
