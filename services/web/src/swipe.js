// Swipe gestures and keys of the Shuffle card (pure: no DOM). A drag becomes a swipe once it
// moves DRAG_SLOP px, sideways more than up or down (else it is left to the page: a scroll).
// Released, it is a verdict when it went far enough (swipeThreshold of the card's width) or
// was flicked (fast at release, in the direction of the drag); otherwise the card goes back.

export const DRAG_SLOP = 8; // px before a pointer move counts as a drag
export const FLICK_MIN = 40; // px a flick must travel
export const FLICK_SPEED = 0.6; // px/ms at release
export const VELOCITY_WINDOW = 100; // ms of movement the release speed is measured over

/** The distance a drag must cover to judge: 30% of the card, between 80 and 160 px. */
export function swipeThreshold(width) {
  return Math.min(160, Math.max(80, width * 0.3));
}

/** -1..1: how close a drag is to a verdict (drives the LIKE/NOPE stamps). */
export function swipeProgress(dx, width) {
  return Math.max(-1, Math.min(1, dx / swipeThreshold(width)));
}

/** 'swipe' once a move is a sideways drag, 'scroll' when it is vertical, null before. */
export function dragIntent(dx, dy) {
  if (Math.abs(dx) < DRAG_SLOP && Math.abs(dy) < DRAG_SLOP) return null;
  return Math.abs(dx) > Math.abs(dy) ? 'swipe' : 'scroll';
}

/** px/ms over the samples ({x, t}, oldest first) of the last VELOCITY_WINDOW ms before `now`;
 *  0 when the pointer rested before release. */
export function releaseVelocity(samples, now) {
  const recent = samples.filter((s) => now - s.t <= VELOCITY_WINDOW);
  if (recent.length < 2) return 0;
  const a = recent[0];
  const b = recent[recent.length - 1];
  return b.t > a.t ? (b.x - a.x) / (b.t - a.t) : 0;
}

/** 'like', 'dislike' or null (the card goes back) for a released drag. */
export function swipeVerdict({ dx, dy = 0, vx = 0, width }) {
  if (Math.abs(dx) <= Math.abs(dy)) return null;
  const far = Math.abs(dx) >= swipeThreshold(width);
  const flick = Math.abs(dx) >= FLICK_MIN && Math.abs(vx) >= FLICK_SPEED && Math.sign(vx) === Math.sign(dx);
  if (!far && !flick) return null;
  return dx > 0 ? 'like' : 'dislike';
}

/** 'like' for →, 'dislike' for ←; null for other keys, with a modifier (Alt+← is the
 *  browser's Back), a held key's repeats, or while typing in a field. */
export function keyVerdict(e) {
  if (e.defaultPrevented || e.repeat || e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return null;
  const t = e.target;
  if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName || ''))) return null;
  if (e.key === 'ArrowRight') return 'like';
  if (e.key === 'ArrowLeft') return 'dislike';
  return null;
}
