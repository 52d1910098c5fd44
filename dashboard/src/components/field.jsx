// A labelled form control with its hint and error, tied by aria-describedby.
import {cloneElement} from 'preact';

export function Field({id, label, hint, error, children, class: cls = ''}) {
  const described = [hint && `${id}-hint`, error && `${id}-error`].filter(Boolean).join(' ');
  const control = cloneElement(children, {
    id, 'aria-describedby': described || undefined, 'aria-invalid': error ? 'true' : undefined,
  });
  return (
    <div class={`field ${cls}`}>
      <label for={id}>{label}</label>
      {control}
      {hint && <p class="hint" id={`${id}-hint`}>{hint}</p>}
      {error && <p class="error field-error" id={`${id}-error`}>{error}</p>}
    </div>
  );
}

/** A status as text plus a marker class (never colour alone). */
export function Status({value}) {
  return <span class={`status status-${value}`}>{value}</span>;
}
