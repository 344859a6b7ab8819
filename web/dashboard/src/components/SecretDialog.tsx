import { Dialog } from "./Dialog";
import { CopyField } from "./ui";

/** A secret shown once, with a copy button. */
export function SecretDialog({ id, title, label, secret, onClose }: { id: string; title: string; label: string; secret: string; onClose: () => void }) {
  return (
    <Dialog id={id} title={title} onClose={onClose}>
      <div className="dialog-body">
        <p className="warn-text"><strong>Copy it now: you will not see this again.</strong></p>
        <CopyField id={`${id}-secret`} label={label} value={secret} />
        <div className="dialog-actions">
          <button type="button" id={`${id}-done`} className="primary" onClick={onClose}>I have copied it</button>
        </div>
      </div>
    </Dialog>
  );
}
