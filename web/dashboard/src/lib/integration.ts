// The body of PUT /v1/integrations/{provider} from the integration dialog. The PUT replaces the
// whole integration (an absent field is reset to its default), so what the dialog does not edit
// (the conflict policies; a credential provider's services and scopes) is sent as it is stored.
import type { components } from "@switchboard/client";
import type { Integration, Provider, ServiceGrant } from "../api/types";

export type IntegrationPut = components["schemas"]["IntegrationPut"];

export interface IntegrationForm {
  enabled: boolean;
  allowReassignment: boolean;
  clientId: string;
  /** Empty: keep the stored secret (it is write-only and never shown). */
  clientSecret: string;
  services: ServiceGrant[];
  extraScopes: string[];
}

export function integrationPut(provider: Provider, stored: Integration | undefined, form: IntegrationForm): IntegrationPut {
  const common = {
    enabled: form.enabled,
    allow_reassignment: form.allowReassignment,
    conflict_policies: stored?.conflict_policies ?? {},
  };
  if (provider.auth !== "oauth2") {
    return {
      ...common,
      ...(stored?.services.length ? { services: stored.services } : {}),
      ...(stored?.extra_scopes.length ? { extra_scopes: stored.extra_scopes } : {}),
    };
  }
  return {
    ...common,
    client_id: form.clientId.trim(),
    ...(form.clientSecret ? { client_secret: form.clientSecret } : {}),
    services: form.services,
    extra_scopes: form.extraScopes,
  };
}

/** If-Match for a PUT over `stored`: the change is refused (412) if another was saved since. */
export function integrationIfMatch(stored: Integration | undefined): { "If-Match"?: string } {
  return stored ? { "If-Match": `"${stored.version}"` } : {};
}
