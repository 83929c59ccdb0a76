// Profile: edit name and email (PATCH /api/v1/users/{id}), change the password (with the
// current one; auth then revokes every refresh token, so we log in again with the new
// password to keep this session), and delete the account after a confirmation.
//
// Deleting oneself clears the session cookies (auth does so in the 202). The 202's `receipt`
// shows the erasure to whoever holds it, without a token: it is kept in localStorage
// (erasureStore.js) for the erasure page. Should it be missing, the page falls back to the
// erasure status with the deleted user's still-valid access token: just before the DELETE we
// ask POST /api/v1/auth/refresh for a fresh one (in its body) and keep it in memory.
//
// Versions (versions.js): the page reads GET /api/v1/users/{id} with its ETag, and the
// details, the password change and the deletion send it as If-Match. When the account was
// changed meanwhile (in another tab, say: 412), it is read again, the details form keeps what
// was typed (untouched fields take the current values), the refused action says so and can
// simply be done again.
import { useEffect, useRef, useState } from 'react';
import { api, pagePath } from '../api.js';
import { localStore, receiptPath, saveErasure } from '../erasureStore.js';
import { PASSWORD_RULE } from '../messages.js';
import { ChangedMeanwhile, Field, ProblemMessage, useForm } from '../ui.jsx';
import { changedFields, formValues, isChangedMeanwhile, meanwhileNote, readTagged, rebase, writeTagged } from '../versions.js';

const DETAILS = ['name', 'email'];

export function Profile({ user, onUpdated, onDeleted }) {
  const profile = useForm(formValues(user, DETAILS));
  const password = useForm({ password: '', current_password: '' });
  const [saved, setSaved] = useState('');
  const [asking, setAsking] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [deleteError, setDeleteError] = useState(null);
  const [note, setNote] = useState(null); // after a 412: {where, note}
  const seen = useRef({ item: user, etag: null }); // the account as read: the details' base, the If-Match
  const typed = useRef(profile.values);
  typed.current = profile.values;
  const path = `/api/v1/users/${user.id}`;

  // The account read again (with its ETag); the details form keeps what was typed in it.
  async function reread() {
    const base = seen.current.item;
    const fresh = await readTagged(api, path);
    seen.current = fresh;
    const r = rebase(base, typed.current, fresh.item, DETAILS);
    profile.setValues(r.values);
    onUpdated({ ...user, ...fresh.item });
    return r.changes;
  }
  useEffect(() => {
    reread().catch(() => {}); // without it the writes are unconditional, as before
  }, [user.id]);

  async function changedMeanwhile(where, action) {
    const changes = await reread();
    setNote({ where, note: meanwhileNote({ action, what: 'your account', changes }) });
  }

  async function deleteAccount() {
    setDeleting(true);
    setDeleteError(null);
    try {
      let token = null;
      try {
        token = (await api.post('/api/v1/auth/refresh')).access_token || null;
      } catch {
        /* no fresh token: the DELETE still works with the cookie */
      }
      const { item: r } = await writeTagged(api, 'DELETE', path, seen.current.etag, token ? { token } : {});
      const receipt = receiptPath(r && r.receipt);
      if (receipt) saveErasure(localStore(), { username: user.username, receipt });
      onDeleted({
        id: user.id,
        username: user.username,
        receipt,
        token,
        path: pagePath(r && r.erasure) || `/api/v1/users/${user.id}/erasure`,
      });
    } catch (e) {
      if (isChangedMeanwhile(e)) await changedMeanwhile('delete', 'deleteAccount').catch(setDeleteError);
      else setDeleteError(e);
      setDeleting(false);
    }
  }

  return (
    <section className="narrow">
      <h1>Profile</h1>
      <p className="muted">
        Signed in as <strong>@{user.username}</strong>{user.role === 'admin' ? ' (admin)' : ''}
      </p>
      <form className="card form-card" aria-label="Profile" onSubmit={(e) => profile.submit(e, async (v) => {
        setSaved('');
        setNote(null);
        try {
          const changed = changedFields(seen.current.item, v, DETAILS);
          const r = await writeTagged(api, 'PATCH', path, seen.current.etag, { body: Object.keys(changed).length ? changed : { name: v.name, email: v.email } });
          seen.current = r;
          onUpdated(r.item);
          setSaved('Profile saved.');
        } catch (err) {
          if (!isChangedMeanwhile(err)) throw err;
          await changedMeanwhile('details', 'save');
        }
      })}>
        <h2>Your details</h2>
        <Field label="Name" autoComplete="name" maxLength={100} {...profile.bind('name')} error={profile.fieldError('name')} />
        <Field label="Email" type="email" autoComplete="email" required {...profile.bind('email')} error={profile.fieldError('email')} />
        {note && note.where === 'details' && <ChangedMeanwhile note={note.note} />}
        <ProblemMessage error={profile.error} what="Could not save your profile" />
        <button type="submit" className="primary" disabled={profile.busy}>Save profile</button>
      </form>

      <form className="card form-card" aria-label="Password" onSubmit={(e) => password.submit(e, async (v) => {
        setSaved('');
        setNote(null);
        try {
          seen.current = await writeTagged(api, 'PATCH', path, seen.current.etag, { body: v });
        } catch (err) {
          if (!isChangedMeanwhile(err)) throw err;
          await changedMeanwhile('password', 'password'); // the fields stay filled: one click to try again
          return;
        }
        // The change revoked every refresh token: start a new session with the new password.
        await api.post('/api/v1/auth/login', { username: user.username, password: v.password }).catch(() => {});
        password.setValues({ password: '', current_password: '' });
        setSaved('Password changed.');
      })}>
        <h2>Password</h2>
        <Field label="Current password" type="password" autoComplete="current-password" required
          {...password.bind('current_password')} error={password.fieldError('current_password')} />
        <Field label="New password" type="password" autoComplete="new-password" required minLength={8}
          hint={PASSWORD_RULE} {...password.bind('password')} error={password.fieldError('password')} />
        {note && note.where === 'password' && <ChangedMeanwhile note={note.note} />}
        <ProblemMessage error={password.error} what="Could not change your password" />
        <button type="submit" className="primary" disabled={password.busy}>Change password</button>
      </form>
      {saved && <p className="notice" role="status">{saved}</p>}

      <section className="card danger-zone" aria-labelledby="delete-h">
        <h2 id="delete-h">Delete my account</h2>
        <p>Your account goes at once; your likes, pizzerias, pizzas and tweets are then erased by each service.</p>
        {!asking ? (
          <button type="button" className="danger" onClick={() => setAsking(true)}>Delete my account</button>
        ) : (
          <div role="group" aria-label="Confirm account deletion">
            <p><strong>This cannot be undone.</strong> Delete @{user.username} and all your data?</p>
            <button type="button" className="danger" onClick={deleteAccount} disabled={deleting}>Yes, delete my account</button>
            <button type="button" onClick={() => setAsking(false)} disabled={deleting}>Cancel</button>
          </div>
        )}
        {note && note.where === 'delete' && <ChangedMeanwhile note={note.note} />}
        <ProblemMessage error={deleteError} what="Could not delete your account" />
      </section>
    </section>
  );
}
