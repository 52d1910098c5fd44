// Tabs as the ARIA pattern: role=tablist/tab, one tab in the Tab order (roving tabindex), arrow
// keys, Home and End move between tabs and select them.
import {useRef} from 'preact/hooks';

export function Tabs({label, tabs, selected, onSelect, panelId}) {
  const list = useRef(null);
  function onKeyDown(e) {
    const i = tabs.findIndex((t) => t.id === selected);
    const to = {ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1}[e.key];
    if (to === undefined) return;
    e.preventDefault();
    const next = tabs[(to + tabs.length) % tabs.length];
    onSelect(next.id);
    list.current.querySelector(`#tab-${next.id}`)?.focus();
  }
  return (
    <div role="tablist" aria-label={label} ref={list} onKeyDown={onKeyDown}>
      {tabs.map((t) => (
        <button type="button" role="tab" id={`tab-${t.id}`} aria-selected={t.id === selected}
                aria-controls={panelId} tabIndex={t.id === selected ? 0 : -1}
                onClick={() => onSelect(t.id)}>{t.label}</button>
      ))}
    </div>
  );
}
