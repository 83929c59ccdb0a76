import { describe, expect, it } from 'vitest';
import { fromNow } from './reltime.js';

const now = Date.parse('2026-03-10T12:00:00.000Z');
const ago = (ms) => new Date(now - ms).toISOString();
const S = 1000, M = 60 * S, H = 60 * M, D = 24 * H;

describe('fromNow', () => {
  it('says "a few seconds ago" for the last 44 seconds', () => {
    expect(fromNow(ago(0), now)).toBe('a few seconds ago');
    expect(fromNow(ago(44 * S), now)).toBe('a few seconds ago');
  });
  it('counts minutes, hours, days, months and years at moment\'s thresholds', () => {
    expect(fromNow(ago(45 * S), now)).toBe('a minute ago');
    expect(fromNow(ago(89 * S), now)).toBe('a minute ago');
    expect(fromNow(ago(90 * S), now)).toBe('2 minutes ago');
    expect(fromNow(ago(44 * M), now)).toBe('44 minutes ago');
    expect(fromNow(ago(45 * M), now)).toBe('an hour ago');
    expect(fromNow(ago(90 * M), now)).toBe('2 hours ago');
    expect(fromNow(ago(21 * H), now)).toBe('21 hours ago');
    expect(fromNow(ago(22 * H), now)).toBe('a day ago');
    expect(fromNow(ago(36 * H), now)).toBe('2 days ago');
    expect(fromNow(ago(25 * D), now)).toBe('25 days ago');
    expect(fromNow(ago(26 * D), now)).toBe('a month ago');
    expect(fromNow(ago(45 * D), now)).toBe('2 months ago');
    expect(fromNow(ago(200 * D), now)).toBe('7 months ago');
    expect(fromNow(ago(320 * D), now)).toBe('a year ago');
    expect(fromNow(ago(548 * D), now)).toBe('2 years ago');
    expect(fromNow(ago(3650 * D), now)).toBe('10 years ago');
  });
  it('speaks of the future with "in"', () => {
    expect(fromNow(new Date(now + 10 * S), now)).toBe('in a few seconds');
    expect(fromNow(new Date(now + 3 * H), now)).toBe('in 3 hours');
  });
  it('reads a date slightly ahead as "a few seconds ago" for things that happened', () => {
    expect(fromNow(new Date(now + 3 * S), now, { past: true })).toBe('a few seconds ago');
    expect(fromNow(new Date(now + 3 * S), now)).toBe('in a few seconds');
    expect(fromNow(ago(2 * H), now, { past: true })).toBe('2 hours ago');
  });
  it('accepts Date, epoch milliseconds and ISO strings alike', () => {
    expect(fromNow(new Date(now - 5 * M), new Date(now))).toBe('5 minutes ago');
    expect(fromNow(now - 5 * M, now)).toBe('5 minutes ago');
    expect(fromNow('2026-03-10T11:55:00.000Z', now)).toBe('5 minutes ago');
  });
  it('answers "" for a date it cannot read', () => {
    expect(fromNow('not a date', now)).toBe('');
    expect(fromNow(undefined, now)).toBe('');
  });
});
