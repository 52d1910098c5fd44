// Sign-in form: domain, project, user name, password. The password goes to the session
// endpoint once and is never kept; errors are shown next to the form in plain words. As an
// overlay (session ended), it keeps the page underneath, so unsaved work is not lost.
import {useState} from 'preact/hooks';

import {signIn} from '../lib/api.js';

function message(err) {
  if (err.status === 401) return 'The user name or password is wrong, or the user has no role in that project.';
  if (err.status === 429) {
    return 'Too many failed attempts from here. Wait a minute and try again.';
  }
  if (err.status === 0) return 'The server could not be reached; check your connection and try again.';
  if (err.status >= 500) return `The server had a problem (${err.status}); try again in a moment.`;
  return `Sign-in failed: ${err.message}`;
}

export function SignIn({onSignedIn, overlay = false, initial = {}}) {
  const [form, setForm] = useState({domain: 'Default', project: '', user: '', password: '', ...initial});
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const pre = overlay ? 'again' : 'sign-in';
  const field = (name) => ({
    id: `${pre}-${name}`,
    name,
    value: form[name],
    onInput: (e) => setForm({...form, [name]: e.currentTarget.value}),
  });

  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      onSignedIn(await signIn(form));
    } catch (err) {
      setError(message(err));
      setForm({...form, password: ''});
    } finally {
      setBusy(false);
    }
  }

  const body = (
    <form onSubmit={submit} class="sign-in-form" aria-describedby={error ? `${pre}-error` : undefined}>
      {overlay && <p>Sign in again to continue; this page keeps what you were doing.</p>}
      <label for={`${pre}-domain`}>Domain</label>
      <input {...field('domain')} autocomplete="organization" required />
      <label for={`${pre}-project`}>Project</label>
      <input {...field('project')} placeholder="your default project" />
      <label for={`${pre}-user`}>User name</label>
      <input {...field('user')} autocomplete="username" required />
      <label for={`${pre}-password`}>Password</label>
      <input {...field('password')} type="password" autocomplete="current-password" required />
      {error && <p id={`${pre}-error`} class="error" role="alert">{error}</p>}
      <button type="submit" class="primary" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
    </form>
  );
  if (overlay) return <div class="dialog-body">{body}</div>;
  return (
    <main class="sign-in">
      <h1>Glimmer</h1>
      <p class="muted">Sign in to manage your project's images.</p>
      {body}
    </main>
  );
}
