import { useEffect, useState } from "react";
import { sessionApi, type Session } from "./api/session";
import { Link, navigate, useLocation } from "./lib/router";
import { LiveProvider, useLiveState } from "./lib/live";
import { SessionContext, sessionInfo } from "./session";
import { Badge, Loading, ProblemBox } from "./components/ui";
import { toProblem } from "./api/client";
import type { Problem } from "@switchboard/client";
import { SignInPage } from "./pages/SignIn";
import { OverviewPage } from "./pages/Overview";
import { ConnectionsPage } from "./pages/Connections";
import { ConnectionDetailPage } from "./pages/ConnectionDetail";
import { IntegrationsPage } from "./pages/Integrations";
import { ConflictsPage } from "./pages/Conflicts";
import { WebhooksPage } from "./pages/Webhooks";
import { AuditPage } from "./pages/Audit";
import { AdminPage } from "./pages/Admin";

const kNav = [
  { to: "/", id: "nav-overview", label: "Overview" },
  { to: "/connections", id: "nav-connections", label: "Connections" },
  { to: "/integrations", id: "nav-integrations", label: "Integrations" },
  { to: "/conflicts", id: "nav-conflicts", label: "Conflicts" },
  { to: "/webhooks", id: "nav-webhooks", label: "Webhooks" },
  { to: "/audit", id: "nav-audit", label: "Audit log" },
  { to: "/admin", id: "nav-admin", label: "Admin" },
];

export function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [problem, setProblem] = useState<Problem | undefined>(undefined);
  const { path } = useLocation();

  useEffect(() => {
    sessionApi.current().then(setSession, (e) => {
      setProblem(toProblem(e));
      setSession(null);
    });
  }, []);

  if (session === undefined) {
    return (
      <main id="main" className="center">
        <h1>Switchboard</h1>
        <Loading label="Checking your session…" />
      </main>
    );
  }
  if (session === null || path === "/sign-in") {
    return (
      <SignInPage
        problem={problem}
        onSignedIn={(s) => {
          setProblem(undefined);
          setSession(s);
          if (path === "/sign-in") navigate("/", { replace: true });
        }}
      />
    );
  }
  return (
    <SessionContext.Provider value={sessionInfo(session.user)}>
      <LiveProvider>
        <Shell
          session={session}
          path={path}
          onSignOut={async () => {
            try {
              await sessionApi.signOut();
            } catch (e) {
              setProblem(toProblem(e));
            }
            setSession(null);
          }}
        />
      </LiveProvider>
    </SessionContext.Provider>
  );
}

function LiveIndicator() {
  const state = useLiveState();
  return (
    <span id="live-state" className="live-state" title="Live updates from the server">
      Live: <Badge value={state === "open" ? "connected" : state} tone={state === "open" ? "ok" : state === "off" ? "neutral" : "warn"} />
    </span>
  );
}

function Shell({ session, path, onSignOut }: { session: Session; path: string; onSignOut: () => void }) {
  const [menuOpen, setMenuOpen] = useState(false);
  useEffect(() => setMenuOpen(false), [path]);
  const section = "/" + (path.split("/")[1] ?? "");
  return (
    <div className="shell">
      <a href="#main" id="skip-to-content" className="skip-link">Skip to content</a>
      <header className="topbar">
        <span className="brand">Switchboard</span>
        <button
          type="button"
          id="nav-toggle"
          className="nav-toggle"
          aria-expanded={menuOpen}
          aria-controls="sidebar"
          onClick={() => setMenuOpen((o) => !o)}
        >
          Menu
        </button>
        <div className="topbar-right">
          <LiveIndicator />
          <span className="user" title={session.user.email}>
            {session.user.name || session.user.email} · {session.user.role} · {session.user.tenant_name}
          </span>
          <button type="button" id="sign-out" onClick={onSignOut}>Sign out</button>
        </div>
      </header>
      <div className="layout">
        <nav id="sidebar" className={menuOpen ? "sidebar open" : "sidebar"} aria-label="Main">
          <ul>
            {kNav.map((n) => (
              <li key={n.id}>
                <Link id={n.id} to={n.to} aria-current={section === n.to ? "page" : undefined}>
                  {n.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <main id="main" tabIndex={-1}>
          <Routes path={path} />
        </main>
      </div>
    </div>
  );
}

function Routes({ path }: { path: string }) {
  const parts = path.split("/").filter(Boolean);
  switch (parts[0]) {
    case undefined:
      return <OverviewPage />;
    case "connections":
      return parts[1] ? <ConnectionDetailPage id={decodeURIComponent(parts[1])} /> : <ConnectionsPage />;
    case "integrations":
      return <IntegrationsPage />;
    case "conflicts":
      return <ConflictsPage selected={parts[1] ? decodeURIComponent(parts[1]) : undefined} />;
    case "webhooks":
      return <WebhooksPage />;
    case "audit":
      return <AuditPage />;
    case "admin":
      return <AdminPage />;
    default:
      return (
        <>
          <h1>Page not found</h1>
          <ProblemBox problem={{ type: "about:blank", title: "Not found", status: 404, detail: `No page at ${path}.` }} />
          <p><Link id="notfound-home" to="/">Go to the overview</Link></p>
        </>
      );
  }
}
