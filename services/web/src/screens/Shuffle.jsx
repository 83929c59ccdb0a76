// Shuffle: one pizza at a time with Like and Dislike. The ShuffleQueue fetches the next batch
// (GET /api/v1/pizzas/random?count=N) before the shown ones run out and never shows a judged
// pizza again; a verdict is PUT /api/v1/likes/{pizza_id}. If likes is down the pizza stays
// on screen with the error, so nothing is skipped unjudged.
import { useEffect, useState } from 'react';
import { api } from '../api.js';
import { Icon } from '../icons.jsx';
import { Link } from '../router.jsx';
import { ShuffleQueue } from '../shuffleQueue.js';
import { KIND_LABEL, PizzaPhoto, PizzeriaName, ProblemMessage } from '../ui.jsx';

const BATCH = 5;

export function Shuffle({ user }) {
  const [queue] = useState(() => new ShuffleQueue({
    batchSize: BATCH,
    lowWater: 2,
    fetchBatch: async (n) => (await api.get(`/api/v1/pizzas/random?count=${n}`)).results,
  }));
  const [st, setSt] = useState(queue.state());
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [said, setSaid] = useState('');

  useEffect(() => {
    const off = queue.subscribe(setSt);
    if (user) {
      // Pizza already excludes judged pizzas for us; this covers pizza answering without
      // likes (excluded_seen false). Best effort: Shuffle works without it.
      api.get('/api/v1/likes/seen').then((r) => queue.addJudged(r.pizza_ids || []), () => {});
    }
    queue.fill();
    return off;
  }, [queue, user]);

  const pizza = st.current;

  async function judge(liked) {
    if (!user) {
      setError({ detail: 'Log in to like or dislike pizzas.' });
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await api.put(`/api/v1/likes/${pizza.id}`, { liked });
      setSaid(`You ${liked ? 'liked' : 'disliked'} ${pizza.title}.`);
      queue.next();
    } catch (e) {
      if (e.status === 422) {
        setSaid(`${pizza.title} is no longer on the menu.`);
        queue.next();
      } else {
        setError(e);
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="shuffle">
      <h1>Shuffle</h1>
      <p className="sr-only" role="status" aria-live="polite">{said}</p>
      {pizza ? (
        <article className="card pizza-card" aria-labelledby={`pz-${pizza.id}`}>
          <PizzaPhoto pizza={pizza} />
          <div className="card-body">
            <h2 id={`pz-${pizza.id}`}><Link to={`/pizzas/${pizza.id}`}>{pizza.title}</Link></h2>
            {pizza.description && <p>{pizza.description}</p>}
            <p className="meta">
              <span className={`kind kind-${pizza.kind}`}>{KIND_LABEL[pizza.kind] || pizza.kind}</span>
              <PizzeriaName id={pizza.pizzeria_id} link />
            </p>
          </div>
          <div className="verdict">
            <button type="button" className="dislike" onClick={() => judge(false)} disabled={busy}>
              <Icon name="cross" size={20} /> Dislike
            </button>
            <button type="button" className="like" onClick={() => judge(true)} disabled={busy}>
              <Icon name="heart" size={20} /> Like
            </button>
          </div>
          {!user && <p className="muted"><Link to="/login">Log in</Link> to keep your verdicts.</p>}
        </article>
      ) : st.loading ? (
        <p className="muted" role="status">Finding pizzas…</p>
      ) : st.exhausted ? (
        <div className="empty">
          <p>You have judged every pizza on the menu. New pizzas appear once an admin approves them.</p>
          <button type="button" onClick={() => queue.retry()}>Look again</button>
        </div>
      ) : null}
      <ProblemMessage error={error} what="Could not save your verdict" />
      {st.error && (
        <div>
          <ProblemMessage error={st.error} what="Could not load pizzas" />
          <button type="button" onClick={() => queue.fill()}>Try again</button>
        </div>
      )}
    </section>
  );
}
