// A modal dialog (WAI-ARIA dialog pattern on the native <dialog>): the rest of the page is inert,
// Tab and Shift+Tab cycle inside it, Escape closes it, and focus returns to the opener.
import { useEffect, useRef, type ReactNode } from "react";

const kFocusable =
  'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), summary, [tabindex]:not([tabindex="-1"])';

export function focusableIn(root: HTMLElement): HTMLElement[] {
  return [...root.querySelectorAll<HTMLElement>(kFocusable)].filter((el) => !el.hasAttribute("inert"));
}

export interface DialogProps {
  id: string;
  title: string;
  onClose: () => void;
  children: ReactNode;
  /** Id of the element to focus first; default the first focusable one. */
  initialFocus?: string;
  wide?: boolean;
}

export function Dialog({ id, title, onClose, children, initialFocus, wide }: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const onCloseRef = useRef(onClose);
  onCloseRef.current = onClose;

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const opener = document.activeElement as HTMLElement | null;
    if (typeof dialog.showModal === "function" && !dialog.open) {
      try {
        dialog.showModal();
      } catch {
        dialog.setAttribute("open", "");
      }
    } else if (!dialog.open) {
      dialog.setAttribute("open", "");
    }
    const first = (initialFocus && document.getElementById(initialFocus)) || focusableIn(dialog)[0];
    first?.focus();
    return () => {
      if (dialog.open && typeof dialog.close === "function") dialog.close();
      if (opener && document.contains(opener)) opener.focus();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  return (
    <dialog
      ref={ref}
      id={id}
      className={wide ? "dialog dialog-wide" : "dialog"}
      aria-labelledby={`${id}-title`}
      aria-modal="true"
      onCancel={(e) => {
        e.preventDefault();
        onCloseRef.current();
      }}
      onKeyDown={(e) => {
        if (e.key === "Escape") {
          e.preventDefault();
          e.stopPropagation();
          onCloseRef.current();
          return;
        }
        if (e.key !== "Tab" || !ref.current) return;
        const items = focusableIn(ref.current);
        if (items.length === 0) {
          e.preventDefault();
          return;
        }
        const first = items[0]!;
        const last = items[items.length - 1]!;
        const active = document.activeElement;
        if (e.shiftKey && (active === first || !ref.current.contains(active))) {
          e.preventDefault();
          last.focus();
        } else if (!e.shiftKey && (active === last || !ref.current.contains(active))) {
          e.preventDefault();
          first.focus();
        }
      }}
    >
      <h2 id={`${id}-title`} className="dialog-title">
        {title}
      </h2>
      {children}
    </dialog>
  );
}
