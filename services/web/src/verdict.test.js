import { expect, test } from 'vitest';
import { ApiError } from './api.js';
import { saveVerdict, undoVerdict } from './verdict.js';

const id = '0123456789abcdef01234567';

// A fake api: records calls; GET answers `current` (null: 404).
function fakeApi(current, { failGet } = {}) {
  const calls = [];
  const rec = (method) => async (path, body) => {
    calls.push(body === undefined ? [method, path] : [method, path, body]);
    if (method === 'GET') {
      if (failGet) throw new ApiError({ status: failGet });
      if (current === null) throw new ApiError({ status: 404 });
      return { liked: current };
    }
    return null;
  };
  return { calls, get: rec('GET'), put: rec('PUT'), del: rec('DELETE') };
}

test('a first verdict: saved, and undone by forgetting it', async () => {
  const api = fakeApi(null);
  const v = await saveVerdict(api, id, true);
  expect(v).toEqual({ pizzaId: id, liked: true, previous: null });
  await undoVerdict(api, v);
  expect(api.calls).toEqual([
    ['GET', `/api/v1/likes/${id}`],
    ['PUT', `/api/v1/likes/${id}`, { liked: true }],
    ['DELETE', `/api/v1/likes/${id}`],
  ]);
});

test('a replaced verdict: undone by putting the previous one back', async () => {
  const api = fakeApi(true);
  const v = await saveVerdict(api, id, false);
  expect(v.previous).toBe(true);
  await undoVerdict(api, v);
  expect(api.calls.slice(1)).toEqual([
    ['PUT', `/api/v1/likes/${id}`, { liked: false }],
    ['PUT', `/api/v1/likes/${id}`, { liked: true }],
  ]);
});

test('a failing read saves nothing', async () => {
  const api = fakeApi(null, { failGet: 503 });
  await expect(saveVerdict(api, id, true)).rejects.toMatchObject({ status: 503 });
  expect(api.calls).toEqual([['GET', `/api/v1/likes/${id}`]]);
});

test('undoing a verdict already gone is fine; other failures are not', async () => {
  const gone = { del: async () => { throw new ApiError({ status: 404 }); } };
  await expect(undoVerdict(gone, { pizzaId: id, previous: null })).resolves.toBeUndefined();
  const down = { del: async () => { throw new ApiError({ status: 503 }); } };
  await expect(undoVerdict(down, { pizzaId: id, previous: null })).rejects.toMatchObject({ status: 503 });
});
