// App: the session (who is signed in, asked from GET /api/v1/auth/me at start), hash routing
// (#/shuffle, #/likes, ...: no gateway rule needed for deep links), the navigation (bottom bar
// on phones, top bar on wider screens) and the erasure view that outlives the account.
import { useCallback, useEffect, useState } from 'react';
import { api } from './api.js';
import { Icon } from './icons.jsx';
import { Login, Signup } from './screens/Auth.jsx';
import { DocView } from './screens/DocView.jsx';
import { Erasure } from './screens/Erasure.jsx';
import { Likes } from './screens/Likes.jsx';
import { Pizzerias } from './screens/Pizzerias.jsx';
import { Profile } from './screens/Profile.jsx';
import { Services } from './screens/Services.jsx';
import { Shuffle } from './screens/Shuffle.jsx';
import { Tweets } from './screens/Tweets.jsx';

// [route, label, icon, short label shown on phones (the label stays the accessible name)]
const SIGNED_IN = [
  ['shuffle', 'Shuffle', 'pizza'],
  ['likes', 'My likes', 'heart', 'Likes'],
  ['pizzerias', 'My pizzerias', 'store', 'Pizzerias'],
  ['tweets', 'Tweets', 'chat'],
  ['profile', 'Profile', 'user'],
  ['services', 'Services', 'pulse'],
];
const SIGNED_OUT = [
  ['shuffle', 'Shuffle', 'pizza'],
  ['tweets', 'Tweets', 'chat'],
  ['services', 'Services', 'pulse'],
  ['login', 'Log in', 'key'],
  ['signup', 'Sign up', 'plus'],
];

function parseHash(hash) {
  const [path, q = ''] = hash.replace(/^#\/?/, '').split('?');
  return { route: path || 'shuffle', params: new URLSearchParams(q) };
}

export function go(route) {
  window.location.hash = `#/${route}`;
}

function useHash() {
  const [hash, setHash] = useState(window.location.hash);
  useEffect(() => {
    const on = () => setHash(window.location.hash);
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return parseHash(hash);
}

export function App() {
  const { route, params } = useHash();
  const [user, setUser] = useState(undefined); // undefined: still asking
  const [notice, setNotice] = useState('');
  const [erasure, setErasure] = useState(null); // {id, token, username} after deleting oneself

  useEffect(() => {
    api.setOnSessionLost(() => {
      setUser((u) => {
        if (u) setNotice('Your session has ended. Please log in again.');
        return null;
      });
    });
    api.get('/api/v1/auth/me').then(setUser, () => setUser(null));
  }, []);

  const signedIn = useCallback((u) => {
    setUser(u);
    setNotice('');
    setErasure(null);
    go('shuffle');
  }, []);

  async function logout() {
    try {
      await api.post('/api/v1/auth/logout');
    } catch {
      /* the cookies are cleared by the server; signed out here whatever happened */
    }
    setUser(null);
    setNotice('You are logged out.');
    go('login');
  }

  const nav = user ? SIGNED_IN : SIGNED_OUT;
  let page;
  if (user === undefined) {
    page = <p className="muted" role="status">Loading…</p>;
  } else if (route === 'erasure' && erasure) {
    page = <Erasure erasure={erasure} />;
  } else if (route === 'login') {
    page = <Login onLogin={signedIn} />;
  } else if (route === 'signup') {
    page = <Signup onSignup={signedIn} />;
  } else if (route === 'tweets') {
    page = <Tweets user={user} />;
  } else if (route === 'services') {
    page = <Services />;
  } else if (route === 'doc') {
    page = <DocView url={params.get('url')} />;
  } else if (route === 'shuffle') {
    page = <Shuffle user={user} key={user ? user.id : 'anon'} />;
  } else if (!user) {
    page = <NeedLogin />;
  } else if (route === 'likes') {
    page = <Likes user={user} />;
  } else if (route === 'pizzerias') {
    page = <Pizzerias user={user} />;
  } else if (route === 'profile') {
    page = (
      <Profile user={user} onUpdated={setUser}
        onDeleted={(e) => {
          setErasure(e);
          setUser(null);
          go('erasure');
        }} />
    );
  } else {
    page = <NotFound />;
  }

  return (
    <div className="app">
      <header className="topbar">
        <a className="brand" href="#/shuffle"><Icon name="pizza" size={26} /> Tizza</a>
        <nav className="nav" aria-label="Main">
          <ul>
            {nav.map(([r, label, icon, short]) => (
              <li key={r}>
                <a href={`#/${r}`} aria-current={route === r ? 'page' : undefined}>
                  <Icon name={icon} />
                  {short ? (
                    <>
                      <span className="label label-long">{label}</span>
                      <span className="label label-short" aria-hidden="true">{short}</span>
                    </>
                  ) : (
                    <span className="label">{label}</span>
                  )}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        {user && (
          <div className="who">
            <span className="muted">@{user.username}</span>
            <button type="button" className="link" onClick={logout}>Log out</button>
          </div>
        )}
      </header>
      <main>
        {notice && (
          <p className="notice" role="status">
            {notice} <button type="button" className="link" onClick={() => setNotice('')} aria-label="Dismiss"><Icon name="cross" size={16} /></button>
          </p>
        )}
        {page}
      </main>
    </div>
  );
}

function NeedLogin() {
  return (
    <section>
      <h1>Log in first</h1>
      <p>
        This page is for signed-in users. <a href="#/login">Log in</a> or <a href="#/signup">sign up</a>.
      </p>
    </section>
  );
}

function NotFound() {
  return (
    <section>
      <h1>Not found</h1>
      <p>
        There is no such page. <a href="#/shuffle">Shuffle some pizzas</a>.
      </p>
    </section>
  );
}
