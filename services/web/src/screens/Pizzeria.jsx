// A pizzeria's public page (/pizzerias/<id>): name, address with a map link, phone as a tel:
// link, and its menu (GET /api/v1/pizzas?pizzeria_id=) with each pizza's like counts.
import { useEffect, useState } from 'react';
import { api, query } from '../api.js';
import { mapHref, telHref } from '../contact.js';
import { Link } from '../router.jsx';
import { countsText, KIND_LABEL, likeCounts, NotFound, PizzaPhoto, pizzeriaById, ProblemMessage, useTitle } from '../ui.jsx';

/** A 404, or a 400 for an id the service refuses: nothing lives at this address. */
export function isNotFound(e) {
  return e && (e.status === 404 || e.status === 400);
}

/** Pizzas of a pizzeria (GET /api/v1/pizzas?pizzeria_id=, up to 100); null while loading. */
export function usePizzasOf(pizzeriaId) {
  const [pizzas, setPizzas] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    let live = true;
    setPizzas(null);
    setError(null);
    if (pizzeriaId) {
      api.get(`/api/v1/pizzas${query({ pizzeria_id: pizzeriaId, limit: 100 })}`)
        .then((page) => live && setPizzas(page.results), (e) => live && setError(e));
    }
    return () => {
      live = false;
    };
  }, [pizzeriaId]);
  return [pizzas, error];
}

/** Pizzas as rows linking to their pages, with their like counts when known. */
export function MenuList({ pizzas, label }) {
  const [counts, setCounts] = useState({});
  const ids = pizzas.map((p) => p.id).join(',');
  useEffect(() => {
    let live = true;
    likeCounts(ids ? ids.split(',') : []).then((c) => live && setCounts(c), () => {});
    return () => {
      live = false;
    };
  }, [ids]);
  return (
    <ul className="list" aria-label={label}>
      {pizzas.map((p) => (
        <li key={p.id} className="row">
          <PizzaPhoto pizza={p} size="small" />
          <div className="row-body">
            <Link className="row-title" to={`/pizzas/${p.id}`}>{p.title}</Link>
            <p className="meta">
              <span className={`kind kind-${p.kind}`}>{KIND_LABEL[p.kind] || p.kind}</span>
              {!p.approved && <span className="badge pending">Awaiting approval</span>}
            </p>
            {p.description && <p className="muted row-text">{p.description}</p>}
            {counts[p.id] && <p className="counts">{countsText(counts[p.id])}</p>}
          </div>
        </li>
      ))}
    </ul>
  );
}

export function PizzeriaPage({ id }) {
  const [pizzeria, setPizzeria] = useState(null);
  const [error, setError] = useState(null);
  const [menu, menuError] = usePizzasOf(pizzeria ? pizzeria.id : null);

  useEffect(() => {
    let live = true;
    setPizzeria(null);
    setError(null);
    pizzeriaById(id).then((p) => live && setPizzeria(p), (e) => live && setError(e));
    return () => {
      live = false;
    };
  }, [id]);

  const missing = isNotFound(error);
  useTitle(pizzeria ? pizzeria.name : missing ? null : 'Pizzeria');
  if (missing) return <NotFound>No pizzeria has this address.</NotFound>;
  if (error) return <section><h1>Pizzeria</h1><ProblemMessage error={error} what="Could not load the pizzeria" /></section>;
  if (!pizzeria) return <p className="muted" role="status">Loading the pizzeria…</p>;

  const tel = telHref(pizzeria.phone);
  const map = mapHref(pizzeria.address);
  return (
    <section className="place">
      <h1>{pizzeria.name}</h1>
      <dl className="facts">
        <dt>Address</dt>
        <dd>
          {pizzeria.address}
          {map && <> · <a href={map} rel="noopener noreferrer" target="_blank">Show on a map<span className="sr-only"> (OpenStreetMap, new tab)</span></a></>}
        </dd>
        {pizzeria.phone && (
          <>
            <dt>Phone</dt>
            <dd>{tel ? <a href={tel}>{pizzeria.phone}</a> : pizzeria.phone}</dd>
          </>
        )}
      </dl>
      <h2>Menu</h2>
      <ProblemMessage error={menuError} what="Could not load the menu" />
      {menu === null && !menuError && <p className="muted" role="status">Loading the menu…</p>}
      {menu && menu.length === 0 && <p className="muted">No pizzas on the menu yet.</p>}
      {menu && <MenuList pizzas={menu} label={`Menu of ${pizzeria.name}`} />}
    </section>
  );
}
