// The signed-in user for the pages: role checks decide which write actions to show.
import { createContext, useContext } from "react";
import type { SessionUser } from "./api/session";

export interface SessionInfo {
  user: SessionUser;
  /** operator and admin: read and write; viewer: read only. */
  canWrite: boolean;
  /** The system tenant's operator: tenants, the global kill switch, every tenant's usage. */
  isOperator: boolean;
  /** operator or admin: API keys, integrations, kill switch for the own tenant, users. */
  isAdmin: boolean;
}

export const SessionContext = createContext<SessionInfo | null>(null);

export function sessionInfo(user: SessionUser): SessionInfo {
  return {
    user,
    canWrite: user.role === "operator" || user.role === "admin",
    isOperator: user.role === "operator",
    isAdmin: user.role === "operator" || user.role === "admin",
  };
}

export function useSession(): SessionInfo {
  const s = useContext(SessionContext);
  if (!s) throw new Error("useSession outside a signed-in app");
  return s;
}
