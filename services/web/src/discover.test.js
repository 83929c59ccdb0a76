import { describe, expect, test, vi } from 'vitest';
import { exhaustedText, filteredBatches, filterFromSearch, filterPhrase, filterSearch, pageQuery, PAGE, TITLE_MAX } from './discover.js';
import { ShuffleQueue } from './shuffleQueue.js';

describe('the filter in the URL', () => {
  test('read back', () => {
    expect(filterFromSearch('?kind=vegan&title=Mar')).toEqual({ kind: 'vegan', title: 'Mar' });
    expect(filterFromSearch('')).toEqual({ kind: '', title: '' });
    expect(filterFromSearch('?kind=fish&title=%20%20')).toEqual({ kind: '', title: '' });
  });
  test('written', () => {
    expect(filterSearch({ kind: 'meat', title: 'Dia vola' })).toBe('?kind=meat&title=Dia+vola');
    expect(filterSearch({ kind: '', title: ' ' })).toBe('');
    expect(filterFromSearch(filterSearch({ kind: 'vegetarian', title: 'Quattro F' }))).toEqual({ kind: 'vegetarian', title: 'Quattro F' });
  });
});

test('wording: the text anywhere in the title, not a prefix', () => {
  expect(filterPhrase({ kind: 'vegan', title: '' })).toBe('vegan pizzas');
  expect(filterPhrase({ kind: '', title: 'mar' })).toBe('pizzas with “mar” in the title');
  expect(filterPhrase({ kind: 'meat', title: 'Picc' })).toBe('meat pizzas with “Picc” in the title');
  expect(exhaustedText({ kind: 'vegan', title: 'g' })).toBe('No more vegan pizzas with “g” in the title to judge.');
  expect(exhaustedText({ kind: '', title: '' })).toMatch(/^You have judged every pizza on the menu/);
  expect(filterPhrase({ kind: '', title: 'Mar' })).not.toMatch(/start/);
});

describe('a page query', () => {
  test('approved only, the title text as typed, matched anywhere (title__icontains)', () => {
    const q = new URLSearchParams(pageQuery({ kind: 'vegan', title: 'mar g' }, 100));
    expect(Object.fromEntries(q)).toEqual({ status: 'approved', kind: 'vegan', title__icontains: 'mar g', limit: '100', offset: '100' });
    expect(q.has('title__startswith')).toBe(false);
    const none = new URLSearchParams(pageQuery({ kind: '', title: '' }, 0));
    expect(none.has('kind')).toBe(false);
    expect(none.has('title__icontains')).toBe(false);
  });
  test('case and accents are left to pizza: the text goes as typed, encoded', () => {
    expect(pageQuery({ kind: '', title: 'CRÈME & co' }, 0))
      .toBe('?status=approved&title__icontains=CR%C3%88ME+%26+co&limit=100&offset=0');
    expect(new URLSearchParams(pageQuery({ kind: '', title: 'crème' }, 0)).get('title__icontains')).toBe('crème');
  });
  test('the field takes the 120 characters pizza allows', () => {
    expect(TITLE_MAX).toBe(120);
  });
});

test('a filtered Shuffle asks pizza for the title text anywhere, from the URL to every page', async () => {
  const fetchPage = pages(Array.from({ length: 150 }, (_, i) => pz(i)));
  const filter = filterFromSearch(filterSearch({ kind: '', title: 'piccante' }));
  await filteredBatches(filter, { fetchPage, isKnown: () => false })(5);
  expect(fetchPage).toHaveBeenCalledTimes(2);
  for (const [qs] of fetchPage.mock.calls) {
    const q = new URLSearchParams(qs);
    expect(q.get('title__icontains')).toBe('piccante');
    expect(q.has('title__startswith')).toBe(false);
  }
});

const pz = (i, kind = 'vegan') => ({ id: `p${i}`, title: `Pizza ${i}`, kind });

function pages(list) {
  return vi.fn(async (q) => {
    const p = new URLSearchParams(q);
    const offset = Number(p.get('offset'));
    return { count: list.length, results: list.slice(offset, offset + PAGE) };
  });
}

describe('filteredBatches', () => {
  test('every page is read, each pizza handed out once, known ones left out', async () => {
    const list = Array.from({ length: 230 }, (_, i) => pz(i));
    const fetchPage = pages(list);
    const known = new Set(['p3', 'p200']);
    const next = filteredBatches({ kind: 'vegan', title: '' }, { fetchPage, isKnown: (id) => known.has(id) });
    const got = [];
    for (;;) {
      const batch = await next(7);
      if (!batch.length) break;
      batch.forEach((p) => known.add(p.id));
      got.push(...batch.map((p) => p.id));
    }
    expect(fetchPage).toHaveBeenCalledTimes(6); // 3 pages, and 3 again once all were handed out
    expect(new Set(got).size).toBe(228);
    expect(got).not.toContain('p3');
    expect(got).not.toContain('p200');
  });

  test('waits for `before` (the judged ids) before the first batch', async () => {
    const known = new Set();
    let arrive;
    const before = new Promise((r) => { arrive = r; }).then(() => known.add('p0'));
    const next = filteredBatches({ kind: 'vegan', title: '' }, { fetchPage: pages([pz(0), pz(1)]), isKnown: (id) => known.has(id), before });
    const batch = next(5);
    arrive();
    expect((await batch).map((p) => p.id)).toEqual(['p1']);
  });

  test('in a ShuffleQueue: the queue runs out and is exhausted, and a new approval shows up on retry', async () => {
    const list = [pz(1), pz(2), pz(3)];
    let q;
    q = new ShuffleQueue({ batchSize: 5, lowWater: 2,
      fetchBatch: filteredBatches({ kind: 'vegan', title: '' }, { fetchPage: pages(list), isKnown: (id) => q.isKnown(id) }) });
    await q.fill();
    const shown = [];
    while (q.current()) {
      shown.push(q.current().id);
      q.next();
      await q.pending;
    }
    await q.fill();
    expect(shown.sort()).toEqual(['p1', 'p2', 'p3']);
    expect(q.state().exhausted).toBe(true);
    list.push(pz(4));
    await q.retry();
    expect(q.current().id).toBe('p4');
  });
});
