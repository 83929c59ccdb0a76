import { expect, test } from 'vitest';
import { loadDraft, saveDraft } from './drafts.js';

function memory() {
  const m = new Map();
  return { getItem: (k) => (m.has(k) ? m.get(k) : null), setItem: (k, v) => m.set(k, String(v)), removeItem: (k) => m.delete(k), m };
}

test('a draft comes back to its own user only', () => {
  const s = memory();
  saveDraft(s, 'u1', 'Half a thought');
  expect(loadDraft(s, 'u1')).toBe('Half a thought');
  expect(loadDraft(s, 'u2')).toBe('');
});

test('an empty draft forgets it', () => {
  const s = memory();
  saveDraft(s, 'u1', 'x');
  saveDraft(s, 'u1', '');
  expect(s.m.size).toBe(0);
  expect(loadDraft(s, 'u1')).toBe('');
});

test('no storage, or garbage in it, is no draft', () => {
  expect(loadDraft(null, 'u1')).toBe('');
  expect(() => saveDraft(null, 'u1', 'x')).not.toThrow();
  const s = memory();
  s.m.set('tizza.tweetDraft', '{');
  expect(loadDraft(s, 'u1')).toBe('');
});
