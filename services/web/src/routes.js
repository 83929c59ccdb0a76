// The app's URLs (history routing: real paths, no `#`). Pure functions, no DOM: the path to
// a route, the page titles, and the old `#/...` links to their new paths.

export const ID = /^[0-9a-f]{24}$/;

const STATIC = {
  '/': 'shuffle',
  '/shuffle': 'shuffle',
  '/likes': 'likes',
  '/pizzerias': 'pizzerias',
  '/review': 'review',
  '/top': 'top',
  '/tweets': 'tweets',
  '/profile': 'profile',
  '/status': 'services',
  '/docs': 'doc',
  '/login': 'login',
  '/signup': 'signup',
  '/account-deleted': 'erasure',
};

// [pattern, route name]: the one path parameter must be an id, else the path is not found.
const WITH_ID = [
  [/^\/pizzas\/([^/]+)$/, 'pizza'],
  [/^\/pizzerias\/([^/]+)$/, 'pizzeria'],
];

const NOT_FOUND = { name: 'notfound', params: {} };

/** {name, params} of a pathname; name 'notfound' when no page has that address. */
export function matchRoute(pathname) {
  const path = pathname.length > 1 ? pathname.replace(/\/+$/, '') || '/' : pathname;
  if (Object.hasOwn(STATIC, path)) return { name: STATIC[path], params: {} };
  for (const [re, name] of WITH_ID) {
    const m = re.exec(path);
    if (m) return ID.test(m[1]) ? { name, params: { id: m[1] } } : NOT_FOUND;
  }
  return NOT_FOUND;
}

const TITLES = {
  shuffle: 'Shuffle',
  likes: 'My likes',
  pizzerias: 'My pizzerias',
  review: 'Review',
  top: 'Top liked',
  tweets: 'Tweets',
  profile: 'Profile',
  services: 'Services',
  doc: 'Document',
  login: 'Log in',
  signup: 'Sign up',
  erasure: 'Account deleted',
};

/** The fixed title of a route's page, or null when the page names itself (a pizza...). */
export function routeTitle(name) {
  return TITLES[name] || null;
}

/** document.title for a page heading. */
export function documentTitle(heading) {
  return heading ? `${heading} · Tizza` : 'Tizza';
}

const LEGACY = { services: '/status', doc: '/docs', erasure: '/account-deleted' };

/** The path an old hash link (`#/likes`, `#/doc?url=...`) now lives at; null for other hashes. */
export function fromLegacyHash(hash) {
  const m = /^#\/([^?]*)(\?.*)?$/.exec(hash || '');
  if (!m) return null;
  const name = m[1].replace(/\/+$/, '');
  return (LEGACY[name] || `/${name}`) + (m[2] || '');
}

// Pages a login should not lead back to.
const NO_RETURN = new Set(['login', 'signup', 'erasure', 'notfound']);

/** Where a login goes: `next` when it is a page of this app (a path on this origin, not a
 *  login or sign-up page), else Shuffle. */
export function returnPath(next) {
  if (typeof next !== 'string' || !next.startsWith('/') || next.startsWith('//') || next.includes('\\')) return '/shuffle';
  let u;
  try {
    u = new URL(next, 'http://x');
  } catch {
    return '/shuffle';
  }
  if (u.origin !== 'http://x' || NO_RETURN.has(matchRoute(u.pathname).name)) return '/shuffle';
  return u.pathname + u.search;
}

/** The login page that comes back to `path` afterwards. */
export function loginPath(path) {
  const back = returnPath(path);
  return back === '/shuffle' ? '/login' : `/login?next=${encodeURIComponent(back)}`;
}
