// Small shared pieces: badges, problem boxes, loading and empty states, times, copy fields, pagers.
import { useState, type ReactNode } from "react";
import type { Problem } from "@switchboard/client";
import { Dialog } from "./Dialog";
import { formatRelative, formatTime, humanize, timeTitle } from "../lib/format";

export type Tone = "ok" | "warn" | "bad" | "neutral" | "info";

const kTones: Record<string, Tone> = {
  active: "ok", healthy: "ok", succeeded: "ok", success: "ok", resolved: "ok", enabled: "ok", idle: "ok",
  refreshing: "info", running: "info", queued: "info", pending: "info", open: "warn", connecting: "info",
  degraded: "warn", reauthorization_required: "warn", paused: "warn", reconnecting: "warn", denied: "warn",
  error: "bad", unhealthy: "bad", failed: "bad", dead: "bad", revoked: "bad", failure: "bad", disabled: "neutral",
  unknown: "neutral", cancelled: "neutral", off: "neutral",
};

/** A status as a coloured badge with its word (never colour alone). */
export function Badge({ value, tone }: { value: string | null | undefined; tone?: Tone }) {
  const v = value ?? "unknown";
  return <span className={`badge badge-${tone ?? kTones[v] ?? "neutral"}`}>{humanize(v)}</span>;
}

/** An API error: title, detail and request id. */
export function ProblemBox({ problem, id }: { problem: Problem | undefined; id?: string }) {
  if (!problem) return null;
  return (
    <div className="problem" role="alert" id={id}>
      <strong>{problem.title}</strong>
      {problem.status ? <span> ({problem.status})</span> : null}
      {problem.detail ? <p>{problem.detail}</p> : null}
      {problem.request_id ? <p className="muted small">Request id: <code>{problem.request_id}</code></p> : null}
    </div>
  );
}

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <p className="loading" role="status" aria-live="polite">
      {label}
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>;
}

/** A time in the viewer's zone; hover shows the offset and UTC. */
export function Time({ iso, relative }: { iso: string | null | undefined; relative?: boolean }) {
  if (!iso) return <span>—</span>;
  return (
    <time dateTime={iso} title={timeTitle(iso)}>
      {relative ? formatRelative(iso) : formatTime(iso)}
    </time>
  );
}

/** A read-only value with a copy button. */
export function CopyField({ id, label, value }: { id: string; label: string; value: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="field">
      <label htmlFor={`${id}-value`}>{label}</label>
      <div className="copy-row">
        <input id={`${id}-value`} readOnly value={value} onFocus={(e) => e.currentTarget.select()} />
        <button
          type="button"
          id={`${id}-copy`}
          onClick={async () => {
            try {
              await navigator.clipboard.writeText(value);
              setCopied(true);
            } catch {
              (document.getElementById(`${id}-value`) as HTMLInputElement | null)?.select();
              setCopied(false);
            }
          }}
        >
          {copied ? "Copied" : "Copy"}
        </button>
      </div>
      <span className="small muted" aria-live="polite">{copied ? "Copied to the clipboard." : ""}</span>
    </div>
  );
}

/** Cursor pagination: first page and next page. */
export function Pager({
  id, hasPrev, nextCursor, onFirst, onPrev, onNext, count, label = "Pages",
}: {
  id: string; hasPrev: boolean; nextCursor: string | null | undefined; count: number;
  onFirst: () => void; onPrev: () => void; onNext: (cursor: string) => void;
  /** The navigation's name: unique on the page (landmarks need distinct names). */
  label?: string;
}) {
  return (
    <nav className="pager" aria-label={label}>
      <button type="button" id={`${id}-first`} disabled={!hasPrev} onClick={onFirst}>First page</button>
      <button type="button" id={`${id}-prev`} disabled={!hasPrev} onClick={onPrev}>Previous</button>
      <span className="muted small">{count} shown</span>
      <button type="button" id={`${id}-next`} disabled={!nextCursor} onClick={() => nextCursor && onNext(nextCursor)}>
        Next
      </button>
    </nav>
  );
}

/** Asks before a destructive action: names the object and the consequence. */
export function ConfirmDialog({
  id, title, children, confirmLabel, onConfirm, onClose, danger = true, running, problem,
}: {
  id: string; title: string; children: ReactNode; confirmLabel: string; danger?: boolean; running?: boolean;
  problem?: Problem; onConfirm: () => void; onClose: () => void;
}) {
  return (
    <Dialog id={id} title={title} onClose={onClose} initialFocus={`${id}-cancel`}>
      <div className="dialog-body">{children}</div>
      <ProblemBox problem={problem} />
      <div className="dialog-actions">
        <button type="button" id={`${id}-cancel`} onClick={onClose}>Cancel</button>
        <button
          type="button"
          id={`${id}-confirm`}
          className={danger ? "danger" : "primary"}
          disabled={running}
          onClick={onConfirm}
        >
          {running ? "Working…" : confirmLabel}
        </button>
      </div>
    </Dialog>
  );
}

/** Cursor stack for "previous page" on cursor-paginated lists (the cursor itself is in the URL). */
export function useCursorStack() {
  const [stack, setStack] = useState<string[]>([]);
  return {
    hasPrev: stack.length > 0,
    push: (current: string) => setStack((s) => [...s, current]),
    pop: (): string => {
      const prev = stack[stack.length - 1] ?? "";
      setStack((s) => s.slice(0, -1));
      return prev;
    },
    reset: () => setStack([]),
  };
}
