// Review (admin only): the pizzas waiting for review (GET /api/v1/pizzas?status=pending),
// each approved (PATCH {approved: true}) or rejected with a reason the owner then sees
// (PATCH {approved: false, rejection_reason}).
import { useEffect, useId, useState } from 'react';
import { api, query } from '../api.js';
import { Link } from '../router.jsx';
import { rejectionBody } from '../review.js';
import { PizzaSummary, PizzeriaName, ProblemMessage } from '../ui.jsx';

export function Review({ user }) {
  const [pizzas, setPizzas] = useState(null);
  const [error, setError] = useState(null);
  const [said, setSaid] = useState('');

  async function load() {
    setError(null);
    try {
      setPizzas((await api.get(`/api/v1/pizzas${query({ status: 'pending', limit: 100 })}`)).results);
    } catch (e) {
      setError(e);
    }
  }
  useEffect(() => {
    if (user.role === 'admin') load();
  }, [user.role]);

  if (user.role !== 'admin') {
    return (
      <section>
        <h1>Review</h1>
        <p>Only an admin reviews pizzas. Yours are in <Link to="/pizzerias">My pizzerias</Link>.</p>
      </section>
    );
  }

  const done = (p, what) => {
    setPizzas((l) => l.filter((x) => x.id !== p.id));
    setSaid(`${p.title} ${what}.`);
  };
  return (
    <section>
      <h1>Review</h1>
      <p className="muted">New pizzas, and pizzas their owners changed, wait here until you approve or reject them.</p>
      <ProblemMessage error={error} what="Could not load the pizzas to review" />
      {pizzas === null && !error && <p className="muted" role="status">Loading the pizzas to review…</p>}
      {pizzas && pizzas.length === 0 && <p className="empty">Nothing to review.</p>}
      <ul className="list" aria-label="Pizzas awaiting review">
        {(pizzas || []).map((p) => <ReviewRow key={p.id} pizza={p} onDone={(what) => done(p, what)} />)}
      </ul>
      <p className="said" role="status">{said}</p>
      <button type="button" onClick={load}>Refresh</button>
    </section>
  );
}

function ReviewRow({ pizza, onDone }) {
  const [rejecting, setRejecting] = useState(false);
  const [reason, setReason] = useState('');
  const [missing, setMissing] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const id = useId().replace(/[^a-zA-Z0-9_-]/g, '');

  async function send(body, what) {
    setBusy(true);
    setError(null);
    try {
      await api.patch(`/api/v1/pizzas/${pizza.id}`, body);
      onDone(what);
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  }

  function reject(e) {
    e.preventDefault();
    const body = rejectionBody(reason);
    setMissing(!body);
    if (body) send(body, 'rejected');
  }

  return (
    <li className="row" aria-label={pizza.title}>
      <PizzaSummary pizza={pizza} meta={<PizzeriaName id={pizza.pizzeria_id} link />}>
        {pizza.description && <p className="muted row-text">{pizza.description}</p>}
        <ProblemMessage error={error} what="Could not save the review" />
      </PizzaSummary>
      {!rejecting ? (
        <div className="actions">
          <button type="button" className="primary" disabled={busy} onClick={() => send({ approved: true }, 'approved')}
            aria-label={`Approve ${pizza.title}`}>Approve</button>
          <button type="button" className="danger" disabled={busy} onClick={() => setRejecting(true)}
            aria-label={`Reject ${pizza.title}`}>Reject</button>
        </div>
      ) : (
        <form className="reject-form" aria-label={`Reject ${pizza.title}`} onSubmit={reject} noValidate>
          <div className={`field${missing ? ' has-error' : ''}`}>
            <label htmlFor={`reason-${id}`}>Reason (the owner sees it)</label>
            <textarea id={`reason-${id}`} rows={2} maxLength={240} required value={reason} autoFocus
              aria-invalid={missing ? 'true' : undefined} aria-describedby={missing ? `reason-${id}-err` : undefined}
              onChange={(e) => {
                setReason(e.target.value);
                if (e.target.value.trim()) setMissing(false);
              }} />
            {missing && <span className="field-error" id={`reason-${id}-err`}>Say why, so the owner can fix it.</span>}
          </div>
          <button type="submit" className="danger" disabled={busy}>Reject pizza</button>
          <button type="button" disabled={busy} onClick={() => { setRejecting(false); setMissing(false); }}>Cancel</button>
        </form>
      )}
    </li>
  );
}
