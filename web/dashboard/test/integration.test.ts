import { describe, expect, it } from "vitest";
import type { Integration, Provider } from "../src/api/types";
import { integrationIfMatch, integrationPut, type IntegrationForm } from "../src/lib/integration";

const google = { id: "google", display_name: "Google", auth: "oauth2", services: { calendar: { read: ["r"], read_write: ["w"] } } } as unknown as Provider;
const twilio = { id: "twilio", display_name: "Twilio", auth: "basic", services: {} } as unknown as Provider;
const stored: Integration = {
  provider: "google", client_id: "old-client", client_secret_set: true,
  services: [{ service: "calendar", access: "read_write" }], extra_scopes: ["offline_access"],
  enabled: true, allow_reassignment: false, version: 7,
  created_at: "2024-01-01T00:00:00Z", updated_at: "2024-01-02T00:00:00Z",
  conflict_policies: { calendar: "manual" },
};
const form: IntegrationForm = {
  enabled: true, allowReassignment: true, clientId: " new-client ", clientSecret: "",
  services: [{ service: "calendar", access: "read" }], extraScopes: [],
};

describe("the integration dialog's PUT", () => {
  it("keeps the conflict policies it does not show (the PUT replaces the whole integration)", () => {
    expect(integrationPut(google, stored, form)).toEqual({
      enabled: true, allow_reassignment: true, client_id: "new-client",
      services: [{ service: "calendar", access: "read" }], extra_scopes: [],
      conflict_policies: { calendar: "manual" },
    });
  });
  it("sends a secret only when one is typed", () => {
    expect(integrationPut(google, stored, { ...form, clientSecret: "s3cret" }).client_secret).toBe("s3cret");
    expect("client_secret" in integrationPut(google, stored, form)).toBe(false);
  });
  it("keeps a credential provider's stored services and scopes, and sends no client id", () => {
    const keyed = { ...stored, provider: "twilio", client_id: "" };
    expect(integrationPut(twilio, keyed, { ...form, clientSecret: "x" })).toEqual({
      enabled: true, allow_reassignment: true,
      services: [{ service: "calendar", access: "read_write" }], extra_scopes: ["offline_access"],
      conflict_policies: { calendar: "manual" },
    });
  });
  it("sets up a new integration with no policies and no If-Match", () => {
    expect(integrationPut(google, undefined, form).conflict_policies).toEqual({});
    expect(integrationIfMatch(undefined)).toEqual({});
    expect(integrationIfMatch(stored)).toEqual({ "If-Match": '"7"' });
  });
});
