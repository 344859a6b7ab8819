// Manual syncs with live progress: runs by connection id, updated by sync_run events and, as a
// fallback, by polling GET /v1/sync-runs/{id} (every second without the live stream, every five
// with it) until the run ends.
import { useCallback, useEffect, useRef, useState } from "react";
import { must, sb } from "../api/client";
import { runActive, type SyncRun } from "../api/types";
import { useLive, useLiveState } from "./live";

export function useSyncRuns() {
  const [runs, setRuns] = useState<Record<string, SyncRun>>({});
  const runsRef = useRef(runs);
  runsRef.current = runs;
  const live = useLiveState();

  const put = useCallback((run: SyncRun) => {
    if (!run.connection_id) return;
    setRuns((r) => {
      const old = r[run.connection_id!];
      // an older run's late event does not replace a newer run
      if (old && old.id !== run.id && old.created_at && run.created_at && run.created_at < old.created_at) return r;
      return { ...r, [run.connection_id!]: run };
    });
  }, []);

  useLive("sync_run", put);

  const anyActive = Object.values(runs).some(runActive);
  useEffect(() => {
    if (!anyActive) return;
    const timer = setInterval(() => {
      for (const run of Object.values(runsRef.current)) {
        if (!runActive(run) || !run.id) continue;
        sb.GET("/v1/sync-runs/{id}", { params: { path: { id: run.id } } }).then(({ data }) => data && put(data), () => {});
      }
    }, live === "open" ? 5000 : 1000);
    return () => clearInterval(timer);
  }, [anyActive, live, put]);

  const start = useCallback(
    async (connectionId: string, full = false) => {
      const run = await must(
        sb.POST("/v1/connections/{id}/sync", { params: { path: { id: connectionId } }, body: { service: "calendar", full } }),
      );
      put({ ...run, connection_id: run.connection_id ?? connectionId });
      return run;
    },
    [put],
  );

  return { runs, start, put };
}
