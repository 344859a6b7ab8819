import type { components } from "@switchboard/client";

type S = components["schemas"];
export type Connection = S["Connection"];
export type ConnectionStatus = S["ConnectionStatus"];
export type ConnectionHealth = S["ConnectionHealth"];
export type SyncRun = S["SyncRun"];
export type SyncState = S["SyncState"];
export type Conflict = S["Conflict"];
export type WebhookEndpoint = S["WebhookEndpoint"];
export type WebhookDelivery = S["WebhookDelivery"];
export type AuditEntry = S["AuditEntry"];
export type AuditEntryList = S["AuditEntryList"];
export type Usage = S["Usage"];
export type ApiKey = S["ApiKey"];
export type Tenant = S["Tenant"];
export type Integration = S["Integration"];
export type Provider = S["Provider"];
export type ProviderSwitchList = S["ProviderSwitchList"];
export type Change = S["Change"];
export type HealthIncident = S["HealthIncident"];
export type ConnectionSummary = S["ConnectionSummary"];
export type OpenIncident = S["OpenIncident"];
export type ServiceGrant = S["ServiceGrant"];

export const kConnectionStatuses: ConnectionStatus[] = [
  "active", "refreshing", "error", "reauthorization_required", "disabled", "revoked",
];

/** Runs in progress until they end. */
export function runActive(run: SyncRun | undefined): boolean {
  return !!run && (run.status === "queued" || run.status === "running");
}

/** "12 created, 3 updated" from a run's or a state's item counters. */
export function itemCounts(items: unknown): string {
  if (!items || typeof items !== "object") return "";
  return Object.entries(items as Record<string, unknown>)
    .filter(([, v]) => typeof v === "number")
    .map(([k, v]) => `${v} ${k}`)
    .join(", ");
}
