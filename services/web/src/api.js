// api -- the frontend's one HTTP client for the per-service REST APIs behind the gateway
// (same origin, so the HttpOnly cookies tizza_access and tizza_refresh ride along).
//
// * JSON in and out; a 204 answers null.
// * Every failure is an ApiError built from the RFC 9457 problem details the services send
//   ({type,title,status,detail,errors:[{field,message}]}); a body that is not a problem (an
//   nginx 502 page, an empty reply) or no answer at all still becomes a readable ApiError.
// * Silent token refresh: a 401 on any request except the session calls themselves makes ONE
//   POST /api/v1/auth/refresh (shared by every request that got a 401 meanwhile), then the
//   request is retried once. If the refresh fails, onSessionLost() tells the app the user is
//   signed out, and the original 401 is thrown.
// * `file` (a File or Blob) is sent as the raw body with its own type as Content-Type (a
//   picture's PUT); a Blob can be read again, so the retry after a refresh sends it again.
// * `token` sends `Authorization: Bearer` instead of relying on the cookie (the erasure view
//   uses it after the account, and with it the cookies, are gone); such calls never refresh.
// * Versions (optimistic concurrency): `ifMatch` sends `If-Match: <etag>` (a write that only
//   happens when the item is still the version read); `tagged` answers {data, etag} with the
//   answer's ETag header instead of the data alone. A refused write's ApiError carries the
//   ETag of its answer too (`etag`: a 412 names the current version). See versions.js.

export class ApiError extends Error {
  constructor({ status = 0, title = '', detail = '', errors = [], type = 'about:blank' } = {}) {
    super(detail || title || (status ? `HTTP ${status}` : 'request failed'));
    this.name = 'ApiError';
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.errors = errors;
    this.type = type;
  }

  /** {field: message} of the validation errors (the first message per field). */
  fieldErrors() {
    const out = {};
    for (const e of this.errors) if (e.field && !(e.field in out)) out[e.field] = e.message;
    return out;
  }
}

const REASONS = {
  400: 'Bad request', 401: 'Not signed in', 403: 'Not allowed', 404: 'Not found',
  405: 'Method not allowed', 409: 'Conflict', 412: 'Changed meanwhile', 413: 'Too large', 415: 'Unsupported media type',
  422: 'Unprocessable', 429: 'Too many requests', 500: 'Server error', 502: 'Service unreachable',
  503: 'Service unavailable', 504: 'Service timed out',
};

/** An ApiError from a response status and its parsed body (object, string or null). */
export function problemFrom(status, body) {
  const title = REASONS[status] || `HTTP ${status}`;
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    const errors = Array.isArray(body.errors)
      ? body.errors
          .filter((e) => e && typeof e === 'object')
          .map((e) => ({ field: String(e.field ?? ''), message: String(e.message ?? '') }))
      : [];
    return new ApiError({
      status: Number.isInteger(body.status) ? body.status : status,
      title: typeof body.title === 'string' && body.title ? body.title : title,
      detail: typeof body.detail === 'string' ? body.detail : '',
      errors,
      type: typeof body.type === 'string' ? body.type : 'about:blank',
    });
  }
  let detail = '';
  if (status === 502 || status === 504) detail = 'The service did not answer. Try again in a moment.';
  else if (status === 503) detail = 'The service is unavailable right now. Try again in a moment.';
  return new ApiError({ status, title, detail });
}

/** Reads a fetch Response's body: parsed JSON for JSON types, else text ("" when empty). */
async function readBody(res) {
  const text = await res.text().catch(() => '');
  const type = res.headers.get('content-type') || '';
  if (text && /json/i.test(type)) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

// Calls that must never trigger a refresh (they are the session machinery themselves).
const NO_REFRESH = /^\/api\/v1\/auth\/(login|signup|refresh|logout)\b/;

export function createApi({ fetch: fetchFn = (...a) => globalThis.fetch(...a), base = '', onSessionLost = () => {} } = {}) {
  let refreshing = null; // the one refresh in flight, shared by concurrent 401s
  let sessionLost = onSessionLost;

  function refresh() {
    if (!refreshing) {
      refreshing = send('POST', '/api/v1/auth/refresh', { refresh: false })
        .then(() => true, () => false)
        .finally(() => {
          refreshing = null;
        });
    }
    return refreshing;
  }

  async function send(method, path, { body, file, token, signal, ifMatch, tagged } = {}) {
    const headers = { Accept: 'application/json, application/problem+json' };
    const init = { method, headers, credentials: 'same-origin', signal };
    if (file !== undefined) {
      headers['Content-Type'] = file.type || 'application/octet-stream';
      init.body = file;
    } else if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    if (token) headers.Authorization = `Bearer ${token}`;
    if (ifMatch) headers['If-Match'] = ifMatch;
    let res;
    try {
      res = await fetchFn(base + path, init);
    } catch (e) {
      if (e && e.name === 'AbortError') throw e;
      throw new ApiError({ status: 0, title: 'Network error', detail: 'The server could not be reached.' });
    }
    const data = await readBody(res);
    const etag = (res.headers && res.headers.get('etag')) || null;
    if (res.ok) {
      const value = res.status === 204 ? null : data === '' ? null : data;
      return tagged ? { data: value, etag } : value;
    }
    return Promise.reject(Object.assign(problemFrom(res.status, data), { path, etag }));
  }

  async function request(method, path, opts = {}) {
    try {
      return await send(method, path, opts);
    } catch (e) {
      const retryable = e instanceof ApiError && e.status === 401 && !opts.token &&
        opts.refresh !== false && !NO_REFRESH.test(path);
      if (!retryable) throw e;
      if (!(await refresh())) {
        sessionLost(e);
        throw e;
      }
      return send(method, path, { ...opts, refresh: false });
    }
  }

  return {
    request,
    refresh,
    /** Who hears that the session is gone (the app: it shows the signed-out screens). */
    setOnSessionLost(fn) {
      sessionLost = fn;
    },
    get: (path, opts) => request('GET', path, opts),
    post: (path, body, opts) => request('POST', path, { ...opts, body }),
    put: (path, body, opts) => request('PUT', path, { ...opts, body }),
    /** PUT of a file as the raw body, its type as Content-Type (not multipart, not JSON). */
    putFile: (path, file, opts) => request('PUT', path, { ...opts, file }),
    patch: (path, body, opts) => request('PATCH', path, { ...opts, body }),
    del: (path, opts) => request('DELETE', path, opts),
  };
}

/** "a=1&b=x" from an object, skipping undefined/null/"" values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** A relative path for an absolute `next`/`previous` URL of a page (they carry the origin of
 *  the service as it saw the request; the browser must stay on the gateway's origin). */
export function pagePath(url) {
  if (!url) return null;
  try {
    const u = new URL(url, 'http://x');
    return u.pathname + u.search;
  } catch {
    return null;
  }
}

export const api = createApi();
