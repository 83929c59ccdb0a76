// A pizzeria's public page (/pizzerias/<id>): name, address with a map link, phone as a tel:
// link, and its menu (GET /api/v1/pizzas?pizzeria_id=) with each pizza's like counts.
import { api, query } from '../api.js';
import { mapHref, telHref } from '../contact.js';
import { countsText, likeCounts, NotFound, PizzaSummary, pizzeriaById, ProblemMessage, ReviewBadge, useLoaded, useTitle } from '../ui.jsx';

/** A 404, or a 400 for an id the service refuses: nothing lives at this address. */
function isNotFound(e) {
  return Boolean(e) && (e.status === 404 || e.status === 400);
}

/** What the page of one `what` (a pizza, a pizzeria) shows until it has it: the not-found
 *  page, the problem, or that it is loading. */
export function Pending({ what, error }) {
  if (isNotFound(error)) return <NotFound>No {what} has this address.</NotFound>;
  if (error) {
    return (
      <section>
        <h1>{what[0].toUpperCase() + what.slice(1)}</h1>
        <ProblemMessage error={error} what={`Could not load the ${what}`} />
      </section>
    );
  }
  return <p className="muted" role="status">Loading the {what}…</p>;
}

/** The title of such a page: its name, else the kind of thing (left to NotFound if none). */
export function pageTitle(name, error, what) {
  return name || (isNotFound(error) ? null : what);
}

/** Pizzas of a pizzeria (up to 100). */
export async function pizzasOf(pizzeriaId) {
  return (await api.get(`/api/v1/pizzas${query({ pizzeria_id: pizzeriaId, limit: 100 })}`)).results;
}

const countsOf = (ids) => likeCounts(ids.split(','));

/** Pizzas as rows linking to their pages, with their like counts when known. */
export function MenuList({ pizzas, label }) {
  const [counts] = useLoaded(countsOf, pizzas.map((p) => p.id).join(','));
  return (
    <ul className="list" aria-label={label}>
      {pizzas.map((p) => (
        <li key={p.id} className="row">
          <PizzaSummary pizza={p} meta={<ReviewBadge pizza={p} />}>
            {p.description && <p className="muted row-text">{p.description}</p>}
            {counts && counts[p.id] && <p className="counts">{countsText(counts[p.id])}</p>}
          </PizzaSummary>
        </li>
      ))}
    </ul>
  );
}

export function PizzeriaPage({ id }) {
  const [pizzeria, error] = useLoaded(pizzeriaById, id);
  const [menu, menuError] = useLoaded(pizzasOf, pizzeria && pizzeria.id);
  useTitle(pageTitle(pizzeria && pizzeria.name, error, 'Pizzeria'));
  if (!pizzeria) return <Pending what="pizzeria" error={error} />;

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
