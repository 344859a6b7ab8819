// Live updates from GET /v1/live (text/event-stream, cookie auth): one EventSource per app,
// dispatched to the pages that subscribe with useLive(type, handler). The stream reconnects with
// backoff when it closes; pages still work without it (they refresh on their own actions and
// poll where progress matters).
import { createContext, useContext, useEffect, useRef, useState, type ReactNode } from "react";
import type { components } from "@switchboard/client";

export type SyncRun = components["schemas"]["SyncRun"];
export type WebhookDelivery = components["schemas"]["WebhookDelivery"];
export type HealthEvent = components["schemas"]["ConnectionHealth"] & { connection_id: string };

export interface LiveEvents {
  sync_run: SyncRun;
  health: HealthEvent;
  delivery: WebhookDelivery;
}
export type LiveType = keyof LiveEvents;
export const kLiveTypes: readonly LiveType[] = ["sync_run", "health", "delivery"];

export type LiveState = "connecting" | "open" | "reconnecting" | "off";

/** The part of EventSource the hub uses (tests pass a fake). */
export interface EventSourceLike {
  readonly readyState: number;
  onopen: ((ev: Event) => unknown) | null;
  onerror: ((ev: Event) => unknown) | null;
  addEventListener(type: string, listener: (ev: MessageEvent) => void): void;
  close(): void;
}

export interface LiveHubOptions {
  url?: string;
  create?: (url: string) => EventSourceLike;
  /** Delay before reconnect attempt n (0-based); default 1 s doubling to 30 s. */
  backoffMs?: (attempt: number) => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

type Handler<T extends LiveType> = (data: LiveEvents[T]) => void;

export class LiveHub {
  private readonly handlers = new Map<LiveType, Set<(data: unknown) => void>>();
  private readonly stateListeners = new Set<(s: LiveState) => void>();
  private source: EventSourceLike | null = null;
  private timer: unknown = null;
  private attempt = 0;
  private stopped = true;
  state: LiveState = "off";

  constructor(private readonly options: LiveHubOptions = {}) {}

  subscribe<T extends LiveType>(type: T, handler: Handler<T>): () => void {
    let set = this.handlers.get(type);
    if (!set) this.handlers.set(type, (set = new Set()));
    const h = handler as (data: unknown) => void;
    set.add(h);
    return () => set.delete(h);
  }

  onState(listener: (s: LiveState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** Hands a parsed event to its subscribers; malformed data is dropped. */
  dispatch(type: string, raw: string): void {
    if (!(kLiveTypes as readonly string[]).includes(type)) return;
    let data: unknown;
    try {
      data = JSON.parse(raw);
    } catch {
      return;
    }
    if (typeof data !== "object" || data === null) return;
    for (const h of [...(this.handlers.get(type as LiveType) ?? [])]) {
      try {
        h(data);
      } catch (e) {
        console.error("live handler failed", e);
      }
    }
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.open();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) (this.options.clearTimer ?? clearTimeout)(this.timer as never);
    this.timer = null;
    this.source?.close();
    this.source = null;
    this.setState("off");
  }

  private setState(s: LiveState) {
    if (this.state === s) return;
    this.state = s;
    for (const l of this.stateListeners) l(s);
  }

  private open() {
    const url = this.options.url ?? "/v1/live";
    const create = this.options.create ?? ((u: string) => new EventSource(u, { withCredentials: true }) as EventSourceLike);
    this.setState(this.attempt === 0 ? "connecting" : "reconnecting");
    let source: EventSourceLike;
    try {
      source = create(url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.source = source;
    source.onopen = () => {
      this.attempt = 0;
      this.setState("open");
    };
    source.onerror = () => {
      // EventSource retries by itself while CONNECTING; once CLOSED (e.g. a 401 or 404) we do.
      if (source.readyState === 2) {
        source.close();
        if (this.source === source) this.source = null;
        this.scheduleReconnect();
      } else {
        this.setState("reconnecting");
      }
    };
    for (const type of kLiveTypes) {
      source.addEventListener(type, (ev: MessageEvent) => this.dispatch(type, String(ev.data)));
    }
  }

  private scheduleReconnect() {
    if (this.stopped) return;
    this.setState("reconnecting");
    const delay = (this.options.backoffMs ?? ((n: number) => Math.min(30000, 1000 * 2 ** n)))(this.attempt++);
    this.timer = (this.options.setTimer ?? setTimeout)(() => {
      this.timer = null;
      if (!this.stopped) this.open();
    }, delay);
  }
}

const LiveContext = createContext<LiveHub | null>(null);

/** Opens the app's one live stream while mounted (i.e. while signed in). */
export function LiveProvider({ children, hub }: { children: ReactNode; hub?: LiveHub }) {
  const [theHub] = useState(() => hub ?? new LiveHub());
  useEffect(() => {
    if (typeof EventSource === "undefined" && !hub) return;
    theHub.start();
    return () => theHub.stop();
  }, [theHub, hub]);
  return <LiveContext.Provider value={theHub}>{children}</LiveContext.Provider>;
}

/** Calls `handler` for every live event of `type` while the component is mounted. */
export function useLive<T extends LiveType>(type: T, handler: Handler<T>): void {
  const hub = useContext(LiveContext);
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => {
    if (!hub) return;
    return hub.subscribe(type, (data) => ref.current(data));
  }, [hub, type]);
}

/** The live stream's state, for the header indicator and for choosing to poll. */
export function useLiveState(): LiveState {
  const hub = useContext(LiveContext);
  const [state, setState] = useState<LiveState>(hub?.state ?? "off");
  useEffect(() => {
    if (!hub) return;
    setState(hub.state);
    return hub.onState(setState);
  }, [hub]);
  return state;
}
