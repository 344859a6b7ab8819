// Field-level comparison of a conflict's two event versions (provider and host), for the side
// by side view: nested objects become dotted paths ("start.date_time"), arrays compare whole.

export type FieldDiff = {
  field: string;
  provider: unknown;
  host: unknown;
  /** "changed": both have it, differently; "provider-only" / "host-only": one lacks it. */
  kind: "same" | "changed" | "provider-only" | "host-only";
};

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Flattens nested objects into dotted paths; arrays and scalars are leaves. */
export function flatten(value: unknown, prefix = "", out: Map<string, unknown> = new Map()): Map<string, unknown> {
  if (isPlainObject(value)) {
    const keys = Object.keys(value);
    if (keys.length === 0 && prefix) out.set(prefix, {});
    for (const k of keys) flatten(value[k], prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) {
    out.set(prefix, value);
  }
  return out;
}

/** Deep equality of JSON values (object key order does not matter). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}

/**
 * Every field of either version, in a stable order (the provider's field order, then fields only
 * the host has), with how it differs. `ignore` leaves out bookkeeping fields (ids, etags).
 */
export function diffVersions(provider: unknown, host: unknown, ignore: ReadonlySet<string> = new Set()): FieldDiff[] {
  const p = flatten(provider ?? {});
  const h = flatten(host ?? {});
  const fields = [...p.keys(), ...[...h.keys()].filter((k) => !p.has(k))];
  const result: FieldDiff[] = [];
  for (const field of fields) {
    if (ignore.has(field) || ignore.has(field.split(".")[0] ?? "")) continue;
    const inP = p.has(field);
    const inH = h.has(field);
    const pv = p.get(field);
    const hv = h.get(field);
    let kind: FieldDiff["kind"];
    if (inP && !inH) kind = pv === null ? "same" : "provider-only";
    else if (!inP && inH) kind = hv === null ? "same" : "host-only";
    else kind = jsonEqual(pv, hv) ? "same" : "changed";
    result.push({ field, provider: pv, host: hv, kind });
  }
  return result;
}

/** The set of differing fields: the API's own `differences` when given, else the computed ones. */
export function differingFields(diffs: FieldDiff[], apiDifferences?: { field?: string }[]): Set<string> {
  const set = new Set(diffs.filter((d) => d.kind !== "same").map((d) => d.field));
  for (const d of apiDifferences ?? []) {
    if (!d.field) continue;
    set.add(d.field);
    // a nested difference reported on its parent marks the parent's fields
    for (const f of diffs) if (f.field.startsWith(d.field + ".")) set.add(f.field);
  }
  return set;
}

/** A field's value for display: strings as they are, everything else as compact JSON. */
export function showValue(v: unknown): string {
  if (v === undefined) return "(absent)";
  if (v === null) return "null";
  if (typeof v === "string") return v === "" ? '""' : v;
  return JSON.stringify(v);
}
