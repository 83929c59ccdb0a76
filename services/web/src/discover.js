// Shuffle's filters (pure): a kind and a text of the title, kept in the URL
// (/shuffle?kind=vegan&title=mar), their wording, and the pizzas they draw from.
//
// With a filter, the pizzas come from GET /api/v1/pizzas?status=approved&kind=&title__icontains=
// (the text anywhere in the title, ignoring case and accents, as pizza matches it: "creme"
// finds "Crème Fraîche"), every page up to MAX_PIZZAS, shuffled here; without one, from
// GET /api/v1/pizzas/random as before.

export const KINDS = ['meat', 'vegetarian', 'vegan'];
export const PAGE = 100;
export const MAX_PIZZAS = 500;
/** The longest title text the search field takes (pizza refuses more than 120 bytes). */
export const TITLE_MAX = 120;

/** {kind, title} of a location's search ('' when absent, unknown or blank). */
export function filterFromSearch(search) {
  const q = new URLSearchParams(search || '');
  const kind = q.get('kind') || '';
  const title = q.get('title') || '';
  return { kind: KINDS.includes(kind) ? kind : '', title: title.trim() ? title : '' };
}

/** The search part of a filter's URL ('' without a filter). */
export function filterSearch({ kind = '', title = '' }) {
  const q = new URLSearchParams();
  if (KINDS.includes(kind)) q.set('kind', kind);
  if (title.trim()) q.set('title', title);
  const s = q.toString();
  return s ? `?${s}` : '';
}

export function isFiltered(f) {
  return Boolean(f.kind || f.title);
}

/** "vegan pizzas with “mar” in the title", "pizzas" without a filter. */
export function filterPhrase({ kind = '', title = '' }) {
  return `${kind ? `${kind} ` : ''}pizzas${title ? ` with “${title}” in the title` : ''}`;
}

/** What Shuffle says once every pizza of the filter is judged. */
export function exhaustedText(f) {
  return isFiltered(f)
    ? `No more ${filterPhrase(f)} to judge.`
    : 'You have judged every pizza on the menu. New pizzas appear once an admin approves them.';
}

/** The query of one page of the filter's pizzas. */
export function pageQuery({ kind = '', title = '' }, offset) {
  const q = new URLSearchParams({ status: 'approved' });
  if (kind) q.set('kind', kind);
  if (title) q.set('title__icontains', title);
  q.set('limit', String(PAGE));
  q.set('offset', String(offset));
  return `?${q}`;
}

function shuffled(list, random) {
  const a = [...list];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** A ShuffleQueue fetchBatch over a filter: fetchPage(query) answers a page of pizzas
 *  ({results, count}); isKnown(id) tells the pizzas judged or queued already. The filter's
 *  pizzas are read once and handed out in a random order; once all are handed out, the next
 *  call reads them again (new approvals show up, the known ones are left out). `before` (a
 *  promise, e.g. the judged ids arriving) is awaited first. */
export function filteredBatches(filter, { fetchPage, isKnown, random = Math.random, before = null }) {
  let pool = [];
  async function readAll() {
    const all = [];
    for (let offset = 0; offset < MAX_PIZZAS; offset += PAGE) {
      const page = await fetchPage(pageQuery(filter, offset));
      const results = (page && page.results) || [];
      all.push(...results);
      if (results.length < PAGE || all.length >= (page.count ?? 0)) break;
    }
    return shuffled(all, random);
  }
  return async (n) => {
    if (before) await Promise.resolve(before).catch(() => {});
    pool = pool.filter((p) => !isKnown(p.id));
    if (pool.length === 0) pool = (await readAll()).filter((p) => !isKnown(p.id));
    return pool.splice(0, n);
  };
}
