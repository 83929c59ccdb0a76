// A tweet being written, kept in sessionStorage (this tab only) so that it survives the
// session ending under it: after logging in again, the same user finds it in the box.

const KEY = 'tizza.tweetDraft';

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
