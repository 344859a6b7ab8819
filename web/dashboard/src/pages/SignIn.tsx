import { useEffect, useState, type FormEvent } from "react";
import type { Problem } from "@switchboard/client";
import { must, sb } from "../api/client";
import { ApiError, sessionApi, type Session } from "../api/session";
import { ProblemBox } from "../components/ui";
import { formatDuration, formatTime } from "../lib/format";
import { useTitle } from "../lib/router";

/** Only the workspace (tenant id) is remembered; never a secret. */
export const kTenantKey = "switchboard.tenant";
export const kSystemTenant = "00000000-0000-0000-0000-000000000000";

interface SignInProvider {
  provider: string;
  name: string;
  start_url: string;
}

/** What /v1/session/oidc/callback's `sign_in_error` codes mean to the person signing in. */
const kProviderErrors: Record<string, string> = {
  no_user:
    "No dashboard user of this workspace signs in with that account. Ask an admin of the workspace to add you with the same email address.",
  invalid_state: "The sign-in took too long, or it was started in another browser or tab. Try again.",
  cancelled: "The sign-in was cancelled at the provider.",
  directory_refused: "Accounts of that Microsoft directory may not sign in to this deployment.",
  provider_error: "The provider did not complete the sign-in. Try again.",
  token_exchange_failed: "The provider's answer could not be used. Try again; if it keeps failing, tell your operator.",
  invalid_id_token: "The provider's answer could not be verified. Try again; if it keeps failing, tell your operator.",
  not_configured: "Sign-in with a provider is not set up on this deployment.",
  unavailable: "Something went wrong on our side. Try again in a moment.",
};

/** The problem a `?sign_in_error=` in the address names, if any. */
export function providerSignInProblem(search: string): Problem | undefined {
  const code = new URLSearchParams(search).get("sign_in_error");
  if (code === null) return undefined;
  const detail = kProviderErrors[code] ?? kProviderErrors.provider_error;
  return { type: "about:blank", title: "Sign-in with the provider failed", status: 401, detail };
}

function rememberTenant(tenant: string) {
  try {
    localStorage.setItem(kTenantKey, tenant);
  } catch {
    // storage may be unavailable; nothing else is stored
  }
}

function rememberedTenant(): string {
  try {
    return localStorage.getItem(kTenantKey) ?? "";
  } catch {
    return "";
  }
}

export function SignInPage({ onSignedIn, problem: initial }: { onSignedIn: (s: Session) => void; problem?: Problem }) {
  useTitle("Sign in");
  const [tenant, setTenant] = useState(rememberedTenant);
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | undefined>(
    () => providerSignInProblem(window.location.search) ?? initial,
  );
  const [lockedUntil, setLockedUntil] = useState<number | null>(null);
  const [providers, setProviders] = useState<SignInProvider[]>([]);

  useEffect(() => {
    // The provider's error is shown once: it leaves the address bar.
    if (new URLSearchParams(window.location.search).has("sign_in_error")) {
      window.history.replaceState(null, "", window.location.pathname);
    }
    let live = true;
    must(sb.GET("/v1/session/oidc")).then(
      (r) => live && setProviders(r.data),
      () => live && setProviders([]),
    );
    return () => {
      live = false;
    };
  }, []);

  function signInWith(p: SignInProvider) {
    const t = tenant.trim();
    if (t === "") {
      setProblem({ type: "about:blank", title: "Which workspace?", status: 400, detail: "Enter the workspace (tenant id) first." });
      document.getElementById("signin-tenant")?.focus();
      return;
    }
    rememberTenant(t);
    const query = new URLSearchParams({ tenant: t });
    if (email.trim() !== "") query.set("login_hint", email.trim());
    window.location.assign(`${p.start_url}?${query.toString()}`);
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setProblem(undefined);
    setLockedUntil(null);
    try {
      const t = tenant.trim();
      const session = await sessionApi.signIn(t, email.trim(), password);
      rememberTenant(t);
      setPassword("");
      onSignedIn(session);
    } catch (err) {
      setPassword("");
      if (err instanceof ApiError && err.problem.status === 429) {
        const secs = err.retryAfterSeconds;
        setLockedUntil(secs !== null ? Date.now() + secs * 1000 : null);
        setProblem({ ...err.problem, title: "Too many sign-in attempts" });
      } else if (err instanceof ApiError && err.problem.status === 401) {
        setProblem({ ...err.problem, title: "Sign-in failed", detail: "The workspace, email or password is not right. Check them and try again." });
      } else if (err instanceof ApiError) {
        setProblem(err.problem);
      } else {
        setProblem({ type: "about:blank", title: "Sign-in failed", status: 0, detail: String(err) });
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <main id="main" className="signin">
      <h1>Sign in to Switchboard</h1>
      <form onSubmit={submit} className="card form" aria-describedby="signin-hint" noValidate={false}>
        <p id="signin-hint" className="muted small">
          The workspace is your tenant id. The operator's system workspace is <code>{kSystemTenant}</code>.
        </p>
        <div className="field">
          <label htmlFor="signin-tenant">Workspace (tenant id)</label>
          <input
            id="signin-tenant"
            name="tenant"
            required
            autoComplete="organization"
            spellCheck={false}
            value={tenant}
            onChange={(e) => setTenant(e.target.value)}
            placeholder={kSystemTenant}
          />
        </div>
        <div className="field">
          <label htmlFor="signin-email">Email</label>
          <input id="signin-email" name="email" type="email" required autoComplete="username" value={email} onChange={(e) => setEmail(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="signin-password">Password</label>
          <input
            id="signin-password"
            name="password"
            type="password"
            required
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </div>
        <div id="signin-error">
          <ProblemBox problem={problem} />
          {problem?.status === 429 && (
            <p className="problem-extra" role="status">
              {lockedUntil !== null
                ? `Sign-in is locked. Try again in ${formatDuration(lockedUntil - Date.now())} (at ${formatTime(new Date(lockedUntil).toISOString())}).`
                : "Sign-in is locked for a while. Try again later."}
            </p>
          )}
        </div>
        <button type="submit" id="signin-submit" className="primary" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
        {providers.length > 0 && (
          <div className="signin-providers" role="group" aria-labelledby="signin-providers-label">
            <p id="signin-providers-label" className="muted small">
              Or sign in with your account at a provider (the workspace above, no password):
            </p>
            {providers.map((p) => (
              <button
                type="button"
                key={p.provider}
                id={`signin-oidc-${p.provider}`}
                disabled={busy}
                onClick={() => signInWith(p)}
              >
                Sign in with {p.name}
              </button>
            ))}
          </div>
        )}
      </form>
    </main>
  );
}
