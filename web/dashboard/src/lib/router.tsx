// A tiny history router under the app's base path (/dashboard/): the path picks the page, the
// query string holds a page's filters and cursor so that they survive reloads and can be shared.
import { useEffect, useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from "react";

export const kBase = import.meta.env.BASE_URL.replace(/\/$/, ""); // "/dashboard"

const listeners = new Set<() => void>();
function notify() {
  for (const l of listeners) l();
}
if (typeof window !== "undefined") window.addEventListener("popstate", notify);

function subscribe(l: () => void) {
  listeners.add(l);
  return () => listeners.delete(l);
}
const snapshot = () => window.location.pathname + window.location.search;

/** The app path without the base ("/connections/abc") and the query. */
export function useLocation(): { path: string; query: URLSearchParams } {
  const full = useSyncExternalStore(subscribe, snapshot, snapshot);
  const [pathname, search = ""] = full.split("?");
  let path = pathname ?? "/";
  if (path.startsWith(kBase)) path = path.slice(kBase.length);
  if (path === "") path = "/";
  return { path, query: new URLSearchParams(search) };
}

/** Goes to an app path ("/connections?status=error"). */
export function navigate(to: string, options: { replace?: boolean } = {}): void {
  const url = kBase + to;
  if (options.replace) window.history.replaceState(null, "", url);
  else window.history.pushState(null, "", url);
  notify();
}

/** Builds "path?query" from a record, leaving out empty values. */
export function withQuery(path: string, params: Record<string, string | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/** Updates some query parameters of the current page (replacing the history entry). */
export function useQueryUpdater(): (changes: Record<string, string | undefined | null>) => void {
  const { path, query } = useLocation();
  return (changes) => {
    const next: Record<string, string> = {};
    query.forEach((v, k) => (next[k] = v));
    for (const [k, v] of Object.entries(changes)) {
      if (v) next[k] = v;
      else delete next[k];
    }
    navigate(withQuery(path, next), { replace: true });
  };
}

type LinkProps = AnchorHTMLAttributes<HTMLAnchorElement> & { id: string; to: string };

/** An in-app link: a real <a href> (open in a new tab works), navigated without reload. */
export function Link({ to, onClick, ...rest }: LinkProps) {
  return (
    <a
      {...rest}
      href={kBase + to}
      onClick={(e: MouseEvent<HTMLAnchorElement>) => {
        onClick?.(e);
        if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
        e.preventDefault();
        navigate(to);
      }}
    />
  );
}

/** Sets document.title. */
export function useTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · Switchboard`;
  }, [title]);
}
