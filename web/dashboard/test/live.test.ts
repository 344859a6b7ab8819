import { describe, expect, it, vi } from "vitest";
import { LiveHub, type EventSourceLike } from "../src/lib/live";

class FakeSource implements EventSourceLike {
  readyState = 0;
  onopen: ((ev: Event) => unknown) | null = null;
  onerror: ((ev: Event) => unknown) | null = null;
  listeners = new Map<string, (ev: MessageEvent) => void>();
  closed = false;
  constructor(public url: string) {}
  addEventListener(type: string, l: (ev: MessageEvent) => void) {
    this.listeners.set(type, l);
  }
  close() {
    this.closed = true;
    this.readyState = 2;
  }
  emit(type: string, data: unknown) {
    this.listeners.get(type)?.({ data: typeof data === "string" ? data : JSON.stringify(data) } as MessageEvent);
  }
}

function setup() {
  const sources: FakeSource[] = [];
  const timers: (() => void)[] = [];
  const hub = new LiveHub({
    create: (u) => {
      const s = new FakeSource(u);
      sources.push(s);
      return s;
    },
    backoffMs: (n) => 100 * (n + 1),
    setTimer: (fn) => timers.push(fn),
    clearTimer: () => {},
  });
  return { hub, sources, timers };
}

describe("LiveHub", () => {
  it("opens one stream and dispatches events by name to their subscribers", () => {
    const { hub, sources } = setup();
    const runs = vi.fn();
    const health = vi.fn();
    hub.subscribe("sync_run", runs);
    const off = hub.subscribe("health", health);
    hub.start();
    hub.start();
    expect(sources).toHaveLength(1);
    expect(sources[0]!.url).toBe("/v1/live");
    sources[0]!.onopen?.(new Event("open"));
    expect(hub.state).toBe("open");
    sources[0]!.emit("sync_run", { id: "r1", status: "running", pages: 2 });
    sources[0]!.emit("health", { connection_id: "c1", status: "degraded" });
    sources[0]!.emit("delivery", { id: "d1" });
    expect(runs).toHaveBeenCalledWith({ id: "r1", status: "running", pages: 2 });
    expect(health).toHaveBeenCalledTimes(1);
    off();
    sources[0]!.emit("health", { connection_id: "c1", status: "healthy" });
    expect(health).toHaveBeenCalledTimes(1);
  });

  it("drops malformed data and keeps going when a handler throws", () => {
    const { hub, sources } = setup();
    const spy = vi.spyOn(console, "error").mockImplementation(() => {});
    const good = vi.fn();
    hub.subscribe("delivery", () => {
      throw new Error("boom");
    });
    hub.subscribe("delivery", good);
    hub.start();
    sources[0]!.emit("delivery", "not json{");
    expect(good).not.toHaveBeenCalled();
    sources[0]!.emit("delivery", { id: "d1" });
    expect(good).toHaveBeenCalledTimes(1);
    spy.mockRestore();
  });

  it("reconnects with backoff after the stream closes, and not after stop()", () => {
    const { hub, sources, timers } = setup();
    const states: string[] = [];
    hub.onState((s) => states.push(s));
    hub.start();
    sources[0]!.readyState = 2;
    sources[0]!.onerror?.(new Event("error"));
    expect(hub.state).toBe("reconnecting");
    expect(timers).toHaveLength(1);
    timers.shift()!();
    expect(sources).toHaveLength(2);
    sources[1]!.onopen?.(new Event("open"));
    expect(hub.state).toBe("open");
    hub.stop();
    expect(sources[1]!.closed).toBe(true);
    expect(hub.state).toBe("off");
    expect(states).toEqual(["connecting", "reconnecting", "open", "off"]);
  });

  it("leaves a still-connecting stream to EventSource's own retry", () => {
    const { hub, sources, timers } = setup();
    hub.start();
    sources[0]!.readyState = 0;
    sources[0]!.onerror?.(new Event("error"));
    expect(timers).toHaveLength(0);
    expect(sources).toHaveLength(1);
    expect(hub.state).toBe("reconnecting");
  });
});
