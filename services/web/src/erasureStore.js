// The erasure receipt of a deleted account, kept in the browser (localStorage) so that the
// erasure page still shows its progress after a reload or a new visit: auth gives the
// receipt once, in the DELETE's 202, and it needs no token (the account's are gone).

const KEY = 'tizza.erasure';
const RECEIPT = /^\/api\/v1\/erasures\/[A-Za-z0-9_-]{43}$/;

/** window.localStorage, or null where the browser refuses it (the functions below take null). */
export function localStore() {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

/** The receipt's path on this origin (from the absolute URL auth gives), or null. */
export function receiptPath(url) {
  if (!url) return null;
  try {
    const p = new URL(url, 'http://x').pathname;
    return RECEIPT.test(p) ? p : null;
  } catch {
    return null;
  }
}

/** {username, receipt} kept earlier, or null (nothing kept, or not one of ours). */
export function loadErasure(storage) {
  try {
    const v = JSON.parse(storage.getItem(KEY) || 'null');
    if (v && typeof v.username === 'string' && RECEIPT.test(v.receipt || '')) return { username: v.username, receipt: v.receipt };
  } catch {
    /* unreadable: as if nothing was kept */
  }
  return null;
}

/** Keeps {username, receipt}; false when the browser refuses (private mode, full). */
export function saveErasure(storage, { username, receipt }) {
  try {
    storage.setItem(KEY, JSON.stringify({ username, receipt }));
    return true;
  } catch {
    return false;
  }
}

export function forgetErasure(storage) {
  try {
    storage.removeItem(KEY);
  } catch {
    /* nothing to do */
  }
}
