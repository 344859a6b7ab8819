// Sync lag for the overview: how long ago each connection last synced successfully, in buckets.

export const kLagBuckets = ["< 1 h", "1–6 h", "6–24 h", "> 1 d", "never"] as const;
export type LagBucket = (typeof kLagBuckets)[number];

const kHour = 3600_000;

/** The bucket of a last successful sync at `iso` (null: never) seen at `now`. */
export function lagBucket(iso: string | null | undefined, now: number = Date.now()): LagBucket {
  if (!iso) return "never";
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return "never";
  const age = now - t;
  if (age < kHour) return "< 1 h";
  if (age < 6 * kHour) return "1–6 h";
  if (age < 24 * kHour) return "6–24 h";
  return "> 1 d";
}

/**
 * A connection's lag: its most lagging synced service's last success (null when one never
 * succeeded); undefined when it has no synced service.
 */
export function connectionLastSuccess(services: { last_success_at?: string | null }[]): string | null | undefined {
  const first = services[0];
  if (!first) return undefined;
  let oldest: string | null = first.last_success_at ?? null;
  for (const s of services) {
    const at = s.last_success_at ?? null;
    if (at === null) return null;
    if (oldest !== null && Date.parse(at) < Date.parse(oldest)) oldest = at;
  }
  return oldest;
}

/** How many connections fall into each bucket, every bucket listed. */
export function lagHistogram(lastSuccess: (string | null)[], now: number = Date.now()): Record<LagBucket, number> {
  const out = Object.fromEntries(kLagBuckets.map((b) => [b, 0])) as Record<LagBucket, number>;
  for (const at of lastSuccess) out[lagBucket(at, now)]++;
  return out;
}
