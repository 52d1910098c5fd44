// Entry point: loads the session, then shows the sign-in form or the signed-in shell.
import {render} from 'preact';
import {useEffect, useState} from 'preact/hooks';

import {loadSession, signOut, switchProject} from './lib/api.js';
import {ImagesPanel} from './pages/images.jsx';
import {SignIn} from './pages/sign_in.jsx';
import './style.css';

function App() {
  const [session, setSession] = useState(undefined);  // undefined = loading, null = signed out
  const [error, setError] = useState('');

  useEffect(() => {
    loadSession().then(setSession, (e) => setError(`The server did not answer: ${e.message}`));
  }, []);

  if (error) return <p class="error" role="alert">{error}</p>;
  if (session === undefined) return <p aria-busy="true">Loading…</p>;
  if (session === null) return <SignIn onSignedIn={setSession} />;
  return (
    <>
      <header class="top">
        <strong>Glimmer</strong>
        <label for="project-switch">Project</label>
        <select id="project-switch" value={session.project.id}
                onChange={async (e) => setSession(await switchProject(e.currentTarget.value))}>
          {session.projects.map((p) => <option value={p.id}>{p.name}</option>)}
        </select>
        <span class="user">{session.user.name}</span>
        <button onClick={async () => { await signOut(); setSession(null); }}>Sign out</button>
      </header>
      <main><ImagesPanel session={session} /></main>
    </>
  );
}

render(<App />, document.getElementById('app'));
