import { describe, expect, test } from 'vitest';
import { dragIntent, keyVerdict, releaseVelocity, swipeProgress, swipeThreshold, swipeVerdict } from './swipe.js';

test('the threshold is 30% of the card, within 80..160 px', () => {
  expect(swipeThreshold(400)).toBe(120);
  expect(swipeThreshold(200)).toBe(80);
  expect(swipeThreshold(1000)).toBe(160);
});

test('progress follows the drag and stops at ±1', () => {
  expect(swipeProgress(60, 400)).toBe(0.5);
  expect(swipeProgress(-60, 400)).toBe(-0.5);
  expect(swipeProgress(500, 400)).toBe(1);
  expect(swipeProgress(-500, 400)).toBe(-1);
});

test('a drag starts after the slop, sideways; a vertical one is a scroll', () => {
  expect(dragIntent(5, 3)).toBeNull();
  expect(dragIntent(9, 2)).toBe('swipe');
  expect(dragIntent(-9, 2)).toBe('swipe');
  expect(dragIntent(4, 12)).toBe('scroll');
});

describe('swipeVerdict', () => {
  const width = 400; // threshold 120
  test('far enough judges by direction', () => {
    expect(swipeVerdict({ dx: 120, width })).toBe('like');
    expect(swipeVerdict({ dx: -130, dy: 20, width })).toBe('dislike');
  });
  test('short and slow goes back', () => {
    expect(swipeVerdict({ dx: 119, width })).toBeNull();
    expect(swipeVerdict({ dx: 60, vx: 0.2, width })).toBeNull();
  });
  test('a flick judges a shorter drag, only in its own direction and past FLICK_MIN', () => {
    expect(swipeVerdict({ dx: 50, vx: 1, width })).toBe('like');
    expect(swipeVerdict({ dx: -50, vx: -0.8, width })).toBe('dislike');
    expect(swipeVerdict({ dx: 50, vx: -1, width })).toBeNull();
    expect(swipeVerdict({ dx: 30, vx: 2, width })).toBeNull();
  });
  test('a mostly vertical drag never judges', () => {
    expect(swipeVerdict({ dx: 150, dy: 200, vx: 2, width })).toBeNull();
  });
});

test('release velocity: the last 100 ms of movement, 0 after a rest', () => {
  const samples = [{ x: 0, t: 0 }, { x: 10, t: 100 }, { x: 30, t: 150 }, { x: 80, t: 200 }];
  expect(releaseVelocity(samples, 200)).toBeCloseTo(70 / 100);
  expect(releaseVelocity(samples, 250)).toBeCloseTo(50 / 50);
  expect(releaseVelocity(samples, 260)).toBe(0); // one sample left in the window
  expect(releaseVelocity(samples, 400)).toBe(0);
  expect(releaseVelocity([{ x: 5, t: 10 }], 10)).toBe(0);
});

test('keys: → likes, ← dislikes; not with modifiers, repeats or in a field', () => {
  const k = (key, more = {}) => keyVerdict({ key, target: { tagName: 'BODY' }, ...more });
  expect(k('ArrowRight')).toBe('like');
  expect(k('ArrowLeft')).toBe('dislike');
  expect(k('ArrowUp')).toBeNull();
  expect(k('ArrowLeft', { altKey: true })).toBeNull();
  expect(k('ArrowRight', { metaKey: true })).toBeNull();
  expect(k('ArrowRight', { repeat: true })).toBeNull();
  expect(k('ArrowRight', { defaultPrevented: true })).toBeNull();
  expect(k('ArrowRight', { target: { tagName: 'INPUT' } })).toBeNull();
  expect(k('ArrowLeft', { target: { tagName: 'DIV', isContentEditable: true } })).toBeNull();
  expect(k('ArrowRight', { target: { tagName: 'BUTTON' } })).toBe('like');
});
