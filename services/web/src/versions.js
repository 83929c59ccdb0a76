// versions -- optimistic concurrency for the items a user edits (a pizza and its picture, a
// pizzeria, one's own account). Each is read with its ETag right before the user edits it
// (readTagged: the form opens on its current values), and every write of it sends that ETag
// as If-Match (writeTagged), then keeps the ETag of the answer for the next write. When the
// item was changed meanwhile (by someone else, or in another tab) the service answers 412 and
// changes nothing: the app reads the item again and rebases what the user typed on it
// (rebase: the fields they changed keep their value, the others take the current one), says
// so in plain words (meanwhileNote), and the next write carries the new ETag.
// Pure, given an api (api.js's createApi()).
import { ApiError } from './api.js';
import { fieldLabel } from './messages.js';

/** True for the answer "the item was changed since you read it" (412 Precondition Failed). */
export function isChangedMeanwhile(e) {
  return e instanceof ApiError && e.status === 412;
}

/** GET of one item with the ETag of this read: {item, etag} (etag null when none came). */
export async function readTagged(api, path) {
  const { data, etag } = await api.get(path, { tagged: true });
  return { item: data, etag };
}

/** A write of an item read as `etag` (sent as If-Match; none when the read gave none):
 *  {item, etag} of the answer (item null for a 204). `method` is PATCH, PUT or DELETE; opts
 *  are api.request's (`body`, or `file` for a picture, `token`). A 412 rejects with an
 *  ApiError (isChangedMeanwhile) and nothing was changed. */
export async function writeTagged(api, method, path, etag, opts = {}) {
  const { data, etag: next } = await api.request(method, path, { ...opts, ifMatch: etag || undefined, tagged: true });
  return { item: data, etag: next };
}

const norm = (v) => (v === undefined || v === null ? '' : String(v));

/** {field: value as a form shows it ("" for none)} of `item`. */
export function formValues(item, fields) {
  return Object.fromEntries(fields.map((f) => [f, norm(item && item[f])]));
}

/** {field: typed value} of the fields whose typed value differs from `base` (what was read). */
export function changedFields(base, typed, fields) {
  return Object.fromEntries(fields.filter((f) => norm(typed[f]) !== norm(base && base[f])).map((f) => [f, typed[f]]));
}

/** What the user typed (`typed`, in a form opened on `base`), moved onto `fresh` (the item as
 *  it is now): `values` for the form (a field the user changed keeps their value, the others
 *  take the current one) and `changes`, the fields someone else changed meanwhile, each
 *  {field, theirs, yours} where `yours` is set only when the form keeps the user's value
 *  instead of theirs. */
export function rebase(base, typed, fresh, fields) {
  const values = {};
  const changes = [];
  for (const f of fields) {
    const was = norm(base && base[f]);
    const now = norm(fresh && fresh[f]);
    const mine = norm(typed && typed[f]);
    const edited = mine !== was;
    values[f] = edited ? mine : now;
    if (now !== was) changes.push(edited && mine !== now ? { field: f, theirs: now, yours: mine } : { field: f, theirs: now });
  }
  return { values, changes };
}

/** The change of a pizza's photo between two reads, as a `changes` entry (or none). */
export function pictureChange(base, fresh) {
  const v = (p) => (p && p.picture ? String(p.picture.version || 'some') : '');
  return v(base) === v(fresh) ? [] : [{ field: 'picture', theirs: v(fresh) }];
}

const LEADS = {
  save: (what) => `Someone else (or you, in another tab) changed ${what} while you were editing it, so your changes were not saved.`,
  delete: (what) => `Someone else (or you, in another tab) changed ${what} meanwhile, so it was not deleted.`,
  photo: (what) => `Someone else (or you, in another tab) changed ${what} meanwhile, so its photo was not removed.`,
  upload: (what) => `Someone else (or you, in another tab) changed ${what} meanwhile, so the photo you chose was not sent.`,
  reread: (what) => `Someone else (or you, in another tab) changed ${what} meanwhile.`,
  password: () => 'Your account was changed meanwhile (in another tab, perhaps), so your password was not changed.',
  deleteAccount: () => 'Your account was changed meanwhile (in another tab, perhaps), so it was not deleted.',
};
const NEXT = {
  save: 'Your changes are still in the form: Save again to apply them to the current version, or Cancel to keep it as it is.',
  delete: 'It shows its current version now: delete it again if you still want to.',
  photo: 'The form shows it as it is now: remove the photo again if you still want to.',
  upload: 'The photo is still chosen: Save again to send it, or Cancel to keep the pizza as it is.',
  reread: 'The form shows it as it is now, with your changes kept.',
  password: 'Your details are up to date now: change your password again.',
  deleteAccount: 'Your details are up to date now: check them, then confirm again.',
};

/** The message after a 412: {lead, items, next}, plain sentences. `action` is what was
 *  refused (save, delete, photo, upload, password, deleteAccount; reread: nothing was
 *  refused, a read found the item changed), `what` the item ("this pizza"),
 *  `changes` rebase()'s (plus pictureChange()'s), `show(field, value)` a value as the form
 *  shows it (e.g. a kind's label). */
export function meanwhileNote({ action = 'save', what = 'this item', changes = [], show = (f, v) => v } = {}) {
  const quote = (f, v) => (v === '' ? 'empty' : `“${show(f, v)}”`);
  const items = changes.map((c) => {
    if (c.field === 'picture') return c.theirs ? 'It has a new photo.' : 'Its photo was removed.';
    const label = fieldLabel(c.field);
    if (c.yours !== undefined) return `${label} is now ${quote(c.field, c.theirs)}; the form keeps yours, ${quote(c.field, c.yours)}.`;
    return action === 'save' || action === 'photo' || action === 'upload' || action === 'reread'
      ? `${label} is now ${quote(c.field, c.theirs)} (in the form: you had not changed it).`
      : `${label} is now ${quote(c.field, c.theirs)}.`;
  });
  return { lead: (LEADS[action] || LEADS.save)(what), items, next: NEXT[action] || NEXT.save };
}
