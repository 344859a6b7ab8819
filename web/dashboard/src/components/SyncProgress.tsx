import type { SyncRun } from "../api/types";
import { itemCounts } from "../api/types";
import { Badge } from "./ui";

/** A run's status with its page and item counters, announced politely as they change. */
export function SyncProgress({ run }: { run: SyncRun | undefined }) {
  if (!run) return null;
  const items = itemCounts(run.items);
  const pages = run.pages ?? 0;
  return (
    <span className="sync-progress" role="status" aria-live="polite">
      <Badge value={run.status} /> {run.phase ? <span className="small">{run.phase}</span> : null}{" "}
      <span className="small">
        {pages} {pages === 1 ? "page" : "pages"}{items ? `, ${items}` : ""}
      </span>
      {run.error ? <span className="small bad-text"> {run.error}</span> : null}
    </span>
  );
}
