// What a user was doing when the session ended under it, kept in sessionStorage (this tab
// only) so that nothing is lost: after logging in again, the same user finds the tweet being
// written back in the box, and a verdict being sent is sent then. A verdict is kept before
// it is sent and forgotten once it is answered, so a session that ends during the call (or
// a reload) leaves it behind.

const KEY = 'tizza.tweetDraft';
const VERDICT_KEY = 'tizza.pendingVerdict';

export function sessionStore() {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}

/** The draft `userId` left, or ''. */
export function loadDraft(storage, userId) {
  try {
    const d = JSON.parse(storage.getItem(KEY) || 'null');
    return d && d.user_id === userId && typeof d.body === 'string' ? d.body : '';
  } catch {
    return '';
  }
}

/** Keeps `body` as the draft of `userId`; an empty body forgets the draft. */
export function saveDraft(storage, userId, body) {
  try {
    if (body) storage.setItem(KEY, JSON.stringify({ user_id: userId, body }));
    else storage.removeItem(KEY);
  } catch {
    /* not kept: the box still holds it */
  }
}

/** The verdict `userId` left unsent ({pizza, liked}: the whole pizza, to show it again), or
 *  null; with `userId` undefined, anyone's. */
export function loadPendingVerdict(storage, userId) {
  try {
    const v = JSON.parse(storage.getItem(VERDICT_KEY) || 'null');
    if (!v || typeof v.liked !== 'boolean' || !v.pizza || typeof v.pizza.id !== 'string') return null;
    if (userId !== undefined && v.user_id !== userId) return null;
    return { pizza: v.pizza, liked: v.liked };
  } catch {
    return null;
  }
}

/** Keeps `userId`'s verdict on `pizza` until forgetPendingVerdict. */
export function savePendingVerdict(storage, userId, pizza, liked) {
  try {
    storage.setItem(VERDICT_KEY, JSON.stringify({ user_id: userId, pizza, liked }));
  } catch {
    /* not kept: it is being sent anyway */
  }
}

export function forgetPendingVerdict(storage) {
  try {
    storage.removeItem(VERDICT_KEY);
  } catch {
    /* nothing kept */
  }
}
