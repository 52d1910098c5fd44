// Usage: the project's quotas from GET /v2/info/usage, one <meter> per quota.
import {useEffect, useState} from 'preact/hooks';

import {explain, getUsage} from '../lib/api.js';
import {usageRows} from '../lib/usage.js';

export function Usage({session}) {
  const [rows, setRows] = useState(null);
  const [error, setError] = useState('');
  useEffect(() => {
    getUsage().then((doc) => setRows(usageRows(doc)), (e) => setError(explain(e, 'read the usage')));
  }, [session]);
  return (
    <section aria-labelledby="usage-title" class="usage">
      <h1 id="usage-title" tabIndex={-1}>Usage</h1>
      <p>Image quotas of project <strong>{session.project.name}</strong>.</p>
      {error && <p class="error" role="alert">{error}</p>}
      {!rows && !error && <p aria-busy="true">Loading…</p>}
      {rows && rows.length === 0 && <p>This cloud sets no image quotas.</p>}
      {rows && rows.length > 0 && (
        <ul class="quotas">
          {rows.map((r) => (
            <li>
              <label for={`quota-${r.key}`}>{r.label}</label>
              {r.limit !== null
                ? <meter id={`quota-${r.key}`} min="0" max={Math.max(r.limit, 1)} value={Math.min(r.used, Math.max(r.limit, 1))}
                         low={r.limit * 0.75} high={r.limit * 0.9} optimum="0" aria-valuetext={r.text}>{r.text}</meter>
                : <span id={`quota-${r.key}`} class="unlimited">No limit</span>}
              <span class="quota-text">{r.text}{r.full ? ' (full: new uploads are refused)' : ''}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
