// Feedback for every action: short messages in an aria-live region, so screen readers announce
// them. Errors stay until dismissed; others go after 6 s.
import {useEffect, useState} from 'preact/hooks';

let toasts = [];
let nextId = 0;
const listeners = new Set();
const emit = () => listeners.forEach((fn) => fn(toasts));

/** Shows `text`; kind is 'ok', 'info' or 'error'. */
export function toast(text, kind = 'ok') {
  const id = ++nextId;
  toasts = [...toasts, {id, text, kind}].slice(-5);
  emit();
  if (kind !== 'error') setTimeout(() => dismissToast(id), 6000);
}

export function dismissToast(id) {
  toasts = toasts.filter((t) => t.id !== id);
  emit();
}

export function Toasts() {
  const [list, setList] = useState(toasts);
  useEffect(() => {
    listeners.add(setList);
    return () => listeners.delete(setList);
  }, []);
  return (
    <div class="toasts" aria-live="polite" aria-relevant="additions text">
      {list.map((t) => (
        <div class={`toast toast-${t.kind}`} key={t.id}>
          <span>{t.kind === 'error' ? 'Error: ' : ''}{t.text}</span>
          <button type="button" class="icon" aria-label="Dismiss" onClick={() => dismissToast(t.id)}>×</button>
        </div>
      ))}
    </div>
  );
}
