import { describe, expect, it } from "vitest";
import { connectionLastSuccess, lagBucket, lagHistogram } from "../src/lib/lag";

const now = Date.parse("2024-05-01T12:00:00Z");

describe("sync lag", () => {
  it("buckets the time since the last successful sync", () => {
    expect(lagBucket("2024-05-01T11:30:00Z", now)).toBe("< 1 h");
    expect(lagBucket("2024-05-01T11:00:00Z", now)).toBe("1–6 h");
    expect(lagBucket("2024-05-01T01:00:00Z", now)).toBe("6–24 h");
    expect(lagBucket("2024-04-29T12:00:00Z", now)).toBe("> 1 d");
    expect(lagBucket(null, now)).toBe("never");
  });
  it("takes a connection's most lagging service", () => {
    expect(connectionLastSuccess([])).toBeUndefined();
    expect(connectionLastSuccess([{ last_success_at: "2024-05-01T10:00:00Z" }, { last_success_at: "2024-04-01T10:00:00Z" }])).toBe("2024-04-01T10:00:00Z");
    expect(connectionLastSuccess([{ last_success_at: "2024-05-01T10:00:00Z" }, { last_success_at: null }])).toBeNull();
  });
  it("counts every bucket, zeros included", () => {
    expect(lagHistogram(["2024-05-01T11:59:00Z", null, null], now)).toEqual({ "< 1 h": 1, "1–6 h": 0, "6–24 h": 0, "> 1 d": 0, never: 2 });
  });
});
