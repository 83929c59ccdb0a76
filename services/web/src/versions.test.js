import { describe, expect, it } from 'vitest';
import { createApi } from './api.js';
import {
  changedFields, formValues, isChangedMeanwhile, meanwhileNote, pictureChange, readTagged, rebase, writeTagged,
} from './versions.js';

// A versioned item behind a fake fetch, as the services keep them: GET answers its ETag,
// a write with an If-Match that is not the current ETag answers 412 (with the current ETag)
// and changes nothing; a write without If-Match is unconditional. `calls` records
// {method, url, ifMatch} of every request.
function versionedServer(item) {
  let doc = { ...item };
  let version = 1;
  let gone = false;
  const calls = [];
  const tag = () => `"${version}"`;
  const json = (status, body, headers = {}) => new Response(body === null ? null : JSON.stringify(body), {
    status, headers: { 'content-type': status >= 400 ? 'application/problem+json' : 'application/json', ...headers },
  });
  const fetch = async (url, init) => {
    const ifMatch = init.headers['If-Match'];
    calls.push({ method: init.method, url, ifMatch });
    if (gone) return json(404, { title: 'Not Found', status: 404, detail: 'no such pizza' });
    if (init.method === 'GET') return json(200, doc, { etag: tag() });
    if (ifMatch && ifMatch !== tag()) {
      return json(412, { type: 'about:blank', title: 'Precondition Failed', status: 412,
        detail: 'the resource has changed since you read it (If-Match): read it again' }, { etag: tag() });
    }
    version += 1;
    if (init.method === 'DELETE') {
      gone = true;
      return new Response(null, { status: 204 });
    }
    doc = init.body instanceof Blob ? { ...doc, picture: { version: `v${version}` } } : { ...doc, ...JSON.parse(init.body) };
    return json(200, doc, { etag: tag() });
  };
  return {
    fetch,
    calls,
    /** Someone else's write meanwhile (another user, another tab). */
    changeMeanwhile(set) {
      doc = { ...doc, ...set };
      version += 1;
    },
    get doc() {
      return doc;
    },
    get gone() {
      return gone;
    },
  };
}

const FIELDS = ['title', 'description', 'kind'];
const PATH = '/api/v1/pizzas/p1';

describe('readTagged and writeTagged', () => {
  it('keeps the ETag of the read and sends it as If-Match, then keeps the answer\'s', async () => {
    const server = versionedServer({ id: 'p1', title: 'Margherita', description: '', kind: 'vegetarian' });
    const api = createApi({ fetch: server.fetch });
    const read = await readTagged(api, PATH);
    expect(read).toEqual({ item: server.doc, etag: '"1"' });
    const saved = await writeTagged(api, 'PATCH', PATH, read.etag, { body: { title: 'Marinara' } });
    expect(saved.etag).toBe('"2"');
    expect(saved.item.title).toBe('Marinara');
    const again = await writeTagged(api, 'PATCH', PATH, saved.etag, { body: { kind: 'vegan' } });
    expect(server.calls.map((c) => `${c.method} ${c.ifMatch}`)).toEqual(['GET undefined', 'PATCH "1"', 'PATCH "2"']);
    expect(again.etag).toBe('"3"');
  });
  it('sends a picture with If-Match too, and a DELETE', async () => {
    const server = versionedServer({ id: 'p1', title: 'Margherita' });
    const api = createApi({ fetch: server.fetch });
    const read = await readTagged(api, PATH);
    const file = new Blob([new Uint8Array([0x89, 0x50, 0x4e, 0x47])], { type: 'image/png' });
    const up = await writeTagged(api, 'PUT', `${PATH}/picture`, read.etag, { file });
    expect(up.item.picture).toEqual({ version: 'v2' });
    const gone = await writeTagged(api, 'DELETE', PATH, up.etag);
    expect(gone).toEqual({ item: null, etag: null });
    expect(server.calls.map((c) => `${c.method} ${c.url} ${c.ifMatch}`))
      .toEqual(['GET /api/v1/pizzas/p1 undefined', 'PUT /api/v1/pizzas/p1/picture "1"', 'DELETE /api/v1/pizzas/p1 "2"']);
  });
  it('a write after someone else\'s is refused with 412 and changes nothing', async () => {
    const server = versionedServer({ id: 'p1', title: 'Margherita', kind: 'vegetarian' });
    const api = createApi({ fetch: server.fetch });
    const read = await readTagged(api, PATH);
    server.changeMeanwhile({ title: 'Margherita DOP' });
    const e = await writeTagged(api, 'PATCH', PATH, read.etag, { body: { title: 'Marinara' } }).catch((x) => x);
    expect(isChangedMeanwhile(e)).toBe(true);
    expect(e.etag).toBe('"2"');
    expect(server.doc.title).toBe('Margherita DOP');
    const d = await writeTagged(api, 'DELETE', PATH, read.etag).catch((x) => x);
    expect(isChangedMeanwhile(d)).toBe(true);
    expect(server.gone).toBe(false);
  });
  it('isChangedMeanwhile is only the 412', () => {
    expect(isChangedMeanwhile(new Error('x'))).toBe(false);
    expect(isChangedMeanwhile({ status: 412 })).toBe(false); // not an ApiError
  });
});

describe('rebase', () => {
  const base = { title: 'Margherita', description: 'Tomato.', kind: 'vegetarian' };
  it('keeps the fields the user changed, takes the others from the current version', () => {
    const typed = { title: 'Marinara', description: 'Tomato.', kind: 'vegetarian' };
    const fresh = { title: 'Margherita DOP', description: 'Tomato, basil.', kind: 'vegetarian' };
    expect(rebase(base, typed, fresh, FIELDS)).toEqual({
      values: { title: 'Marinara', description: 'Tomato, basil.', kind: 'vegetarian' },
      changes: [
        { field: 'title', theirs: 'Margherita DOP', yours: 'Marinara' },
        { field: 'description', theirs: 'Tomato, basil.' },
      ],
    });
  });
  it('says nothing about a field both changed the same way, and reads null as empty', () => {
    const r = rebase({ ...base, phone: null }, { ...base, kind: 'vegan', phone: '' }, { ...base, kind: 'vegan' }, [...FIELDS, 'phone']);
    expect(r.changes).toEqual([{ field: 'kind', theirs: 'vegan' }]);
    expect(r.values.kind).toBe('vegan');
    expect(r.values.phone).toBe('');
  });
  it('changedFields and formValues', () => {
    expect(formValues({ title: 'A', description: null }, FIELDS)).toEqual({ title: 'A', description: '', kind: '' });
    expect(changedFields(base, { ...base, title: 'B', description: 'Tomato.' }, FIELDS)).toEqual({ title: 'B' });
  });
  it('pictureChange notices a new or removed photo', () => {
    expect(pictureChange({ picture: { version: 'a' } }, { picture: { version: 'a' } })).toEqual([]);
    expect(pictureChange({ picture: null }, { picture: { version: 'b' } })).toEqual([{ field: 'picture', theirs: 'b' }]);
    expect(pictureChange({ picture: { version: 'a' } }, { picture: null })).toEqual([{ field: 'picture', theirs: '' }]);
  });
});

describe('meanwhileNote', () => {
  it('says in plain words that someone else changed it, what, and what to do', () => {
    const n = meanwhileNote({
      action: 'save', what: 'this pizza', show: (f, v) => (f === 'kind' ? { vegan: 'Vegan' }[v] : v),
      changes: [{ field: 'title', theirs: 'Margherita DOP', yours: 'Marinara' }, { field: 'kind', theirs: 'vegan' },
        { field: 'description', theirs: '' }, { field: 'picture', theirs: 'b' }],
    });
    expect(n.lead).toBe('Someone else (or you, in another tab) changed this pizza while you were editing it, so your changes were not saved.');
    expect(n.items).toEqual([
      'Title is now “Margherita DOP”; the form keeps yours, “Marinara”.',
      'Kind is now “Vegan” (in the form: you had not changed it).',
      'Description is now empty (in the form: you had not changed it).',
      'It has a new photo.',
    ]);
    expect(n.next).toMatch(/^Your changes are still in the form: Save again/);
  });
  it('has words for a refused deletion and for the account', () => {
    expect(meanwhileNote({ action: 'delete', what: 'this pizzeria', changes: [{ field: 'name', theirs: 'Da Gino' }] }))
      .toEqual({
        lead: 'Someone else (or you, in another tab) changed this pizzeria meanwhile, so it was not deleted.',
        items: ['Name is now “Da Gino”.'],
        next: 'It shows its current version now: delete it again if you still want to.',
      });
    expect(meanwhileNote({ action: 'deleteAccount' }).lead).toMatch(/^Your account was changed meanwhile .*so it was not deleted\.$/);
    expect(meanwhileNote({ action: 'password' }).lead).toMatch(/your password was not changed\.$/);
  });
});

// The edit form's way (screens/Pizzerias.jsx): read, edit, save; on 412 read again, rebase,
// save again with the new ETag.
describe('saving over a change made meanwhile', () => {
  async function editAndSave(api, typedTitle, meanwhile) {
    let seen = await readTagged(api, PATH); // the form opens
    const typed = { ...formValues(seen.item, FIELDS), title: typedTitle };
    meanwhile();
    const attempts = [];
    for (let i = 0; i < 2; i++) {
      try {
        seen = await writeTagged(api, 'PATCH', PATH, seen.etag, { body: changedFields(seen.item, typed, FIELDS) });
        attempts.push('saved');
        return { attempts, seen, typed };
      } catch (e) {
        if (!isChangedMeanwhile(e)) throw e;
        attempts.push('412');
        const base = seen.item;
        seen = await readTagged(api, PATH);
        const r = rebase(base, typed, seen.item, FIELDS);
        Object.assign(typed, r.values);
        attempts.push(meanwhileNote({ what: 'this pizza', changes: r.changes }).items);
      }
    }
    return { attempts, seen, typed };
  }

  it('is refused once (412), keeps what was typed, says what changed, then succeeds with the new ETag', async () => {
    const server = versionedServer({ id: 'p1', title: 'Margherita', description: 'Tomato.', kind: 'vegetarian' });
    const api = createApi({ fetch: server.fetch });
    const { attempts, seen, typed } = await editAndSave(api, 'Marinara',
      () => server.changeMeanwhile({ title: 'Margherita DOP', description: 'Tomato, basil.' }));
    expect(attempts).toEqual(['412', [
      'Title is now “Margherita DOP”; the form keeps yours, “Marinara”.',
      'Description is now “Tomato, basil.” (in the form: you had not changed it).',
    ], 'saved']);
    expect(typed.title).toBe('Marinara');
    expect(server.doc).toMatchObject({ title: 'Marinara', description: 'Tomato, basil.' }); // theirs kept where untouched
    expect(seen.etag).toBe('"3"');
    expect(server.calls.map((c) => `${c.method} ${c.ifMatch}`))
      .toEqual(['GET undefined', 'PATCH "1"', 'GET undefined', 'PATCH "2"']);
  });
  it('saves at once when nothing changed meanwhile', async () => {
    const server = versionedServer({ id: 'p1', title: 'Margherita', description: '', kind: 'vegetarian' });
    const api = createApi({ fetch: server.fetch });
    const { attempts } = await editAndSave(api, 'Marinara', () => {});
    expect(attempts).toEqual(['saved']);
    expect(server.calls.map((c) => `${c.method} ${c.ifMatch}`)).toEqual(['GET undefined', 'PATCH "1"']);
  });
});
