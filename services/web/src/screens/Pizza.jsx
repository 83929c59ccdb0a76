// A pizza's public page (/pizzas/<id>): photo, title, description, kind, its pizzeria (a
// link), likes and dislikes (GET /api/v1/likes/counts), and the pizzeria's other pizzas.
import { useEffect, useState } from 'react';
import { api } from '../api.js';
import { countsText, KIND_LABEL, likeCounts, NotFound, PizzaPhoto, PizzeriaName, ProblemMessage, useTitle } from '../ui.jsx';
import { isNotFound, MenuList, usePizzasOf } from './Pizzeria.jsx';

export function PizzaPage({ id }) {
  const [pizza, setPizza] = useState(null);
  const [error, setError] = useState(null);
  const [counts, setCounts] = useState(null);
  const [siblings, siblingsError] = usePizzasOf(pizza ? pizza.pizzeria_id : null);

  useEffect(() => {
    let live = true;
    setPizza(null);
    setError(null);
    setCounts(null);
    api.get(`/api/v1/pizzas/${id}`).then((p) => live && setPizza(p), (e) => live && setError(e));
    likeCounts([id]).then((c) => live && setCounts(c[id] || { likes: 0, dislikes: 0 }), () => {});
    return () => {
      live = false;
    };
  }, [id]);

  const missing = isNotFound(error);
  useTitle(pizza ? pizza.title : missing ? null : 'Pizza');
  if (missing) return <NotFound>No pizza has this address.</NotFound>;
  if (error) return <section><h1>Pizza</h1><ProblemMessage error={error} what="Could not load the pizza" /></section>;
  if (!pizza) return <p className="muted" role="status">Loading the pizza…</p>;

  const others = siblings && siblings.filter((p) => p.id !== pizza.id);
  return (
    <section className="place">
      <article className="card pizza-page" aria-labelledby="pizza-h">
        <PizzaPhoto pizza={pizza} />
        <div className="card-body">
          <h1 id="pizza-h">{pizza.title}</h1>
          {pizza.description && <p>{pizza.description}</p>}
          <p className="meta">
            <span className={`kind kind-${pizza.kind}`}>{KIND_LABEL[pizza.kind] || pizza.kind}</span>
            {!pizza.approved && <span className="badge pending">Awaiting approval</span>}
            <PizzeriaName id={pizza.pizzeria_id} link />
          </p>
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
