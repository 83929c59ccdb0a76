import { expect, test } from 'vitest';
import { forgetPendingVerdict, loadDraft, loadPendingVerdict, saveDraft, savePendingVerdict } from './drafts.js';

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

test('a verdict left unsent comes back to its own user, whole, until forgotten', () => {
  const s = memory();
  const pizza = { id: 'p1', title: 'Diavola', kind: 'meat' };
  savePendingVerdict(s, 'u1', pizza, false);
  expect(loadPendingVerdict(s, 'u1')).toEqual({ pizza, liked: false });
  expect(loadPendingVerdict(s, 'u2')).toBe(null);
  expect(loadPendingVerdict(s)).toEqual({ pizza, liked: false }); // anyone's: signed out
  forgetPendingVerdict(s);
  expect(loadPendingVerdict(s, 'u1')).toBe(null);
  expect(loadDraft(s, 'u1')).toBe(''); // apart from the tweet draft
});

test('no storage, or a verdict that is not one, is no verdict', () => {
  expect(loadPendingVerdict(null, 'u1')).toBe(null);
  expect(() => savePendingVerdict(null, 'u1', { id: 'p1' }, true)).not.toThrow();
  expect(() => forgetPendingVerdict(null)).not.toThrow();
  const s = memory();
  for (const bad of ['{', '1', '{"user_id":"u1","liked":"yes","pizza":{"id":"p1"}}', '{"user_id":"u1","liked":true,"pizza":{}}']) {
    s.m.set('tizza.pendingVerdict', bad);
    expect(loadPendingVerdict(s, 'u1')).toBe(null);
  }
});
