// Sign-in form: domain, project, user name, password. The password goes to the session
// endpoint once and is never kept; errors are shown next to the form in plain words.
import {useState} from 'preact/hooks';

import {signIn} from '../lib/api.js';

const MESSAGES = {
  401: 'The user name or password is wrong, or the user has no role in that project.',
  429: 'Too many failed attempts. Wait a little and try again.',
};

export function SignIn({onSignedIn}) {
  const [form, setForm] = useState({domain: 'Default', project: '', user: '', password: ''});
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const field = (name) => ({
    id: `sign-in-${name}`,
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
      setError(MESSAGES[err.status] ?? `Sign-in failed: ${err.message}`);
      setForm({...form, password: ''});
    } finally {
      setBusy(false);
    }
  }

  return (
    <main class="sign-in">
      <h1>Glimmer</h1>
      <form onSubmit={submit} aria-describedby={error ? 'sign-in-error' : undefined}>
        <label for="sign-in-domain">Domain</label>
        <input {...field('domain')} autocomplete="organization" required />
        <label for="sign-in-project">Project</label>
        <input {...field('project')} placeholder="your default project" />
        <label for="sign-in-user">User name</label>
        <input {...field('user')} autocomplete="username" required />
        <label for="sign-in-password">Password</label>
        <input {...field('password')} type="password" autocomplete="current-password" required />
        {error && <p id="sign-in-error" class="error" role="alert">{error}</p>}
        <button type="submit" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
    </main>
  );
}
