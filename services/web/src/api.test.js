import { describe, expect, it, vi } from 'vitest';
import { ApiError, createApi, pagePath, problemFrom, query } from './api.js';

// A scripted fetch: each call takes the next [status, body, contentType, headers] answer and
// records {method, url, headers, body}.
function fakeFetch(answers) {
  const calls = [];
  const fn = vi.fn(async (url, init) => {
    calls.push({ url, method: init.method, headers: init.headers, body: init.body });
    const next = answers.shift();
    if (!next) throw new Error(`unexpected call ${init.method} ${url}`);
    if (next instanceof Error) throw next;
    const [status, body, type, extra] = next;
    const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
    const ct = type || (typeof body === 'object' ? (status >= 400 ? 'application/problem+json' : 'application/json') : 'text/html');
    return new Response(status === 204 ? null : text, { status, headers: { 'content-type': ct, ...extra } });
  });
  fn.calls = calls;
  return fn;
}

const unauth = [401, { type: 'about:blank', title: 'Unauthorized', status: 401, detail: 'invalid or expired token' }];

describe('problemFrom', () => {
  it('keeps detail, title, status and field errors of problem details', () => {
    const e = problemFrom(400, {
      type: 'about:blank', title: 'Bad Request', status: 400, detail: 'invalid fields',
      errors: [{ field: 'username', message: 'is already taken' }, { field: 'username', message: 'second' },
        { field: 'email', message: 'is not an email address' }],
    });
    expect(e).toBeInstanceOf(ApiError);
    expect(e.status).toBe(400);
    expect(e.title).toBe('Bad Request');
    expect(e.message).toBe('invalid fields');
    expect(e.fieldErrors()).toEqual({ username: 'is already taken', email: 'is not an email address' });
  });
  it('makes a readable error from a body that is not a problem', () => {
    const e = problemFrom(502, '<html><body>502 Bad Gateway</body></html>');
    expect(e.status).toBe(502);
    expect(e.title).toBe('Service unreachable');
    expect(e.message).toMatch(/did not answer/);
    expect(e.errors).toEqual([]);
    expect(problemFrom(418, null).message).toBe('HTTP 418');
  });
  it('ignores malformed errors members', () => {
    const e = problemFrom(400, { title: 'Bad Request', status: 400, errors: 'nope' });
    expect(e.errors).toEqual([]);
    expect(e.message).toBe('Bad Request');
  });
});

describe('createApi', () => {
  it('sends JSON with the content type and parses JSON answers', async () => {
    const f = fakeFetch([[201, { id: 't1', body: 'hi' }]]);
    const api = createApi({ fetch: f });
    expect(await api.post('/api/v2/tweets', { body: 'hi' })).toEqual({ id: 't1', body: 'hi' });
    expect(f.calls[0].method).toBe('POST');
    expect(f.calls[0].headers['Content-Type']).toBe('application/json');
    expect(JSON.parse(f.calls[0].body)).toEqual({ body: 'hi' });
  });
  it('sends a file as the raw body with its own type, again after a refresh', async () => {
    const png = new Blob([new Uint8Array([0x89, 0x50, 0x4e, 0x47])], { type: 'image/png' });
    const f = fakeFetch([unauth, [200, {}], [200, { id: 'p1', status: 'pending' }]]);
    const api = createApi({ fetch: f });
    expect(await api.putFile('/api/v1/pizzas/p1/picture', png)).toEqual({ id: 'p1', status: 'pending' });
    expect(f.calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      'PUT /api/v1/pizzas/p1/picture', 'POST /api/v1/auth/refresh', 'PUT /api/v1/pizzas/p1/picture']);
    for (const c of [f.calls[0], f.calls[2]]) {
      expect(c.headers['Content-Type']).toBe('image/png');
      expect(c.body).toBe(png);
    }
  });
  it('sends If-Match when asked, and answers the ETag with the data when tagged', async () => {
    const f = fakeFetch([[200, { id: 'p1', title: 'A' }, undefined, { etag: '"3"' }], [200, { id: 'p1', title: 'B' }, undefined, { etag: '"4"' }]]);
    const api = createApi({ fetch: f });
    expect(await api.get('/api/v1/pizzas/p1', { tagged: true })).toEqual({ data: { id: 'p1', title: 'A' }, etag: '"3"' });
    expect(f.calls[0].headers['If-Match']).toBeUndefined();
    expect(await api.patch('/api/v1/pizzas/p1', { title: 'B' }, { ifMatch: '"3"' })).toEqual({ id: 'p1', title: 'B' });
    expect(f.calls[1].headers['If-Match']).toBe('"3"');
  });
  it('keeps If-Match on the retry after a refresh, and the ETag of a 412 on its error', async () => {
    const stale = [412, { title: 'Precondition Failed', status: 412, detail: 'the resource has changed since you read it (If-Match): read it again' }, undefined, { etag: '"5"' }];
    const f = fakeFetch([unauth, [200, {}], stale]);
    const api = createApi({ fetch: f });
    const e = await api.del('/api/v1/pizzerias/z1', { ifMatch: '"4"' }).catch((x) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect(e.status).toBe(412);
    expect(e.etag).toBe('"5"');
    expect([f.calls[0].headers['If-Match'], f.calls[2].headers['If-Match']]).toEqual(['"4"', '"4"']);
  });
  it('answers null for 204', async () => {
    const api = createApi({ fetch: fakeFetch([[204]]) });
    expect(await api.del('/api/v2/tweets/x')).toBeNull();
  });
  it('throws an ApiError carrying the problem', async () => {
    const api = createApi({ fetch: fakeFetch([[409, { title: 'Conflict', status: 409, detail: 'taken', errors: [{ field: 'email', message: 'is already taken' }] }]]) });
    const e = await api.post('/api/v1/auth/signup', {}).catch((x) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect(e.status).toBe(409);
    expect(e.fieldErrors().email).toBe('is already taken');
  });
  it('turns a network failure into a readable ApiError', async () => {
    const api = createApi({ fetch: fakeFetch([new TypeError('Failed to fetch')]) });
    const e = await api.get('/api/v1/pizzas').catch((x) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect(e.status).toBe(0);
    expect(e.message).toMatch(/could not be reached/);
  });
  it('on a 401 refreshes once and retries the request', async () => {
    const f = fakeFetch([unauth, [200, { user: {}, access_token: 'x' }], [200, { pizza_ids: [] }]]);
    const lost = vi.fn();
    const api = createApi({ fetch: f, onSessionLost: lost });
    expect(await api.get('/api/v1/likes/seen')).toEqual({ pizza_ids: [] });
    expect(f.calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      'GET /api/v1/likes/seen', 'POST /api/v1/auth/refresh', 'GET /api/v1/likes/seen']);
    expect(lost).not.toHaveBeenCalled();
  });
  it('does not loop when the retried request is refused again', async () => {
    const f = fakeFetch([unauth, [200, {}], unauth]);
    const api = createApi({ fetch: f });
    const e = await api.get('/api/v1/auth/me').catch((x) => x);
    expect(e.status).toBe(401);
    expect(f).toHaveBeenCalledTimes(3);
  });
  it('reports the lost session and throws the original 401 when the refresh fails', async () => {
    const f = fakeFetch([unauth, [401, { title: 'Unauthorized', status: 401, detail: 'refresh token revoked' }]]);
    const lost = vi.fn();
    const api = createApi({ fetch: f, onSessionLost: lost });
    const e = await api.put('/api/v1/likes/p1', { liked: true }).catch((x) => x);
    expect(e.status).toBe(401);
    expect(e.detail).toBe('invalid or expired token');
    expect(lost).toHaveBeenCalledTimes(1);
    expect(f).toHaveBeenCalledTimes(2);
  });
  it('shares one refresh among concurrent 401s', async () => {
    let release;
    const gate = new Promise((r) => { release = r; });
    const seen = [];
    const f = vi.fn(async (url, init) => {
      seen.push(`${init.method} ${url}`);
      if (url === '/api/v1/auth/refresh') {
        await gate;
        return new Response('{}', { status: 200, headers: { 'content-type': 'application/json' } });
      }
      const n = seen.filter((s) => s.endsWith(url)).length;
      return n === 1
        ? new Response(JSON.stringify(unauth[1]), { status: 401, headers: { 'content-type': 'application/problem+json' } })
        : new Response('{"ok":true}', { status: 200, headers: { 'content-type': 'application/json' } });
    });
    const api = createApi({ fetch: f });
    const a = api.get('/a');
    const b = api.get('/b');
    await new Promise((r) => setTimeout(r, 10));
    release();
    expect(await Promise.all([a, b])).toEqual([{ ok: true }, { ok: true }]);
    expect(seen.filter((s) => s === 'POST /api/v1/auth/refresh')).toHaveLength(1);
  });
  it('never refreshes for the session calls themselves or with an explicit token', async () => {
    const f = fakeFetch([unauth, unauth]);
    const api = createApi({ fetch: f });
    expect((await api.post('/api/v1/auth/login', { username: 'a', password: 'b' }).catch((x) => x)).status).toBe(401);
    const e = await api.get('/api/v1/users/u1/erasure', { token: 'jwt' }).catch((x) => x);
    expect(e.status).toBe(401);
    expect(f.calls[1].headers.Authorization).toBe('Bearer jwt');
    expect(f).toHaveBeenCalledTimes(2);
  });
});

describe('helpers', () => {
  it('query skips empty values', () => {
    expect(query({ limit: 5, offset: 0, liked: undefined, expand: 'pizza', x: '' })).toBe('?limit=5&offset=0&expand=pizza');
    expect(query({})).toBe('');
  });
  it('pagePath keeps path and query of an absolute page URL', () => {
    expect(pagePath('http://127.0.0.1:8004/api/v2/tweets?limit=5&offset=5')).toBe('/api/v2/tweets?limit=5&offset=5');
    expect(pagePath(null)).toBeNull();
  });
});
