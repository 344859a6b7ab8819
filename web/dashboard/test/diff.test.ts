import { describe, expect, it } from "vitest";
import { diffVersions, differingFields, flatten, jsonEqual, showValue } from "../src/lib/diff";

describe("conflict version diff", () => {
  it("flattens nested objects into dotted paths and keeps arrays whole", () => {
    const f = flatten({ title: "a", start: { date_time: "x", time_zone: "UTC" }, attendees: [{ email: "e" }] });
    expect([...f.keys()]).toEqual(["title", "start.date_time", "start.time_zone", "attendees"]);
    expect(f.get("attendees")).toEqual([{ email: "e" }]);
  });

  it("marks changed, one-sided and equal fields", () => {
    const provider = { title: "Standup", start: { date_time: "2024-05-01T09:00:00Z" }, location: "Room 1", attendees: ["a", "b"] };
    const host = { title: "Standup", start: { date_time: "2024-05-01T09:30:00Z" }, description: "notes", attendees: ["a", "b"] };
    const d = diffVersions(provider, host);
    const kinds = Object.fromEntries(d.map((x) => [x.field, x.kind]));
    expect(kinds).toEqual({
      title: "same",
      "start.date_time": "changed",
      location: "provider-only",
      attendees: "same",
      description: "host-only",
    });
  });

  it("ignores bookkeeping fields and treats an absent field like null", () => {
    const d = diffVersions({ id: "1", etag: "a", note: null }, { id: "2", etag: "b" }, new Set(["id", "etag"]));
    expect(d).toEqual([{ field: "note", provider: null, host: undefined, kind: "same" }]);
  });

  it("compares objects regardless of key order", () => {
    expect(jsonEqual({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 })).toBe(true);
    expect(jsonEqual([1, 2], [2, 1])).toBe(false);
  });

  it("adds the API's differences, including nested fields under a reported parent", () => {
    const d = diffVersions({ start: { date_time: "x" }, title: "t" }, { start: { date_time: "x" }, title: "t" });
    const set = differingFields(d, [{ field: "start" }]);
    expect([...set]).toEqual(["start", "start.date_time"]);
  });

  it("handles a deleted provider version", () => {
    const d = diffVersions(null, { title: "t" });
    expect(d).toEqual([{ field: "title", provider: undefined, host: "t", kind: "host-only" }]);
    expect(showValue(undefined)).toBe("(absent)");
    expect(showValue({ a: 1 })).toBe('{"a":1}');
  });
});
