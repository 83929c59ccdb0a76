import { expect, test } from 'vitest';
import { forgetErasure, loadErasure, receiptPath, saveErasure } from './erasureStore.js';

const R = `/api/v1/erasures/${'a'.repeat(21)}_-${'Z'.repeat(20)}`;

function memory() {
  const m = new Map();
  return { getItem: (k) => (m.has(k) ? m.get(k) : null), setItem: (k, v) => m.set(k, String(v)), removeItem: (k) => m.delete(k), m };
}

test('the receipt path of the absolute URL auth gives', () => {
  expect(receiptPath(`http://127.0.0.1:8001${R}`)).toBe(R);
  expect(receiptPath(R)).toBe(R);
  expect(receiptPath('http://x/api/v1/erasures/short')).toBe(null);
  expect(receiptPath('http://x/api/v1/users/abc/erasure')).toBe(null);
  expect(receiptPath(null)).toBe(null);
});

test('kept, read back and forgotten', () => {
  const s = memory();
  expect(loadErasure(s)).toBe(null);
  expect(saveErasure(s, { username: 'ann', receipt: R })).toBe(true);
  expect(loadErasure(s)).toEqual({ username: 'ann', receipt: R });
  forgetErasure(s);
  expect(loadErasure(s)).toBe(null);
});

test('anything else kept under the key is ignored', () => {
  const s = memory();
  for (const v of ['{', '"x"', '{"username":"ann","receipt":"/api/v1/users/1"}', '{"receipt":"' + R + '"}']) {
    s.m.set('tizza.erasure', v);
    expect(loadErasure(s), v).toBe(null);
  }
});

test('a storage that refuses is survived', () => {
  const broken = { getItem() { throw new Error('no'); }, setItem() { throw new Error('full'); }, removeItem() { throw new Error('no'); } };
  expect(saveErasure(broken, { username: 'ann', receipt: R })).toBe(false);
  expect(loadErasure(broken)).toBe(null);
  expect(() => forgetErasure(broken)).not.toThrow();
  expect(loadErasure(null)).toBe(null);
  expect(saveErasure(null, { username: 'ann', receipt: R })).toBe(false);
});
