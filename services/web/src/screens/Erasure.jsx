// Erasure progress after deleting one's account: polls the deletion's receipt
// (GET /api/v1/erasures/{receipt}, no token; kept in localStorage, so a reload shows it too),
// else GET /api/v1/users/{id}/erasure with the access token kept from before the deletion,
// until every service reports it erased the user's data (auth gathers their user.erased
// events).
import { useEffect, useState } from 'react';
import { api } from '../api.js';
import { Link } from '../router.jsx';
import { ProblemMessage, RelTime, useNow } from '../ui.jsx';

const POLL_MS = 1000;

function removedText(removed) {
  if (!removed) return '';
  const parts = Object.entries(removed).map(([k, n]) => `${n} ${n === 1 && k.endsWith('s') ? k.slice(0, -1) : k}`);
  return parts.length ? `removed ${parts.join(', ')}` : 'nothing to remove';
}

export function Erasure({ erasure, onForget }) {
  const now = useNow(5000);
  const [status, setStatus] = useState(null);
  const [error, setError] = useState(null);

  useEffect(() => {
    let live = true;
    let timer = null;
    async function poll() {
      try {
        const s = erasure.receipt
          ? await api.get(erasure.receipt, { refresh: false })
          : await api.get(erasure.path, erasure.token ? { token: erasure.token } : { refresh: false });
        if (!live) return;
        setStatus(s);
        setError(null);
        if (s.complete) return;
      } catch (e) {
        if (!live) return;
        setError(e);
        if (e.status === 401 || e.status === 403 || e.status === 404) return; // will not get better
      }
      timer = setTimeout(poll, POLL_MS);
    }
    poll();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [erasure]);

  const services = status ? Object.entries(status.services || {}) : [];
  const done = services.filter(([, s]) => s.status === 'done').length;
  return (
    <section className="narrow">
      <h1>Account deleted</h1>
      <p>@{erasure.username} is gone. Each service now erases what it held about you.</p>
      {status && (
        <>
          <p role="status" className={status.complete ? 'notice' : 'muted'}>
            {status.complete
              ? 'Erasure complete: every service has erased your data.'
              : `Erasing… ${done} of ${services.length} services done.`}
          </p>
          <progress max={services.length || 1} value={done} aria-label="Erasure progress" />
          <ul className="list" aria-label="Erasure by service">
            {services.map(([name, s]) => (
              <li key={name} className="row">
                <span className="row-title">{name}</span>
                <span className={s.status === 'done' ? 'badge ok' : 'badge pending'}>{s.status === 'done' ? 'Done' : 'Pending'}</span>
                {s.status === 'done' && (
                  <span className="muted">
                    {removedText(s.removed)}{s.at ? ' · ' : ''}{s.at && <RelTime iso={s.at} now={now} />}
                  </span>
                )}
              </li>
            ))}
          </ul>
          <p className="muted">Requested <RelTime iso={status.requested_at} now={now} />.</p>
        </>
      )}
      <ProblemMessage error={error} what="Could not read the erasure status" />
      {erasure.receipt && (
        <p className="muted">
          This browser keeps your <a href={erasure.receipt}>erasure receipt</a>, so this page shows the progress
          whenever you come back. <button type="button" className="link" onClick={onForget}>Forget the receipt</button>
        </p>
      )}
      <p><Link to="/signup">Sign up again</Link> · <Link to="/shuffle">Browse pizzas</Link></p>
    </section>
  );
}
