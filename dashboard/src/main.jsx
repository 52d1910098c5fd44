// Entry point: the session gate and the shell (project switcher, navigation, sign out), the hash
// router, and the sign-in overlay shown when an API call answers 401.
import {render} from 'preact';
import {useEffect, useRef, useState} from 'preact/hooks';

import {Dialog} from './components/dialog.jsx';
import {Toasts, toast} from './components/toast.jsx';
import {UploadTray} from './components/uploads.jsx';
import {explain, loadSession, setUnauthorizedHandler, signOut, switchProject} from './lib/api.js';
import {navigate, useRoute} from './lib/router.js';
import {clearJobs, runningJobs} from './lib/uploads.js';
import {ApiAccess} from './pages/api_access.jsx';
import {ImageDetail} from './pages/image_detail.jsx';
import {ImagesPanel} from './pages/images.jsx';
import {SignIn} from './pages/sign_in.jsx';
import {Usage} from './pages/usage.jsx';
import './style.css';

const NAV = [['images', 'Images'], ['usage', 'Usage'], ['api-access', 'API access']];

function App() {
  const [session, setSession] = useState(undefined);  // undefined = loading, null = signed out
  const [expired, setExpired] = useState(false);
  const [error, setError] = useState('');

  useEffect(() => {
    setUnauthorizedHandler(() => setExpired(true));
    loadSession().then(setSession, (e) => setError(`The server did not answer: ${e.message}`));
  }, []);

  if (error) return <main><p class="error" role="alert">{error}</p></main>;
  if (session === undefined) return <main><p aria-busy="true">Loading…</p></main>;
  if (session === null) return <SignIn onSignedIn={(s) => { setSession(s); setExpired(false); }} />;
  return (
    <>
      <Shell session={session} setSession={setSession} />
      {expired && (
        <Dialog title="Your session has ended" persistent>
          <SignIn overlay initial={{domain: domainName(session.user.domain), user: session.user.name,
                                   project: session.project.name}}
                  onSignedIn={(s) => { setSession(s); setExpired(false); toast('Signed in again.'); }} />
        </Dialog>
      )}
    </>
  );
}

const domainName = (d) => (typeof d === 'string' ? d : d?.name ?? 'Default');

function Shell({session, setSession}) {
  const route = useRoute();
  const [switching, setSwitching] = useState(false);
  const page = route.path[0];
  const mainRef = useRef(null);

  // Focus goes to the page heading on navigation, so screen readers announce the new page.
  const routeKey = route.path.join('/');
  const first = useRef(true);
  useEffect(() => {
    if (first.current) { first.current = false; return; }
    mainRef.current?.querySelector('h1')?.focus();
  }, [routeKey]);

  async function onProject(e) {
    const select = e.currentTarget;
    const id = select.value;
    if (runningJobs().length && !confirm('Uploads are running. Switch the project anyway? They continue in the background.')) {
      select.value = session.project.id;
      return;
    }
    setSwitching(true);
    try {
      const s = await switchProject(id);
      setSession(s);
      navigate('#/images', {replace: page !== 'images'});
      toast(`Switched to project ${s.project.name}.`);
    } catch (err) {
      select.value = session.project.id;
      toast(explain(err, 'switch the project'), 'error');
    } finally {
      setSwitching(false);
    }
  }

  async function onSignOut() {
    if (runningJobs().length && !confirm('Uploads are running; signing out stops them. Sign out?')) return;
    try {
      await signOut();
    } catch (err) {
      toast(explain(err, 'sign out cleanly'), 'error');
    }
    clearJobs();
    setSession(null);
  }

  let content;
  if (page === 'images' && route.path[1]) content = <ImageDetail session={session} id={route.path[1]} />;
  else if (page === 'usage') content = <Usage session={session} />;
  else if (page === 'api-access') content = <ApiAccess session={session} />;
  else content = <ImagesPanel session={session} params={route.params} />;

  return (
    <>
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); mainRef.current?.querySelector('h1')?.focus(); }}>
        Skip to content</a>
      <header class="top">
        <span class="brand">Glimmer</span>
        <nav aria-label="Main">
          <ul>
            {NAV.map(([id, label]) => (
              <li><a href={`#/${id}`} aria-current={page === id ? 'page' : undefined}>{label}</a></li>
            ))}
          </ul>
        </nav>
        <div class="who">
          <label for="project-switch">Project</label>
          <select id="project-switch" value={session.project.id} onChange={onProject} disabled={switching}>
            {session.projects.map((p) => <option value={p.id}>{p.name}</option>)}
          </select>
          <span class="user" title={`Domain ${domainName(session.user.domain)}`}>{session.user.name}</span>
          <button type="button" onClick={onSignOut}>Sign out</button>
        </div>
      </header>
      <main id="main" ref={mainRef} key={session.project.id}>{content}</main>
      <UploadTray />
      <Toasts />
    </>
  );
}

render(<App />, document.getElementById('app'));
