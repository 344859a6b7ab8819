import { useState, type FormEvent } from "react";
import type { Problem } from "@switchboard/client";
import { ApiError, sessionApi, type Session } from "../api/session";
import { ProblemBox } from "../components/ui";
import { formatDuration, formatTime } from "../lib/format";
import { useTitle } from "../lib/router";

/** Only the workspace (tenant id) is remembered; never a secret. */
export const kTenantKey = "switchboard.tenant";
export const kSystemTenant = "00000000-0000-0000-0000-000000000000";

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
  const [problem, setProblem] = useState<Problem | undefined>(initial);
  const [lockedUntil, setLockedUntil] = useState<number | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setProblem(undefined);
    setLockedUntil(null);
    try {
      const t = tenant.trim();
      const session = await sessionApi.signIn(t, email.trim(), password);
      try {
        localStorage.setItem(kTenantKey, t);
      } catch {
        // storage may be unavailable; nothing else is stored
      }
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
      </form>
    </main>
  );
}
