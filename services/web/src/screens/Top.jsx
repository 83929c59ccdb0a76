// Top liked: the most liked pizzas of the last days (GET /api/v1/likes/top?expand=pizza,
// public), most likes first, each linking to its page. Pizzas pizza does not show (deleted,
// unapproved) are left out by likes; if pizza did not answer the rows keep their counts.
import { api, query } from '../api.js';
import { Link } from '../router.jsx';
import { Choice, PizzaSummary, PizzeriaName, plural, ProblemMessage, useLoaded } from '../ui.jsx';

const SPANS = [[7, 'This week'], [30, 'This month']];
const loadTop = (days) => api.get(`/api/v1/likes/top${query({ days, limit: 10, expand: 'pizza' })}`);

export function Top({ days, onDays }) {
  const [top, error] = useLoaded(loadTop, days);
  return (
    <section>
      <h1>Top liked</h1>
      <Choice label="Period" options={SPANS} value={days} onChange={onDays} />
      <ProblemMessage error={error} what="Could not load the most liked pizzas" />
      {!top && !error && <p className="muted" role="status">Loading the most liked pizzas…</p>}
      {top && top.pizza_expanded === false && <p className="warning" role="status">Pizza details are unavailable right now (the pizza service did not answer).</p>}
      {top && top.results.length === 0 && <p className="empty">No likes in the last {plural(days, 'day', 'days')}. <Link to="/shuffle">Shuffle some pizzas</Link>.</p>}
      {top && top.results.length > 0 && (
        <ol className="list top-list" aria-label="Most liked pizzas">
          {top.results.map((r, i) => {
            const title = r.pizza ? r.pizza.title : `Pizza ${r.pizza_id}`;
            return (
              <li key={r.pizza_id} className="row" aria-label={title}>
                <span className="rank" aria-hidden="true">{i + 1}</span>
                {r.pizza ? <PizzaSummary pizza={r.pizza} meta={<PizzeriaName id={r.pizza.pizzeria_id} link />} /> : (
                  <div className="row-body"><Link className="row-title" to={`/pizzas/${r.pizza_id}`}>{title}</Link></div>
                )}
                <span className="top-count">{plural(r.likes, 'like', 'likes')}</span>
              </li>
            );
          })}
        </ol>
      )}
      {top && top.partial && <p className="muted">Counted from the newest verdicts only: there were too many to read them all.</p>}
    </section>
  );
}
