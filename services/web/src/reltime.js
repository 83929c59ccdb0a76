// Relative dates in the words of moment.js's fromNow(): "a few seconds ago", "a minute ago", "5 minutes ago", "an hour
// ago", "3 days ago", "a month ago", "2 years ago"; future dates read "in ...". The
// thresholds are moment's: 45 s, 45 min, 22 h, 26 d, 11 months (of 30.4 days).

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const MONTH = 30.436875 * DAY;
const YEAR = 365.2425 * DAY;

function phrase(ms) {
  const s = ms / SEC;
  if (s < 45) return 'a few seconds';
  if (s < 90) return 'a minute';
  const min = Math.round(ms / MIN);
  if (min < 45) return `${min} minutes`;
  if (min < 90) return 'an hour';
  const h = Math.round(ms / HOUR);
  if (h < 22) return `${h} hours`;
  if (h < 36) return 'a day';
  const d = Math.round(ms / DAY);
  if (d < 26) return `${d} days`;
  if (d < 45) return 'a month';
  const mo = Math.round(ms / MONTH);
  if (d < 320) return `${Math.max(mo, 2)} months`;
  if (d < 548) return 'a year';
  return `${Math.max(Math.round(ms / YEAR), 2)} years`;
}

/** "a few seconds ago" for `date` (Date, ISO string or epoch ms) seen at `now`;
 *  "" for a date that cannot be read. With `past` (for things that already happened, like a
 *  tweet) a date ahead of `now` -- the server's clock a bit ahead of the browser's -- reads
 *  as just now. */
export function fromNow(date, now = Date.now(), { past = false } = {}) {
  const t = date instanceof Date ? date.getTime() : typeof date === 'number' ? date : Date.parse(date);
  const n = now instanceof Date ? now.getTime() : now;
  if (!Number.isFinite(t) || !Number.isFinite(n)) return '';
  const diff = past ? Math.max(n - t, 0) : n - t;
  return diff >= 0 ? `${phrase(diff)} ago` : `in ${phrase(-diff)}`;
}
