// Reconnect (a connect session for the same end user and provider, whose link the operator sends
// them) and disconnect (with confirmation), shared by the list and the detail page.
import { useEffect, useState } from "react";
import { must, sb } from "../api/client";
import type { Connection } from "../api/types";
import { useAction } from "../lib/async";
import { Dialog } from "./Dialog";
import { ConfirmDialog, CopyField, ProblemBox, Time } from "./ui";

export function ReconnectDialog({ id, connection, onClose }: { id: string; connection: Connection; onClose: () => void }) {
  const [returnUrl, setReturnUrl] = useState(`${window.location.origin}${import.meta.env.BASE_URL}connections/${connection.id}`);
  const [session, setSession] = useState<{ url: string; expires_at: string } | null>(null);
  const action = useAction();
  // The form and its focused button are gone once the link is there: the link takes the focus
  // (selected, ready to copy), or it would fall out of the dialog to the page behind.
  useEffect(() => {
    if (session) document.getElementById(`${id}-link-value`)?.focus();
  }, [session, id]);
  return (
    <Dialog id={id} title={`Reconnect ${connection.provider} for ${connection.end_user_id}`} onClose={onClose}>
      <div className="dialog-body">
        {!session ? (
          <form
            id={`${id}-form`}
            onSubmit={async (e) => {
              e.preventDefault();
              const s = await action.run(() =>
                must(
                  sb.POST("/v1/connect/sessions", {
                    body: {
                      end_user: { id: connection.end_user_id, ...(connection.account.email ? { email: connection.account.email } : {}) },
                      providers: [connection.provider],
                      return_url: returnUrl,
                    },
                  }),
                ),
              );
              if (s) setSession(s);
            }}
          >
            <p>
              Creates a connect link for end user <strong>{connection.end_user_id}</strong>. Send it to them: they sign in
              to {connection.provider} again and the connection is authorized anew.
            </p>
            <div className="field">
              <label htmlFor={`${id}-return-url`}>Return URL (its origin must be allowed for the tenant)</label>
              <input id={`${id}-return-url`} type="url" required value={returnUrl} onChange={(e) => setReturnUrl(e.target.value)} />
            </div>
            <ProblemBox problem={action.error} />
            <div className="dialog-actions">
              <button type="button" id={`${id}-cancel`} onClick={onClose}>Cancel</button>
              <button type="submit" id={`${id}-create`} className="primary" disabled={action.running}>
                {action.running ? "Creating…" : "Create link"}
              </button>
            </div>
          </form>
        ) : (
          <>
            <CopyField id={`${id}-link`} label="Connect link" value={session.url} />
            <p className="small">
              Valid until <Time iso={session.expires_at} />. It is shown only now.
            </p>
            <div className="dialog-actions">
              <button type="button" id={`${id}-done`} className="primary" onClick={onClose}>Done</button>
            </div>
          </>
        )}
      </div>
    </Dialog>
  );
}

export function DisconnectDialog({
  id, connection, onClose, onDone,
}: { id: string; connection: Connection; onClose: () => void; onDone: () => void }) {
  const action = useAction();
  return (
    <ConfirmDialog
      id={id}
      title={`Disconnect ${connection.provider} account?`}
      confirmLabel="Disconnect"
      running={action.running}
      problem={action.error}
      onClose={onClose}
      onConfirm={async () => {
        const ok = await action.run(async () => {
          await must(sb.DELETE("/v1/connections/{id}", { params: { path: { id: connection.id } } }));
          return true;
        });
        if (ok) onDone();
      }}
    >
      <p>
        The connection <strong>{connection.account.email || connection.account.subject}</strong> ({connection.provider}) of end
        user <strong>{connection.end_user_id}</strong> will be deleted: its tokens are revoked and forgotten, calls through it
        stop, and the end user has to connect again.
      </p>
    </ConfirmDialog>
  );
}
