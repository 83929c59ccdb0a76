// Shuffle: a stack of pizza cards, judged one at a time. Drag the top card (mouse, touch or
// pen: Pointer Events) right to like it or left to dislike it, with LIKE/NOPE stamps growing
// as it goes and a fly-out once judged; or press → / ←, or the buttons under the card. The
// buttons stay in place from card to card, so the focus stays on them after a verdict.
// Undo takes the last verdict back (verdict.js) and puts its pizza back on top.
// A verdict is kept (drafts.js) while it is sent: if the session ends under it, the page says
// so and sends it after the login (the login returns here).
//
// Filters (a kind, a text of the title) live in the URL (/shuffle?kind=vegan&title=mar); the deck
// starts over for each filter. The ShuffleQueue fetches the next batch before the shown ones
// run out (GET /api/v1/pizzas/random?count=N, or the filter's pizzas: discover.js) and never
// shows a judged pizza again. If likes is down the pizza stays
// on screen with the error, so nothing is skipped unjudged.
import { useEffect, useRef, useState } from 'react';
import { api } from '../api.js';
import { forgetPendingVerdict, loadPendingVerdict, savePendingVerdict, sessionStore } from '../drafts.js';
import { Icon } from '../icons.jsx';
import { exhaustedText, filteredBatches, filterFromSearch, filterPhrase, filterSearch, isFiltered, KINDS, TITLE_MAX } from '../discover.js';
import { Link, navigate } from '../router.jsx';
import { ShuffleQueue } from '../shuffleQueue.js';
import { dragIntent, keyVerdict, releaseVelocity, swipeProgress, swipeVerdict } from '../swipe.js';
import { KIND_LABEL, PizzaPhoto, PizzeriaName, ProblemMessage } from '../ui.jsx';
import { saveVerdict, undoVerdict } from '../verdict.js';

const BATCH = 5;
const FLY_MS = 300; // as long as the fly-out's transition (.pizza-card.flying in styles.css)

function reducedMotion() {
  return window.matchMedia('(prefers-reduced-motion: reduce)').matches;
}

// The card's position and stamps are CSS variables, set here while it moves (not React
// state: a drag updates them on every pointer move).
function place(card, dx, p) {
  card.style.setProperty('--dx', `${dx}px`);
  card.style.setProperty('--p', String(p));
}

/** Sends the card off the side it was judged to (stamp at full strength); resolves when it
 *  has gone. With reduced motion it stays put and only the stamp shows. */
function flyOut(card, liked) {
  if (!card) return Promise.resolve();
  card.classList.remove('dragging', 'settling');
  const side = liked ? 1 : -1;
  if (reducedMotion()) {
    place(card, 0, side);
    return Promise.resolve();
  }
  card.classList.add('flying');
  place(card, side * (window.innerWidth + card.offsetWidth), side);
  return new Promise((resolve) => setTimeout(resolve, FLY_MS));
}

/** Brings the card back to the middle (a drag short of a verdict, or a failed one). */
function settle(card) {
  if (!card) return;
  card.classList.remove('dragging', 'flying');
  card.classList.add('settling');
  place(card, 0, 0);
}

export function Shuffle({ user, search }) {
  const filter = filterFromSearch(search);
  return (
    <section className="shuffle">
      <h1>Shuffle</h1>
      <Filters filter={filter} />
      <Deck key={filterSearch(filter)} user={user} filter={filter} />
    </section>
  );
}

/** The kind (applied when chosen) and a text of the title, anywhere in it, in any case or
 *  accent (applied with Search). */
function Filters({ filter }) {
  const [title, setTitle] = useState(filter.title);
  useEffect(() => setTitle(filter.title), [filter.title]);
  const go = (f) => navigate(`/shuffle${filterSearch(f)}`);
  return (
    <form className="filters" role="search" aria-label="Filter pizzas"
      onSubmit={(e) => { e.preventDefault(); go({ kind: filter.kind, title }); }}>
      <div className="field">
        <label htmlFor="filter-kind">Kind</label>
        <select id="filter-kind" value={filter.kind} onChange={(e) => go({ kind: e.target.value, title })}>
          <option value="">All kinds</option>
          {KINDS.map((k) => <option key={k} value={k}>{KIND_LABEL[k]}</option>)}
        </select>
      </div>
      <div className="field">
        <label htmlFor="filter-title">Title contains</label>
        <input id="filter-title" type="search" maxLength={TITLE_MAX} value={title} onChange={(e) => setTitle(e.target.value)} />
      </div>
      <button type="submit">Search</button>
    </form>
  );
}

function Deck({ user, filter }) {
  // a verdict the session ended under: sent now if it is this user's, else shown as kept
  const [pending] = useState(() => loadPendingVerdict(sessionStore(), user ? user.id : undefined));
  const [queue] = useState(() => {
    // the judged pizzas: pizza/random leaves them out itself, a filter's pizzas need them first
    const seen = user ? api.get('/api/v1/likes/seen').then((r) => r.pizza_ids || [], () => []) : Promise.resolve([]);
    const q = new ShuffleQueue({
      batchSize: BATCH,
      lowWater: 2,
      fetchBatch: isFiltered(filter)
        ? filteredBatches(filter, {
          fetchPage: (qs) => api.get(`/api/v1/pizzas${qs}`),
          isKnown: (id) => q.isKnown(id),
          before: seen,
        })
        : async (n) => (await api.get(`/api/v1/pizzas/random?count=${n}`)).results,
    });
    seen.then((ids) => q.addJudged(ids));
    if (user && pending) q.addJudged([pending.pizza.id]);
    return q;
  });
  const [st, setSt] = useState(queue.state());
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null); // {error, what}
  const [said, setSaid] = useState('');
  const [last, setLast] = useState(null); // {pizza, verdict}: what Undo takes back
  const [back, setBack] = useState(null); // the side an undone card comes back from
  const busyRef = useRef(false);
  const cardRef = useRef(null);
  const actionsRef = useRef(null);
  const refocus = useRef(null); // the action to focus once the judged card has gone
  const drag = useRef(null);
  const dragged = useRef(false); // a drag just ended: the click it makes is not a click
  const act = useRef({});

  useEffect(() => {
    const off = queue.subscribe(setSt);
    queue.fill();
    return off;
  }, [queue]);

  const sentPending = useRef(false);
  useEffect(() => {
    if (!user || !pending || sentPending.current) return;
    sentPending.current = true;
    const { pizza: p, liked } = pending;
    begin();
    saveVerdict(api, p.id, liked).then(
      (verdict) => {
        forgetPendingVerdict(sessionStore());
        setLast({ pizza: p, verdict });
        setSaid(`Your ${liked ? 'like' : 'dislike'} of ${p.title} is saved.`);
        end();
      },
      (err) => {
        if (err.status !== 401) forgetPendingVerdict(sessionStore());
        if (err.status === 422) setSaid(`${p.title} is no longer on the menu.`);
        else setError({ error: err, what: `Could not save your ${liked ? 'like' : 'dislike'} of ${p.title}` });
        end();
      },
    );
  }, []);

  const pizza = st.current;

  // A focused link inside the judged card went with it: the focus moves to the actions.
  useEffect(() => {
    const name = refocus.current;
    refocus.current = null;
    if (name && actionsRef.current && !actionsRef.current.contains(document.activeElement)) {
      actionsRef.current.querySelector(`[data-action="${name}"]`).focus();
    }
  }, [pizza]);

  function begin() {
    busyRef.current = true;
    setBusy(true);
    setError(null);
  }
  function end() {
    busyRef.current = false;
    setBusy(false);
  }

  async function judge(liked) {
    if (!pizza || busyRef.current) return;
    const card = cardRef.current;
    if (!user) {
      settle(card);
      setError({ error: { detail: 'Log in to like or dislike pizzas.' }, what: 'Could not save your verdict' });
      return;
    }
    begin();
    const focusInCard = card && card.contains(document.activeElement);
    savePendingVerdict(sessionStore(), user.id, pizza, liked);
    const [, result] = await Promise.all([
      flyOut(card, liked),
      saveVerdict(api, pizza.id, liked).then((verdict) => ({ verdict }), (err) => ({ err })),
    ]);
    // kept only when the session ended: the login sends it
    if (!result.err || result.err.status !== 401) forgetPendingVerdict(sessionStore());
    if (result.verdict) {
      setLast({ pizza, verdict: result.verdict });
      setSaid(`You ${liked ? 'liked' : 'disliked'} ${pizza.title}.`);
      setBack(null);
      if (focusInCard) refocus.current = liked ? 'like' : 'dislike';
      queue.next();
    } else if (result.err.status === 422) {
      setLast(null);
      setSaid(`${pizza.title} is no longer on the menu.`);
      queue.next();
    } else {
      settle(card);
      setError({ error: result.err, what: 'Could not save your verdict' });
    }
    end();
  }

  async function undo() {
    if (!last || busyRef.current) return;
    begin();
    try {
      await undoVerdict(api, last.verdict);
      setBack(last.verdict.liked ? 'right' : 'left');
      queue.putBack(last.pizza);
      setSaid(`Undone: ${last.pizza.title} is back.`);
      setLast(null);
    } catch (err) {
      setError({ error: err, what: 'Could not undo your verdict' });
    }
    end();
  }

  act.current = { judge };
  useEffect(() => {
    function onKey(e) {
      const v = keyVerdict(e);
      if (!v) return;
      e.preventDefault();
      act.current.judge(v === 'like');
    }
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);

  // ---- dragging the top card
  function onPointerDown(e) {
    dragged.current = false;
    if (busyRef.current || !e.isPrimary || (e.pointerType === 'mouse' && e.button !== 0)) return;
    drag.current = { id: e.pointerId, x0: e.clientX, y0: e.clientY, dx: 0, dy: 0, on: false, samples: [] };
  }
  function onPointerMove(e) {
    const d = drag.current;
    const card = cardRef.current;
    if (!d || e.pointerId !== d.id || !card) return;
    d.dx = e.clientX - d.x0;
    d.dy = e.clientY - d.y0;
    d.samples.push({ x: e.clientX, t: e.timeStamp });
    if (d.samples.length > 30) d.samples.shift();
    if (!d.on) {
      const intent = dragIntent(d.dx, d.dy);
      if (intent === 'scroll') drag.current = null;
      if (intent !== 'swipe') return;
      d.on = true;
      // Captured only now, so that a plain click still reaches the links in the card.
      card.setPointerCapture(e.pointerId);
      card.classList.remove('settling');
      card.classList.add('dragging');
    }
    place(card, d.dx, swipeProgress(d.dx, card.offsetWidth));
  }
  function onPointerUp(e) {
    const d = drag.current;
    drag.current = null;
    if (!d || e.pointerId !== d.id || !d.on) return;
    dragged.current = true;
    const card = cardRef.current;
    const v = swipeVerdict({ dx: d.dx, dy: d.dy, vx: releaseVelocity(d.samples, e.timeStamp), width: card.offsetWidth });
    if (v) judge(v === 'like');
    else settle(card);
  }
  function onPointerCancel(e) {
    const d = drag.current;
    drag.current = null;
    if (d && d.on && e.pointerId === d.id) settle(cardRef.current);
  }
  function onClickCapture(e) {
    if (!dragged.current) return;
    dragged.current = false;
    e.preventDefault();
    e.stopPropagation();
  }

  const off = !pizza || busy;
  return (
    <>
      {isFiltered(filter) && (
        <p className="muted filtering">Shuffling {filterPhrase(filter)} only. <Link to="/shuffle">Show all pizzas</Link></p>
      )}
      {pizza ? (
        <div className="stack">
          {st.upcoming.map((p, i) => (
            <div key={p.id} className={`card stack-card under under-${i + 1}`} aria-hidden="true" inert>
              <PizzaPhoto pizza={p} />
              <div className="card-body"><p className="under-title">{p.title}</p></div>
            </div>
          )).reverse()}
          <article key={pizza.id} ref={cardRef} aria-labelledby={`pz-${pizza.id}`} aria-describedby="swipe-hint"
            className={`card stack-card pizza-card${back ? ` back-from-${back}` : ''}`}
            onPointerDown={onPointerDown} onPointerMove={onPointerMove} onPointerUp={onPointerUp}
            onPointerCancel={onPointerCancel} onClickCapture={onClickCapture}
            onDragStart={(e) => e.preventDefault()}>
            <span className="stamp stamp-like" aria-hidden="true">LIKE</span>
            <span className="stamp stamp-nope" aria-hidden="true">NOPE</span>
            <PizzaPhoto pizza={pizza} />
            <div className="card-body">
              <h2 id={`pz-${pizza.id}`}><Link to={`/pizzas/${pizza.id}`}>{pizza.title}</Link></h2>
              {pizza.description && <p>{pizza.description}</p>}
              <p className="meta">
                <span className={`kind kind-${pizza.kind}`}>{KIND_LABEL[pizza.kind] || pizza.kind}</span>
                <PizzeriaName id={pizza.pizzeria_id} link />
              </p>
            </div>
          </article>
        </div>
      ) : st.loading ? (
        <p className="muted" role="status">Finding pizzas…</p>
      ) : st.exhausted ? (
        <div className="empty">
          <p>{exhaustedText(filter)}</p>
          <button type="button" onClick={() => queue.retry()}>Look again</button>
        </div>
      ) : null}
      {(pizza || last) && (
        <div className="verdict" role="group" aria-label="Your verdict" ref={actionsRef}>
          {/* aria-disabled, not disabled: a disabled button would drop the focus */}
          <button type="button" className="dislike" data-action="dislike" aria-keyshortcuts="ArrowLeft"
            aria-disabled={off} onClick={() => judge(false)}>
            <Icon name="cross" size={20} /> Dislike
          </button>
          <button type="button" className="undo" data-action="undo" aria-disabled={!last || busy} onClick={undo}
            aria-label={last ? `Undo: ${last.verdict.liked ? 'like' : 'dislike'} of ${last.pizza.title}` : 'Undo'}>
            <Icon name="undo" size={20} /> Undo
          </button>
          <button type="button" className="like" data-action="like" aria-keyshortcuts="ArrowRight"
            aria-disabled={off} onClick={() => judge(true)}>
            <Icon name="heart" size={20} /> Like
          </button>
        </div>
      )}
      <p className="said" role="status">{said}</p>
      {pizza && (
        <p id="swipe-hint" className="muted hint">
          Swipe the card right to like it, left to dislike it, or press → or ←.
        </p>
      )}
      {pending && !user && (
        <p className="warning" role="status">
          Your {pending.liked ? 'like' : 'dislike'} of {pending.pizza.title} is kept: it is saved when you log in again.
        </p>
      )}
      {pizza && !user && <p className="muted"><Link to="/login">Log in</Link> to keep your verdicts.</p>}
      <ProblemMessage error={error && error.error} what={error && error.what} />
      {st.error && (
        <div>
          <ProblemMessage error={st.error} what="Could not load pizzas" />
          <button type="button" onClick={() => queue.fill()}>Try again</button>
        </div>
      )}
    </>
  );
}
