// API access: the cloud's endpoints, a downloadable openrc for this user and project (made in the
// browser; the password is asked for by the script, never stored), and the guide's commands.
import {useEffect, useState} from 'preact/hooks';

import {toast} from '../components/toast.jsx';
import {listImages} from '../lib/api.js';
import {cliCommands, openrcFileName, openrcText, openrcVariables} from '../lib/openrc.js';

export function ApiAccess({session}) {
  const [images, setImages] = useState([]);
  const [pick, setPick] = useState('');
  const e = session.endpoints ?? {};

  useEffect(() => {
    const q = new URLSearchParams({owner: session.project.id, limit: '25', sort: 'created_at:desc'});
    listImages(q).then((r) => setImages(r.images), () => {});
  }, [session]);

  function download() {
    const blob = new Blob([openrcText(session)], {type: 'text/x-shellscript'});
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = openrcFileName(session);
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
    toast(`Downloaded ${a.download}. Load it with ". ./${a.download}"; it asks for your password.`);
  }

  const image = images.find((i) => i.id === pick) ?? null;
  const endpoints = [['Identity (Keystone v3)', e.identity], ['Image (Glance v2)', e.image]];
  return (
    <section aria-labelledby="api-title" class="api-access">
      <h1 id="api-title" tabIndex={-1}>API access</h1>
      <p>Everything this dashboard does goes through the same API that the command-line clients use.</p>
      <h2>Endpoints</h2>
      <dl class="fields">
        {endpoints.map(([label, url]) => (<><dt>{label}</dt><dd class="mono">{url || <span class="muted">not reported by the server</span>}</dd></>))}
        <dt>Region</dt><dd>{e.region || <span class="muted">none</span>}</dd>
        <dt>Interface</dt><dd>{e.interface ?? 'public'}</dd>
        <dt>Project ID</dt><dd class="mono">{session.project.id}</dd>
      </dl>
      <h2>OpenStack RC file</h2>
      <p>Sets the variables below for user <strong>{session.user.name}</strong> in project
        {' '}<strong>{session.project.name}</strong>. The script asks for the password when loaded and does not store it.</p>
      <button type="button" class="primary" onClick={download}>Download OpenStack RC file</button>
      <details>
        <summary>Variables it sets</summary>
        <ul class="vars mono">{openrcVariables(session).map(([k, v]) => <li>{k}={v}</li>)}</ul>
        <p class="mono">OS_PASSWORD (asked for)</p>
      </details>
      <h2>Commands</h2>
      <p>Install the client with <code>pip install python-openstackclient</code> or your distribution's
        {' '}<code>python3-openstackclient</code>, load the RC file, then:</p>
      <label for="cli-image">Fill the commands in for image</label>
      <select id="cli-image" value={pick} onChange={(ev) => setPick(ev.currentTarget.value)}>
        <option value="">(placeholder)</option>
        {images.map((i) => <option value={i.id}>{i.name || i.id}</option>)}
      </select>
      <ol class="commands">
        {cliCommands(session, image).map(({title, command}) => (
          <li><p>{title}</p><pre><code>{command}</code></pre></li>
        ))}
      </ol>
    </section>
  );
}
