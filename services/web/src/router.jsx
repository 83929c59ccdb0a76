// History routing for the app: the current location as React state, navigate() for code,
// and <Link> for anchors that change the page without reloading it (a plain left click;
// ctrl/cmd/shift/middle clicks keep the browser's own behaviour: new tab, new window).
import { useEffect, useState } from 'react';

const CHANGE = 'tizza:navigate';

function here() {
  return { pathname: window.location.pathname, search: window.location.search };
}

/** Goes to an app path (pushState, or replaceState with {replace: true}). */
export function navigate(to, { replace = false } = {}) {
  if (replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  window.dispatchEvent(new Event(CHANGE));
}

/** {pathname, search}, updated on navigate() and on the browser's back and forward. */
export function useLocation() {
  const [loc, setLoc] = useState(here);
  useEffect(() => {
    const on = () => setLoc(here());
    window.addEventListener('popstate', on);
    window.addEventListener(CHANGE, on);
    return () => {
      window.removeEventListener('popstate', on);
      window.removeEventListener(CHANGE, on);
    };
  }, []);
  return loc;
}

export function Link({ to, onClick, children, ...props }) {
  function click(e) {
    if (onClick) onClick(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    if (to !== window.location.pathname + window.location.search) navigate(to);
  }
  return <a href={to} onClick={click} {...props}>{children}</a>;
}
