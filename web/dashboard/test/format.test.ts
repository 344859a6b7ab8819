import { describe, expect, it } from "vitest";
import { formatCount, formatDuration, formatRelative, humanize, idPart, isoToLocalInput, localInputToIso } from "../src/lib/format";

describe("formatting", () => {
  it("formats durations", () => {
    expect(formatDuration(45_000)).toBe("45 s");
    expect(formatDuration(3 * 60_000)).toBe("3 min");
    expect(formatDuration(2 * 3600_000 + 5 * 60_000)).toBe("2 h 5 min");
    expect(formatDuration(4 * 86400_000 + 3 * 3600_000)).toBe("4 d 3 h");
    expect(formatDuration(-90_000)).toBe("1 min");
  });
  it("formats relative times", () => {
    const now = Date.parse("2024-05-01T12:00:00Z");
    expect(formatRelative("2024-05-01T11:57:00Z", now)).toBe("3 min ago");
    expect(formatRelative("2024-05-01T14:00:00Z", now)).toBe("in 2 h");
    expect(formatRelative("2024-05-01T12:00:01Z", now)).toBe("just now");
    expect(formatRelative(null, now)).toBe("—");
  });
  it("formats counts and words", () => {
    expect(formatCount(1234567)).toBe("1,234,567");
    expect(formatCount(undefined)).toBe("—");
    expect(humanize("reauthorization_required")).toBe("reauthorization required");
  });
  it("makes id parts", () => {
    expect(idPart("Google Calendar")).toBe("google-calendar");
    expect(idPart("--")).toBe("x");
  });
  it("round-trips datetime-local values", () => {
    const iso = localInputToIso("2024-05-01T14:03");
    expect(iso).toMatch(/Z$/);
    expect(isoToLocalInput(iso)).toBe("2024-05-01T14:03");
    expect(localInputToIso("")).toBeUndefined();
  });
});
