// My pizzerias: a merchant (any signed-in user) creates, edits and deletes their pizzerias
// (GET/POST /api/v1/pizzerias?owner_id=me, PATCH/DELETE /api/v1/pizzerias/{id}) and their
// pizzas (GET /api/v1/pizzas?pizzeria_id=, POST, PATCH, DELETE). A new pizza, and one whose
// title, description or photo its owner changed, waits for an admin's review (Review page);
// each pizza shows its review state, and a rejected one the admin's reason.
// A pizza's photo is a file: chosen in its form (JPEG, PNG or WebP, at most 5 MiB, checked
// here first), previewed before it is sent, then PUT /api/v1/pizzas/{id}/picture with the raw
// file as the body (a new pizza is created first); Remove photo is DELETE of it.
// Versions (versions.js): Edit and Delete read the pizza or pizzeria again with its ETag, and
// every write of it (PATCH, the picture's PUT and DELETE, DELETE) sends that as If-Match.
// When it was changed meanwhile (412), it is read again, the form keeps what the user typed
// (the fields they did not touch take the current values) and a note says what changed;
// Save again sends it with the new ETag.
import { useEffect, useId, useRef, useState } from 'react';
import { api, query } from '../api.js';
import { checkPictureFile, formatBytes, photoSource, PICTURE_ACCEPT, PICTURE_MAX_BYTES, pictureProblem } from '../picture.js';
import { Link } from '../router.jsx';
import { reviewState } from '../review.js';
import { ChangedMeanwhile, Field, forgetPizzeria, KIND_LABEL, PizzaSummary, ProblemMessage, useForm } from '../ui.jsx';
import { changedFields, formValues, isChangedMeanwhile, meanwhileNote, pictureChange, readTagged, rebase, writeTagged } from '../versions.js';

const EMPTY_PIZZERIA = { name: '', address: '', phone: '' };
const EMPTY_PIZZA = { title: '', description: '', thumbnail_url: '', kind: 'vegetarian' };
const PIZZERIA_FIELDS = Object.keys(EMPTY_PIZZERIA);
const PIZZA_FIELDS = Object.keys(EMPTY_PIZZA);
const showPizzaValue = (f, v) => (f === 'kind' ? KIND_LABEL[v] || v : v);
const pizzaPath = (id) => `/api/v1/pizzas/${encodeURIComponent(id)}`;
const pizzeriaPath = (id) => `/api/v1/pizzerias/${encodeURIComponent(id)}`;

/** The version of one item the user acts on: `seen.current` is {item, etag} of the last read
 *  or write of it (the base of its form, the If-Match of its next write); `read()` reads it
 *  again (and shows it: onChanged); `ask()`/`asked()` read it when a deletion is asked, so
 *  the confirmation is about its current version. A read that finds it gone says so. */
function useVersion(path, item, onChanged, what) {
  const seen = useRef({ item, etag: null });
  const asking = useRef(null);
  const keep = (r) => {
    seen.current = r;
    if (r.item) onChanged(r.item);
    return r;
  };
  async function read() {
    try {
      return keep(await readTagged(api, path));
    } catch (e) {
      if (e.status === 404) e.detail = `${what} is not there any more: it was deleted meanwhile (by someone else, or in another tab).`;
      throw e;
    }
  }
  return {
    seen,
    keep,
    read,
    ask() {
      asking.current = read();
      asking.current.catch(() => {});
    },
    asked: () => asking.current || read(),
  };
}

export function Pizzerias({ user }) {
  const [list, setList] = useState(null);
  const [error, setError] = useState(null);

  async function load() {
    setError(null);
    try {
      const page = await api.get(`/api/v1/pizzerias${query({ owner_id: user.id, limit: 100 })}`);
      setList(page.results);
    } catch (e) {
      setError(e);
    }
  }
  useEffect(() => {
    load();
  }, [user.id]);

  const create = useForm(EMPTY_PIZZERIA);

  return (
    <section>
      <h1>My pizzerias</h1>
      <ProblemMessage error={error} what="Could not load your pizzerias" />
      {list === null && !error && <p className="muted" role="status">Loading your pizzerias…</p>}
      {list && list.length === 0 && <p className="empty">You have no pizzeria yet. Open one below.</p>}
      {list && list.map((p) => (
        <PizzeriaCard key={p.id} pizzeria={p}
          onChanged={(np) => setList((l) => l.map((x) => (x.id === np.id ? np : x)))}
          onDeleted={() => setList((l) => l.filter((x) => x.id !== p.id))} />
      ))}
      {list && <form className="card form-card" aria-label="New pizzeria" onSubmit={(e) => create.submit(e, async (v) => {
        const p = await api.post('/api/v1/pizzerias', v);
        setList((l) => [p, ...(l || [])]);
        create.setValues(EMPTY_PIZZERIA);
      })}>
        <h2>New pizzeria</h2>
        <PizzeriaFields f={create} />
        <ProblemMessage error={create.error} what="Could not create the pizzeria" />
        <button type="submit" className="primary" disabled={create.busy}>Create pizzeria</button>
      </form>}
    </section>
  );
}

function PizzeriaFields({ f }) {
  return (
    <>
      <Field label="Name" required maxLength={120} {...f.bind('name')} error={f.fieldError('name')} />
      <Field label="Address" required maxLength={512} {...f.bind('address')} error={f.fieldError('address')} />
      <Field label="Phone" type="tel" maxLength={40} {...f.bind('phone')} error={f.fieldError('phone')} />
    </>
  );
}

function PizzaFields({ f, photo }) {
  return (
    <>
      <Field label="Title" required maxLength={120} {...f.bind('title')} error={f.fieldError('title')} />
      <Field label="Description" as="textarea" rows={2} maxLength={240} {...f.bind('description')} error={f.fieldError('description')} />
      {photo}
      <Field label="Photo URL" type="url" placeholder="https://…" {...f.bind('thumbnail_url')} error={f.fieldError('thumbnail_url')} />
      <Field label="Kind" as="select" {...f.bind('kind')} error={f.fieldError('kind')}>
        {Object.entries(KIND_LABEL).map(([k, label]) => <option key={k} value={k}>{label}</option>)}
      </Field>
    </>
  );
}

const picturePath = (id) => `/api/v1/pizzas/${encodeURIComponent(id)}/picture`;

/** The photo file of a pizza's form: what is chosen (`file`, checked here) and the last
 *  refusal of the server (`error`, a sentence). */
function usePictureChoice() {
  const [file, setFile] = useState(null);
  const [error, setError] = useState(null);
  const inputRef = useRef(null);
  return {
    file,
    error,
    setError,
    inputRef,
    /** Why the chosen file cannot be sent (null when it can, or when none is chosen). */
    problem: file ? checkPictureFile(file) : null,
    choose(f) {
      setFile(f || null);
      setError(null);
    },
    clear() {
      setFile(null);
      setError(null);
      if (inputRef.current) inputRef.current.value = '';
    },
    /** False (and the focus on the file input) when the chosen file cannot be sent. */
    ready() {
      if (!file || !checkPictureFile(file)) return true;
      if (inputRef.current) inputRef.current.focus();
      return false;
    },
  };
}

/** The photo part of a pizza's form: a labelled file input, the check of the chosen file, a
 *  preview of it before it is sent (an object URL, revoked when the file is replaced or the
 *  form goes), and the current photo with Remove photo (`onRemove`) when there is one. */
function PictureField({ choice, current, onRemove, busy, notice }) {
  const id = `picture-${useId().replace(/[^a-zA-Z0-9_-]/g, '')}`;
  const { file, problem, error } = choice;
  const [preview, setPreview] = useState(null);
  const [unreadable, setUnreadable] = useState(null); // the preview that could not be shown
  useEffect(() => {
    if (!file || problem) {
      setPreview(null);
      return undefined;
    }
    const url = URL.createObjectURL(file);
    setPreview(url);
    return () => URL.revokeObjectURL(url);
  }, [file, problem]);

  const message = problem || error;
  const hasPhoto = current && current.picture;
  return (
    <div className={`field picture-field${message ? ' has-error' : ''}`}>
      <label htmlFor={id}>Photo file</label>
      <input id={id} ref={choice.inputRef} type="file" accept={PICTURE_ACCEPT}
        aria-invalid={message ? 'true' : undefined} aria-describedby={`${id}-hint${message ? ` ${id}-err` : ''}`}
        onChange={(e) => choice.choose(e.target.files && e.target.files[0])} />
      <span className="field-hint" id={`${id}-hint`}>
        JPEG, PNG or WebP, at most {formatBytes(PICTURE_MAX_BYTES)}.{hasPhoto ? ' It replaces the current photo.' : ''}
      </span>
      {message && <p className="field-error" id={`${id}-err`} role="alert">{message}</p>}
      {preview && file && !problem && (
        <figure className="picture-preview">
          {unreadable === preview
            ? <p className="muted">No preview: this file does not look like a picture.</p>
            : <img src={preview} alt="Preview of the chosen photo" onError={() => setUnreadable(preview)} />}
          <figcaption>
            Not sent yet: {file.name} ({formatBytes(file.size)}).{' '}
            <button type="button" className="link" onClick={choice.clear}>Don't use this file</button>
          </figcaption>
        </figure>
      )}
      {!file && hasPhoto && (
        <figure className="picture-preview">
          <img {...photoSource(current, 'small')} alt={`Current photo of ${current.title}`} />
          <figcaption>
            Current photo.{' '}
            <button type="button" className="link" disabled={busy} onClick={onRemove}>Remove photo</button>
          </figcaption>
        </figure>
      )}
      {notice && <p className="muted" role="status">{notice}</p>}
    </div>
  );
}

/** "Delete" that asks first: a second pair of buttons instead of a browser dialog. */
function ConfirmDelete({ what, onConfirm, onAsk = () => {} }) {
  const [asking, setAsking] = useState(false);
  if (!asking) return <button type="button" className="danger" onClick={() => { onAsk(); setAsking(true); }}>Delete</button>;
  return (
    <span className="confirm" role="group" aria-label={`Confirm deletion of ${what}`}>
      <span>Delete {what}?</span>
      <button type="button" className="danger" onClick={() => { setAsking(false); onConfirm(); }}>Yes, delete</button>
      <button type="button" onClick={() => setAsking(false)}>Cancel</button>
    </span>
  );
}

function PizzeriaCard({ pizzeria, onChanged, onDeleted }) {
  const [editing, setEditing] = useState(false);
  const [opening, setOpening] = useState(false);
  const [pizzas, setPizzas] = useState(null);
  const [error, setError] = useState(null);
  const [note, setNote] = useState(null); // after a 412: what was changed meanwhile
  const version = useVersion(pizzeriaPath(pizzeria.id), pizzeria, (np) => {
    forgetPizzeria(np.id);
    onChanged(np);
  }, 'This pizzeria');
  const edit = useForm(formValues(pizzeria, PIZZERIA_FIELDS));
  const add = useForm(EMPTY_PIZZA);
  const addPicture = usePictureChoice();

  useEffect(() => {
    api.get(`/api/v1/pizzas${query({ pizzeria_id: pizzeria.id, limit: 100 })}`)
      .then((page) => setPizzas(page.results), setError);
  }, [pizzeria.id]);

  // After a 412: the pizzeria read again, what the user typed (if anything) moved onto it.
  async function changedMeanwhile(action, typed) {
    const base = version.seen.current.item;
    const fresh = await version.read();
    const { values, changes } = rebase(base, typed || formValues(base, PIZZERIA_FIELDS), fresh.item, PIZZERIA_FIELDS);
    if (typed) edit.setValues(values);
    setNote(meanwhileNote({ action, what: 'this pizzeria', changes }));
  }

  async function startEditing() {
    if (opening) return;
    setError(null);
    setNote(null);
    edit.setError(null);
    setOpening(true);
    try {
      const r = await version.read();
      edit.setValues(formValues(r.item, PIZZERIA_FIELDS));
      setEditing(true);
    } catch (e) {
      setError(e);
    } finally {
      setOpening(false);
    }
  }

  async function save(v) {
    setNote(null);
    try {
      const changed = changedFields(version.seen.current.item, v, PIZZERIA_FIELDS);
      if (Object.keys(changed).length) {
        version.keep(await writeTagged(api, 'PATCH', pizzeriaPath(pizzeria.id), version.seen.current.etag, { body: changed }));
      }
      setEditing(false);
    } catch (e) {
      if (!isChangedMeanwhile(e)) throw e;
      await changedMeanwhile('save', v);
    }
  }

  async function remove() {
    setError(null);
    setNote(null);
    try {
      await version.asked();
      await writeTagged(api, 'DELETE', pizzeriaPath(pizzeria.id), version.seen.current.etag);
      forgetPizzeria(pizzeria.id);
      onDeleted();
    } catch (e) {
      if (isChangedMeanwhile(e)) await changedMeanwhile('delete').catch(setError);
      else setError(e);
    }
  }

  return (
    <article className="card pizzeria-card" aria-label={pizzeria.name}>
      {editing ? (
        <form aria-label={`Edit ${pizzeria.name}`} onSubmit={(e) => edit.submit(e, save)}>
          <PizzeriaFields f={edit} />
          <ChangedMeanwhile note={note} />
          <ProblemMessage error={edit.error} what="Could not save the pizzeria" />
          <button type="submit" className="primary" disabled={edit.busy}>Save pizzeria</button>
          <button type="button" onClick={() => { setNote(null); setEditing(false); }}>Cancel</button>
        </form>
      ) : (
        <header className="card-head">
          <h2>{pizzeria.name}</h2>
          <p className="muted">{pizzeria.address}{pizzeria.phone ? ` · ${pizzeria.phone}` : ''}</p>
          <div className="actions">
            <Link to={`/pizzerias/${pizzeria.id}`}>Public page<span className="sr-only"> of {pizzeria.name}</span></Link>
            <button type="button" onClick={startEditing} aria-disabled={opening || undefined}>Edit</button>
            <ConfirmDelete what={`${pizzeria.name} and its pizzas`} onAsk={version.ask} onConfirm={remove} />
          </div>
          <ChangedMeanwhile note={note} />
        </header>
      )}
      <ProblemMessage error={error} />
      <h3>Pizzas</h3>
      {pizzas === null && !error && <p className="muted" role="status">Loading pizzas…</p>}
      {pizzas && pizzas.length === 0 && <p className="muted">No pizzas yet.</p>}
      <ul className="list" aria-label={`Pizzas of ${pizzeria.name}`}>
        {(pizzas || []).map((p) => (
          <PizzaRow key={p.id} pizza={p}
            onChanged={(np) => setPizzas((l) => l.map((x) => (x.id === np.id ? np : x)))}
            onDeleted={() => setPizzas((l) => l.filter((x) => x.id !== p.id))} />
        ))}
      </ul>
      <details className="add-pizza">
        <summary>Add a pizza</summary>
        <form aria-label={`New pizza for ${pizzeria.name}`} onSubmit={(e) => {
          if (!addPicture.ready()) {
            e.preventDefault();
            return;
          }
          add.submit(e, async (v) => {
            const { data: p, etag } = await api.post('/api/v1/pizzas', { ...v, pizzeria_id: pizzeria.id }, { tagged: true });
            setPizzas((l) => [p, ...(l || [])]);
            add.setValues(EMPTY_PIZZA);
            const file = addPicture.file;
            addPicture.clear();
            if (!file) return;
            // the pizza exists: its photo goes up next
            try {
              const { item: np } = await writeTagged(api, 'PUT', picturePath(p.id), etag, { file });
              setPizzas((l) => l.map((x) => (x.id === np.id ? np : x)));
            } catch (err) {
              addPicture.setError(`${p.title} was added without its photo. ${pictureProblem(err)} Edit the pizza to try again.`);
            }
          });
        }}>
          <PizzaFields f={add} photo={<PictureField choice={addPicture} />} />
          <ProblemMessage error={add.error} what="Could not add the pizza" />
          {add.busy && addPicture.file && <p className="muted" role="status">Adding the pizza and uploading its photo…</p>}
          <button type="submit" className="primary" disabled={add.busy}>Add pizza</button>
        </form>
      </details>
    </article>
  );
}

function PizzaRow({ pizza, onChanged, onDeleted }) {
  const [editing, setEditing] = useState(false);
  const [opening, setOpening] = useState(false);
  const [error, setError] = useState(null);
  const [note, setNote] = useState(null); // after a 412: what was changed meanwhile
  const version = useVersion(pizzaPath(pizza.id), pizza, onChanged, 'This pizza');
  const edit = useForm(formValues(pizza, PIZZA_FIELDS));
  const picture = usePictureChoice();
  const [removing, setRemoving] = useState(false);
  const [pictureNotice, setPictureNotice] = useState(null);

  // The pizza read again after a 412 (or found changed): what the user typed (if anything)
  // moved onto it, and the note saying what changed.
  async function changedMeanwhile(action, typed) {
    const base = version.seen.current.item;
    const fresh = await version.read();
    const { values, changes } = rebase(base, typed || formValues(base, PIZZA_FIELDS), fresh.item, PIZZA_FIELDS);
    const all = [...changes, ...(action === 'reread' ? [] : pictureChange(base, fresh.item))];
    if (typed) edit.setValues(values);
    if (action !== 'reread' || all.length) setNote(meanwhileNote({ action, what: 'this pizza', changes: all, show: showPizzaValue }));
  }

  // The form opens on the pizza as it is now, read with its ETag.
  async function startEditing() {
    if (opening) return;
    picture.clear();
    setPictureNotice(null);
    setNote(null);
    setError(null);
    edit.setError(null);
    setOpening(true);
    try {
      const r = await version.read();
      edit.setValues(formValues(r.item, PIZZA_FIELDS));
      setEditing(true);
    } catch (e) {
      setError(e);
    } finally {
      setOpening(false);
    }
  }

  // Saves the fields that changed (PATCH), then the chosen photo (PUT), each with the ETag of
  // the version before it: the answer of the last one is the pizza as it is now (back to
  // review when its owner changed either).
  async function save(v) {
    setNote(null);
    let sent = false;
    try {
      const changed = changedFields(version.seen.current.item, v, PIZZA_FIELDS);
      if (Object.keys(changed).length) {
        version.keep(await writeTagged(api, 'PATCH', pizzaPath(pizza.id), version.seen.current.etag, { body: changed }));
        sent = true;
      }
      if (picture.file) {
        try {
          version.keep(await writeTagged(api, 'PUT', picturePath(pizza.id), version.seen.current.etag, { file: picture.file }));
        } catch (err) {
          if (isChangedMeanwhile(err)) throw err;
          picture.setError(pictureProblem(err));
          return; // the form stays, with the file, for another try
        }
      }
      setEditing(false);
    } catch (err) {
      if (!isChangedMeanwhile(err)) throw err;
      await changedMeanwhile(sent ? 'upload' : 'save', v); // the form stays, with what was typed
    }
  }

  async function removePicture() {
    const typed = edit.values;
    setRemoving(true);
    picture.setError(null);
    setPictureNotice(null);
    setNote(null);
    try {
      await writeTagged(api, 'DELETE', picturePath(pizza.id), version.seen.current.etag);
      setPictureNotice('Photo removed.');
    } catch (err) {
      if (isChangedMeanwhile(err)) {
        await changedMeanwhile('photo', typed).catch((e) => picture.setError(e.detail || e.message));
        setRemoving(false);
        return;
      }
      if (err.status !== 404) {
        picture.setError(pictureProblem(err));
        setRemoving(false);
        return;
      }
    }
    // the pizza as it is now (its review state may have changed with its photo), its new
    // ETag for the next write; anything else changed meanwhile is said
    await changedMeanwhile('reread', typed).catch(() => onChanged({ ...version.seen.current.item, picture: null }));
    setRemoving(false);
  }

  async function remove() {
    setError(null);
    setNote(null);
    try {
      await version.asked();
      await writeTagged(api, 'DELETE', pizzaPath(pizza.id), version.seen.current.etag);
      onDeleted();
    } catch (e) {
      if (isChangedMeanwhile(e)) await changedMeanwhile('delete').catch(setError);
      else setError(e);
    }
  }

  const review = reviewState(pizza);
  if (editing) {
    return (
      <li className="row">
        <form aria-label={`Edit ${pizza.title}`} onSubmit={(e) => {
          if (picture.ready()) edit.submit(e, save);
          else e.preventDefault();
        }}>
          <PizzaFields f={edit} photo={<PictureField choice={picture} current={pizza} onRemove={removePicture}
            busy={removing || edit.busy} notice={pictureNotice} />} />
          {review.status !== 'pending' && <p className="muted">A new title, description or photo sends the pizza back to review.</p>}
          <ChangedMeanwhile note={note} />
          <ProblemMessage error={edit.error} what="Could not save the pizza" />
          {edit.busy && picture.file && <p className="muted" role="status">Uploading the photo…</p>}
          <button type="submit" className="primary" disabled={edit.busy || removing}>Save pizza</button>
          <button type="button" onClick={() => { setNote(null); setEditing(false); }}>Cancel</button>
        </form>
      </li>
    );
  }
  return (
    <li className="row" aria-label={pizza.title}>
      <PizzaSummary pizza={pizza} meta={<span className={review.className}>{review.label}</span>}>
        {review.reason && <p className="rejection"><strong>Reason:</strong> {review.reason}</p>}
        <ChangedMeanwhile note={note} />
        <ProblemMessage error={error} />
      </PizzaSummary>
      <div className="actions">
        <button type="button" onClick={startEditing} aria-disabled={opening || undefined}>Edit</button>
        <ConfirmDelete what={pizza.title} onAsk={version.ask} onConfirm={remove} />
      </div>
    </li>
  );
}
