// A pizza's public page (/pizzas/<id>): photo, title, description, kind, its pizzeria (a
// link), likes and dislikes (GET /api/v1/likes/counts), and the pizzeria's other pizzas.
import { api } from '../api.js';
import { reviewState } from '../review.js';
import { countsText, KIND_LABEL, likeCounts, PizzaPhoto, PizzeriaName, ProblemMessage, ReviewBadge, useLoaded, useTitle } from '../ui.jsx';
import { MenuList, pageTitle, Pending, pizzasOf } from './Pizzeria.jsx';

const pizzaById = (id) => api.get(`/api/v1/pizzas/${id}`);
const countsOf = async (id) => (await likeCounts([id]))[id] || { likes: 0, dislikes: 0 };

export function PizzaPage({ id }) {
  const [pizza, error] = useLoaded(pizzaById, id);
  const [counts] = useLoaded(countsOf, id);
  const [siblings, siblingsError] = useLoaded(pizzasOf, pizza && pizza.pizzeria_id);
  useTitle(pageTitle(pizza && pizza.title, error, 'Pizza'));
  if (!pizza) return <Pending what="pizza" error={error} />;

  const others = siblings && siblings.filter((p) => p.id !== pizza.id);
  const review = reviewState(pizza);
  return (
    <section className="place">
      <article className="card pizza-page" aria-labelledby="pizza-h">
        <PizzaPhoto pizza={pizza} />
        <div className="card-body">
          <h1 id="pizza-h">{pizza.title}</h1>
          {pizza.description && <p>{pizza.description}</p>}
          <p className="meta">
            <span className={`kind kind-${pizza.kind}`}>{KIND_LABEL[pizza.kind] || pizza.kind}</span>
            <ReviewBadge pizza={pizza} />
            <PizzeriaName id={pizza.pizzeria_id} link />
          </p>
          {review.reason && <p className="rejection"><strong>Reason:</strong> {review.reason}</p>}
          {counts && <p className="counts">{countsText(counts)}</p>}
        </div>
      </article>
      <h2>More from this pizzeria</h2>
      <ProblemMessage error={siblingsError} what="Could not load the other pizzas" />
      {others === null && !siblingsError && <p className="muted" role="status">Loading…</p>}
      {others && others.length === 0 && <p className="muted">This is its only pizza.</p>}
      {others && others.length > 0 && <MenuList pizzas={others} label="Other pizzas of this pizzeria" />}
    </section>
  );
}
