// Small shared pieces: problem display, labelled fields, relative time, pizzeria names,
// page titles, the not-found page.
import { useEffect, useId, useState } from 'react';
import { api } from './api.js';
import { fieldSentence, sentence } from './messages.js';
import { photoSource } from './picture.js';
import { fromNow } from './reltime.js';
import { reviewState } from './review.js';
import { Icon } from './icons.jsx';
import { Link } from './router.jsx';
import { documentTitle } from './routes.js';

/** Sets document.title to "<heading> · Tizza"; null leaves it to another component. */
export function useTitle(heading) {
  useEffect(() => {
    if (heading) document.title = documentTitle(heading);
  }, [heading]);
}

/** [answer, error] of load(key): both null while it loads (again when key changes), and
 *  nothing is asked while key is empty. `load` must be the same function at every render. */
export function useLoaded(load, key) {
  const [state, setState] = useState({ value: null, error: null });
  useEffect(() => {
    let live = true;
    setState({ value: null, error: null });
    if (key) {
      load(key).then((value) => live && setState({ value, error: null }), (error) => live && setState({ value: null, error }));
    }
    return () => {
      live = false;
    };
  }, [key]);
  return [state.value, state.error];
}

/** The page for an address that shows nothing: an unknown path, or an unknown id. */
export function NotFound({ children }) {
  useTitle('Not found');
  return (
    <section>
      <h1>Not found</h1>
      <p>{children || 'There is no such page.'} <Link to="/shuffle">Shuffle some pizzas</Link>.</p>
    </section>
  );
}

/** An API error as a readable message: the problem's field errors as sentences naming each
 *  field by its label (they say more than a detail such as "invalid signup request"), else
 *  its detail (or title). */
export function ProblemMessage({ error, what }) {
  if (!error) return null;
  const fields = (error.errors || []).filter((e) => e.field);
  const detail = sentence(error.detail || error.message || String(error));
  return (
    <div className="problem" role="alert">
      {what && <strong>{what}: </strong>}
      {fields.length === 0 && detail}
      {fields.length > 0 && (
        <ul>
          {fields.map((e, i) => <li key={i}>{fieldSentence(e.field, e.message)}</li>)}
        </ul>
      )}
    </div>
  );
}

/** The message after a 412 (versions.js meanwhileNote: the item was changed by someone else
 *  meanwhile): amber, announced, what changed as a list. */
export function ChangedMeanwhile({ note }) {
  if (!note) return null;
  return (
    <div className="warning meanwhile" role="alert">
      <p><strong>Changed meanwhile.</strong> {note.lead}</p>
      {note.items.length > 0 && <ul>{note.items.map((t, i) => <li key={i}>{t}</li>)}</ul>}
      <p>{note.next}</p>
    </div>
  );
}

/** A labelled input; `hint` (the rules, shown before sending) and `error` (the server's
 *  sentence for this field) go under it. */
export function Field({ label, name, error, hint, as = 'input', children, ...props }) {
  const id = `f-${name}-${useId().replace(/[^a-zA-Z0-9_-]/g, '')}`;
  const Tag = as;
  const described = [hint && `${id}-hint`, error && `${id}-err`].filter(Boolean).join(' ');
  return (
    <div className={`field${error ? ' has-error' : ''}`}>
      <label htmlFor={id}>{label}</label>
      <Tag id={id} name={name} aria-invalid={error ? 'true' : undefined}
        aria-describedby={described || undefined} {...props}>
        {children}
      </Tag>
      {hint && <span className="field-hint" id={`${id}-hint`}>{hint}</span>}
      {error && <span className="field-error" id={`${id}-err`}>{error}</span>}
    </div>
  );
}

/** Re-renders every `ms` milliseconds (for relative dates); answers the current time. */
export function useNow(ms = 15000) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

/** A <time> reading "a few seconds ago"; `now` (from useNow) makes it re-render as time
 *  passes, the text itself is computed against the clock at render time. */
export function RelTime({ iso }) {
  return (
    <time dateTime={iso} title={iso ? new Date(iso).toLocaleString() : ''}>
      {fromNow(iso, Date.now(), { past: true })}
    </time>
  );
}

// Pizzeria names by id, each asked once (GET /api/v1/pizzerias/{id}); a failure is not cached.
const pizzerias = new Map();
export function pizzeriaById(id) {
  if (!pizzerias.has(id)) {
    const p = api.get(`/api/v1/pizzerias/${encodeURIComponent(id)}`);
    pizzerias.set(id, p);
    p.catch(() => pizzerias.delete(id));
  }
  return pizzerias.get(id);
}
export function forgetPizzeria(id) {
  pizzerias.delete(id);
}

/** The pizzeria's name (a link to its page with `link`). */
export function PizzeriaName({ id, link = false }) {
  const [name, setName] = useState('');
  useEffect(() => {
    let live = true;
    if (id) pizzeriaById(id).then((p) => live && setName(p.name), () => live && setName(''));
    return () => {
      live = false;
    };
  }, [id]);
  if (!name) return null;
  return link
    ? <Link className="pizzeria" to={`/pizzerias/${id}`}>{name}</Link>
    : <span className="pizzeria">{name}</span>;
}

/** A pizza's photo: its uploaded picture (the thumb when small, the large rendition when large,
 *  with their sizes so nothing moves once it loads), else its `thumbnail_url`, else a drawn
 *  pizza. Small ones (list rows) load lazily. */
export function PizzaPhoto({ pizza, size = 'large' }) {
  const source = photoSource(pizza, size);
  const [broken, setBroken] = useState(null); // the src that failed to load
  if (!source || broken === source.src) {
    return (
      <div className={`photo photo-${size} photo-none`} role="img" aria-label={`No photo of ${pizza.title}`}>
        <Icon name="pizza" size={size === 'large' ? 96 : 32} />
      </div>
    );
  }
  return (
    <img className={`photo photo-${size}`} src={source.src} width={source.width} height={source.height}
      alt={`Photo of ${pizza.title}`} onError={() => setBroken(source.src)}
      loading={size === 'small' ? 'lazy' : undefined} decoding="async" />
  );
}

/** A pizza in a list row: photo, title linking to its page, kind, then `meta` (badges, its
 *  pizzeria) on the kind's line and `children` under it. */
export function PizzaSummary({ pizza, meta, children }) {
  return (
    <>
      <PizzaPhoto pizza={pizza} size="small" />
      <div className="row-body">
        <Link className="row-title" to={`/pizzas/${pizza.id}`}>{pizza.title}</Link>
        <p className="meta">
          <span className={`kind kind-${pizza.kind}`}>{KIND_LABEL[pizza.kind] || pizza.kind}</span>
          {meta}
        </p>
        {children}
      </div>
    </>
  );
}

/** Buttons choosing one of `options` ([value, label]), the chosen one pressed. */
export function Choice({ label, options, value, onChange }) {
  return (
    <div className="tabs" role="group" aria-label={label}>
      {options.map(([v, text]) => (
        <button key={v} type="button" aria-pressed={value === v} onClick={() => onChange(v)}>{text}</button>
      ))}
    </div>
  );
}

/** A pizza's review badge (Awaiting review, Rejected); nothing for an approved one. */
export function ReviewBadge({ pizza }) {
  const r = reviewState(pizza);
  return r.status === 'approved' ? null : <span className={r.className}>{r.label}</span>;
}

export const KIND_LABEL = { meat: 'Meat', vegetarian: 'Vegetarian', vegan: 'Vegan' };

export function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

/** "1 like · 0 dislikes" of a pizza's counts ({likes, dislikes}). */
export function countsText(c) {
  return `${plural(c.likes, 'like', 'likes')} · ${plural(c.dislikes, 'dislike', 'dislikes')}`;
}

/** Likes and dislikes of these pizza ids (GET /api/v1/likes/counts, public; 1-100 ids). */
export async function likeCounts(ids) {
  if (!ids.length) return {};
  return (await api.get(`/api/v1/likes/counts?pizza_ids=${ids.slice(0, 100).join(',')}`)).counts;
}

/** Form state: values, the last ApiError (with its field errors), busy while submitting. */
export function useForm(initial) {
  const [values, setValues] = useState(initial);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const bind = (name) => ({
    name,
    value: values[name],
    onChange: (e) => setValues((v) => ({ ...v, [name]: e.target.value })),
  });
  const fieldError = (name) => {
    const m = error && error.fieldErrors ? error.fieldErrors()[name] : undefined;
    return m === undefined ? undefined : fieldSentence(name, m);
  };
  async function submit(e, action) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await action(values);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return { values, setValues, error, setError, busy, bind, fieldError, submit };
}
