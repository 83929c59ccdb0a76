// My likes: the caller's verdicts, newest first (GET /api/v1/likes?expand=pizza, one page at
// a time), each with the pizza's like and dislike counts (GET /api/v1/likes/counts, public).
// If pizza is down the verdicts still show (pizza_expanded false); if counts fail, only the
// counts are missing. Titles and pizzerias link to their pages.
// A verdict can be turned round (PUT the other one) or forgotten, after a confirmation
// (DELETE: the pizza comes back in Shuffle).
import { useEffect, useRef, useState } from 'react';
import { api, pagePath, query } from '../api.js';
import { Icon } from '../icons.jsx';
import { Link } from '../router.jsx';
import { Choice, countsText, KIND_LABEL, likeCounts, PizzaPhoto, PizzeriaName, plural, ProblemMessage } from '../ui.jsx';

const PAGE = 10;
const FILTERS = [['', 'All'], ['true', 'Liked'], ['false', 'Disliked']];

export function Likes() {
  const [liked, setLiked] = useState('');
  const [items, setItems] = useState([]);
  const [count, setCount] = useState(null);
  const [next, setNext] = useState(null);
  const [counts, setCounts] = useState({});
  const [expanded, setExpanded] = useState(true);
  const [error, setError] = useState(null);
  const [countsError, setCountsError] = useState(null);
  const [loading, setLoading] = useState(false);
  const [said, setSaid] = useState('');

  async function load(path, append) {
    setLoading(true);
    setError(null);
    try {
      const page = await api.get(path);
      setItems((old) => (append ? [...old, ...page.results] : page.results));
      setCount(page.count);
      setNext(pagePath(page.next));
      setExpanded(page.pizza_expanded !== false);
      const ids = page.results.map((l) => l.pizza_id);
      if (ids.length) {
        likeCounts(ids).then(
          (r) => {
            setCounts((c) => ({ ...c, ...r }));
            setCountsError(null);
          },
          setCountsError,
        );
      }
    } catch (e) {
      setError(e);
    } finally {
      setLoading(false);
    }
  }

  useEffect(() => {
    load(`/api/v1/likes${query({ expand: 'pizza', liked, limit: PAGE, offset: 0 })}`, false);
  }, [liked]);

  function refreshCounts(id) {
    likeCounts([id]).then((r) => setCounts((c) => ({ ...c, ...r })), setCountsError);
  }

  async function forget(like, title) {
    setError(null);
    try {
      await api.del(`/api/v1/likes/${encodeURIComponent(like.pizza_id)}`);
      setItems((old) => old.filter((l) => l.id !== like.id));
      setCount((c) => (c === null ? c : c - 1));
      setSaid(`Your verdict on ${title} is forgotten.`);
    } catch (e) {
      setError(e);
    }
  }

  // The other verdict; under a Liked or Disliked filter the row then leaves the list.
  async function flip(like, title) {
    setError(null);
    const to = !like.liked;
    try {
      await api.put(`/api/v1/likes/${encodeURIComponent(like.pizza_id)}`, { liked: to });
      if (liked === '') {
        setItems((old) => old.map((l) => (l.id === like.id ? { ...l, liked: to } : l)));
      } else {
        setItems((old) => old.filter((l) => l.id !== like.id));
        setCount((c) => (c === null ? c : c - 1));
      }
      setSaid(`You now ${to ? 'like' : 'dislike'} ${title}.`);
      refreshCounts(like.pizza_id);
    } catch (e) {
      setError(e);
    }
  }

  return (
    <section>
      <h1>My likes</h1>
      <Choice label="Show" options={FILTERS} value={liked} onChange={setLiked} />
      {count !== null && <p className="muted">{plural(count, 'verdict', 'verdicts')}</p>}
      <p className="muted" role="status">{said}</p>
      {!expanded && <p className="warning" role="status">Pizza details are unavailable right now (the pizza service did not answer).</p>}
      {countsError && <p className="warning" role="status">Like counts are unavailable right now.</p>}
      <ProblemMessage error={error} what="Could not load your likes" />
      {count === 0 && <p className="empty">Nothing here yet. <Link to="/shuffle">Shuffle some pizzas</Link>.</p>}
      <ul className="list" aria-label="My verdicts">
        {items.map((l) => {
          const c = counts[l.pizza_id];
          const title = l.pizza ? l.pizza.title : expanded ? 'A pizza no longer on the menu' : `Pizza ${l.pizza_id}`;
          return (
            <li key={l.id} className="row">
              {l.pizza ? <PizzaPhoto pizza={l.pizza} size="small" /> : <div className="photo photo-small photo-none" aria-hidden="true"><Icon name="pizza" size={32} /></div>}
              <div className="row-body">
                <h2 className="row-title">{l.pizza ? <Link to={`/pizzas/${l.pizza_id}`}>{title}</Link> : title}</h2>
                <p className="meta">
                  <span className={l.liked ? 'badge like' : 'badge dislike'}>{l.liked ? 'Liked' : 'Disliked'}</span>
                  {l.pizza && <span className={`kind kind-${l.pizza.kind}`}>{KIND_LABEL[l.pizza.kind]}</span>}
                  {l.pizza && <PizzeriaName id={l.pizza.pizzeria_id} link />}
                </p>
                {c && <p className="counts">{countsText(c)}</p>}
              </div>
              <div className="actions">
                <button type="button" onClick={() => flip(l, title)} aria-label={`${l.liked ? 'Dislike' : 'Like'} instead: ${title}`}>
                  {l.liked ? 'Dislike instead' : 'Like instead'}
                </button>
                <ConfirmForget title={title} onConfirm={() => forget(l, title)} />
              </div>
            </li>
          );
        })}
      </ul>
      {next && <button type="button" onClick={() => load(next, true)} disabled={loading}>Load more</button>}
      {loading && <p className="muted" role="status">Loading…</p>}
    </section>
  );
}

/** Forget that asks first; the focus goes to Cancel when it asks, and back to Forget. */
function ConfirmForget({ title, onConfirm }) {
  const [asking, setAsking] = useState(false);
  const ask = useRef(null);
  const cancel = useRef(null);
  const back = useRef(false);
  useEffect(() => {
    if (asking) cancel.current.focus();
    else if (back.current) ask.current.focus();
    back.current = false;
  }, [asking]);
  if (!asking) {
    return (
      <button type="button" ref={ask} className="link danger" onClick={() => setAsking(true)}
        aria-label={`Forget my verdict on ${title}`}>Forget</button>
    );
  }
  return (
    <span className="confirm" role="group" aria-label={`Confirm forgetting your verdict on ${title}`}>
      <span>Forget your verdict? {title} comes back in Shuffle.</span>
      <button type="button" className="danger" onClick={onConfirm}>Yes, forget</button>
      <button type="button" ref={cancel} onClick={() => { back.current = true; setAsking(false); }}>Cancel</button>
    </span>
  );
}
