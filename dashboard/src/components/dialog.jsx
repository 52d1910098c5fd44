// A modal <dialog> opened with showModal(): the browser traps focus, Esc closes it and the rest
// of the page is inert. `onClose` runs however it closes.
import {useEffect, useRef} from 'preact/hooks';

let ids = 0;

export function Dialog({title, onClose, children, wide = false, closeLabel = 'Close', persistent = false}) {
  const ref = useRef(null);
  const titleId = useRef(`dialog-title-${++ids}`).current;
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog.open) dialog.showModal();
    return () => dialog.open && dialog.close();
  }, []);
  return (
    <dialog ref={ref} class={wide ? 'wide' : ''} aria-labelledby={titleId}
            onClose={() => onClose?.()} onCancel={(e) => persistent && e.preventDefault()}>
      <header class="dialog-head">
        <h2 id={titleId}>{title}</h2>
        {!persistent && (
          <button type="button" class="icon" aria-label={closeLabel} onClick={() => ref.current.close()}>×</button>
        )}
      </header>
      {children}
    </dialog>
  );
}

/** "Are you sure?" with the consequence spelled out. Resolves through onAnswer(true|false). */
export function Confirm({title, children, confirmLabel, danger = false, onAnswer}) {
  return (
    <Dialog title={title} onClose={() => onAnswer(false)}>
      <div class="dialog-body">{children}</div>
      <footer class="dialog-foot">
        <button type="button" onClick={() => onAnswer(false)}>Keep it</button>
        <button type="button" class={danger ? 'danger' : 'primary'} onClick={() => onAnswer(true)}>
          {confirmLabel}</button>
      </footer>
    </Dialog>
  );
}
