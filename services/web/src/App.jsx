// App: the session (who is signed in, asked from GET /api/v1/auth/me at start), history
// routing (real paths: /shuffle, /likes, /pizzas/<id>...; the gateway answers index.html for
// them), the navigation (bottom bar on phones, top bar on wider screens), the footer, and the
// erasure view that outlives the account.
import { useCallback, useEffect, useRef, useState } from 'react';
import { api } from './api.js';
import { forgetErasure, loadErasure, localStore } from './erasureStore.js';
import { Icon } from './icons.jsx';
import { Link, navigate, useLocation } from './router.jsx';
import { loginPath, matchRoute, returnPath, routeTitle } from './routes.js';
import { Login, Signup } from './screens/Auth.jsx';
import { DocView } from './screens/DocView.jsx';
import { Erasure } from './screens/Erasure.jsx';
import { Likes } from './screens/Likes.jsx';
import { PizzaPage } from './screens/Pizza.jsx';
import { PizzeriaPage } from './screens/Pizzeria.jsx';
import { Pizzerias } from './screens/Pizzerias.jsx';
import { Profile } from './screens/Profile.jsx';
import { Review } from './screens/Review.jsx';
import { Services } from './screens/Services.jsx';
import { Shuffle } from './screens/Shuffle.jsx';
import { Top } from './screens/Top.jsx';
import { Tweets } from './screens/Tweets.jsx';
import { NotFound, useTitle } from './ui.jsx';

// [path, route, label, icon, short label shown on phones (the label stays the accessible name)]
const TOP = ['/top', 'top', 'Top liked', 'star', 'Top'];
const SIGNED_IN = [
  ['/shuffle', 'shuffle', 'Shuffle', 'pizza'],
  TOP,
  ['/likes', 'likes', 'My likes', 'heart', 'Likes'],
  ['/pizzerias', 'pizzerias', 'My pizzerias', 'store', 'Pizzerias'],
  ['/tweets', 'tweets', 'Tweets', 'chat'],
  ['/profile', 'profile', 'Profile', 'user'],
];
// The admin's own page, after My pizzerias.
const REVIEW = ['/review', 'review', 'Review', 'check'];
const SIGNED_OUT = [
  ['/shuffle', 'shuffle', 'Shuffle', 'pizza'],
  TOP,
  ['/tweets', 'tweets', 'Tweets', 'chat'],
  ['/login', 'login', 'Log in', 'key'],
  ['/signup', 'signup', 'Sign up', 'plus'],
];

export function App() {
  const loc = useLocation();
  const { name: route, params } = matchRoute(loc.pathname);
  const [user, setUser] = useState(undefined); // undefined: still asking
  const [notice, setNotice] = useState(null); // {text, kind: 'ok' | 'warning', login: path}
  const returnTo = useRef(null); // the page the session ended on
  // after deleting oneself: {username, receipt} (kept in localStorage), with {id, token, path} in memory
  const [erasure, setErasure] = useState(() => loadErasure(localStore()));
  const main = useRef(null);
  const first = useRef(true);

  useEffect(() => {
    api.setOnSessionLost(() => {
      setUser((u) => {
        if (u) {
          const here = window.location.pathname + window.location.search;
          returnTo.current = here;
          setNotice({ text: 'Your session has ended. Please log in again.', kind: 'warning', login: loginPath(here) });
        }
        return null;
      });
    });
    api.get('/api/v1/auth/me').then(setUser, () => setUser(null));
  }, []);

  // A new page starts at the top, with the focus on it (not on the link left behind).
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    window.scrollTo(0, 0);
    if (main.current) main.current.focus({ preventScroll: true });
  }, [loc.pathname]);

  // After a login: the page of ?next=, else the one the session ended on, else Shuffle.
  const signedIn = useCallback((u) => {
    const next = new URLSearchParams(window.location.search).get('next');
    const to = returnPath(next || returnTo.current);
    returnTo.current = null;
    setUser(u);
    setNotice(null);
    setErasure((e) => (e && e.receipt ? e : null)); // a kept receipt stays until forgotten
    navigate(to);
  }, []);

  async function logout() {
    try {
      await api.post('/api/v1/auth/logout');
    } catch {
      /* the cookies are cleared by the server; signed out here whatever happened */
    }
    setUser(null);
    setNotice({ text: 'You are logged out.', kind: 'ok' });
    navigate('/login');
  }

  // Pages with a fixed title get it here; the others (a pizza, not found) name themselves.
  let title = routeTitle(route);
  let page;
  if (user === undefined) {
    page = <p className="muted" role="status">Loading…</p>;
  } else if (route === 'erasure') {
    page = erasure ? (
      <Erasure erasure={erasure}
        onForget={() => {
          forgetErasure(localStore());
          setErasure(null);
          navigate('/shuffle');
        }} />
    ) : <NotFound />;
    if (!erasure) title = null;
  } else if (route === 'login') {
    page = <Login onLogin={signedIn} />;
  } else if (route === 'signup') {
    page = <Signup onSignup={signedIn} />;
  } else if (route === 'tweets') {
    page = <Tweets user={user} />;
  } else if (route === 'services') {
    page = <Services />;
  } else if (route === 'doc') {
    page = <DocView url={new URLSearchParams(loc.search).get('url')} />;
  } else if (route === 'shuffle') {
    page = <Shuffle user={user} search={loc.search} key={user ? user.id : 'anon'} />;
  } else if (route === 'top') {
    const days = Number(new URLSearchParams(loc.search).get('days')) === 30 ? 30 : 7;
    page = <Top days={days} onDays={(d) => navigate(d === 7 ? '/top' : `/top?days=${d}`)} />;
  } else if (route === 'pizza') {
    page = <PizzaPage id={params.id} />;
  } else if (route === 'pizzeria') {
    page = <PizzeriaPage id={params.id} />;
  } else if (route === 'notfound') {
    page = <NotFound />;
  } else if (!user) {
    page = <NeedLogin />;
  } else if (route === 'likes') {
    page = <Likes user={user} />;
  } else if (route === 'pizzerias') {
    page = <Pizzerias user={user} />;
  } else if (route === 'review') {
    page = <Review user={user} />;
  } else if (route === 'profile') {
    page = (
      <Profile user={user} onUpdated={setUser}
        onDeleted={(e) => {
          setErasure(e);
          setUser(null);
          navigate('/account-deleted');
        }} />
    );
  }
  useTitle(title);

  // No links until the session is known: the signed-out ones would flash for a signed-in user.
  let nav = user === undefined ? [] : user ? SIGNED_IN : SIGNED_OUT;
  if (user && user.role === 'admin') nav = [...nav.slice(0, 4), REVIEW, ...nav.slice(4)];
  return (
    <div className="app">
      <header className="topbar">
        <Link className="brand" to="/shuffle"><Icon name="pizza" size={26} /> Tizza</Link>
        <nav className="nav" aria-label="Main" aria-busy={user === undefined}>
          <ul>
            {nav.map(([path, r, label, icon, short]) => (
              <li key={r}>
                <Link to={path} aria-current={route === r ? 'page' : undefined}>
                  <Icon name={icon} />
                  {short ? (
                    <>
                      <span className="label label-long">{label}</span>
                      <span className="label label-short" aria-hidden="true">{short}</span>
                    </>
                  ) : (
                    <span className="label">{label}</span>
                  )}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        {user && (
          <div className="who">
            <span className="username" title={`@${user.username}`}>@{user.username}</span>
            <button type="button" className="link" onClick={logout}>Log out</button>
          </div>
        )}
      </header>
      <main ref={main} tabIndex={-1}>
        {notice && (
          <p className={notice.kind === 'warning' ? 'warning' : 'notice'} role="status">
            {notice.text}
            {notice.login && route !== 'login' && <> <Link to={notice.login}>Log in again</Link></>}
            {' '}<button type="button" className="link" onClick={() => setNotice(null)} aria-label="Dismiss"><Icon name="cross" size={16} /></button>
          </p>
        )}
        {page}
      </main>
      <footer className="footer">
        <Link to="/status" aria-current={route === 'services' ? 'page' : undefined}>Services</Link>
        <span className="muted"> · the state of every Tizza service</span>
      </footer>
    </div>
  );
}

function NeedLogin() {
  const loc = useLocation();
  return (
    <section>
      <h1>Log in first</h1>
      <p>
        This page is for signed-in users. <Link to={loginPath(loc.pathname + loc.search)}>Log in</Link> or <Link to="/signup">sign up</Link>.
      </p>
    </section>
  );
}
