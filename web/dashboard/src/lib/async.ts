// Loading data for a page: { data, error, loading, reload } that ignores answers to stale calls.
import { useCallback, useEffect, useRef, useState } from "react";
import type { Problem } from "@switchboard/client";
import { toProblem } from "../api/client";

export interface Loaded<T> {
  data: T | undefined;
  error: Problem | undefined;
  loading: boolean;
  reload: () => void;
  setData: (update: (old: T | undefined) => T | undefined) => void;
}

export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [data, setDataState] = useState<T | undefined>(undefined);
  const [error, setError] = useState<Problem | undefined>(undefined);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const seq = useRef(0);
  useEffect(() => {
    const mine = ++seq.current;
    setLoading(true);
    setError(undefined);
    load().then(
      (d) => {
        if (seq.current !== mine) return;
        setDataState(d);
        setLoading(false);
      },
      (e) => {
        if (seq.current !== mine) return;
        setError(toProblem(e));
        setLoading(false);
      },
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const setData = useCallback((update: (old: T | undefined) => T | undefined) => setDataState(update), []);
  return { data, error, loading, reload, setData };
}

/** Runs an action, tracking that it runs and its error (buttons disable while it runs). */
export function useAction() {
  const [running, setRunning] = useState(false);
  const [error, setError] = useState<Problem | undefined>(undefined);
  const run = useCallback(async <R,>(fn: () => Promise<R>): Promise<R | undefined> => {
    setRunning(true);
    setError(undefined);
    try {
      return await fn();
    } catch (e) {
      setError(toProblem(e));
      return undefined;
    } finally {
      setRunning(false);
    }
  }, []);
  return { running, error, run, setError };
}
