// My likes: the caller's verdicts, newest first (GET /api/v1/likes?expand=pizza, one page at
// a time), each with the pizza's like and dislike counts (GET /api/v1/likes/counts, public).
// If pizza is down the verdicts still show (pizza_expanded false); if counts fail, only the
// counts are missing. Titles and pizzerias link to their pages.
import { useEffect, useState } from 'react';
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

  async function forget(like) {
    try {
      await api.del(`/api/v1/likes/${like.pizza_id}`);
      setItems((old) => old.filter((l) => l.id !== like.id));
      setCount((c) => (c === null ? c : c - 1));
    } catch (e) {
      setError(e);
    }
  }

  return (
    <section>
      <h1>My likes</h1>
      <Choice label="Show" options={FILTERS} value={liked} onChange={setLiked} />
      {count !== null && <p className="muted">{plural(count, 'verdict', 'verdicts')}</p>}
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
              <button type="button" className="link" onClick={() => forget(l)} aria-label={`Forget my verdict on ${title}`}>Forget</button>
            </li>
          );
        })}
      </ul>
      {next && <button type="button" onClick={() => load(next, true)} disabled={loading}>Load more</button>}
      {loading && <p className="muted" role="status">Loading…</p>}
    </section>
  );
}
