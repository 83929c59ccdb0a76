import { describe, expect, it, vi } from 'vitest';
import { ShuffleQueue } from './shuffleQueue.js';

const pz = (id) => ({ id, title: `Pizza ${id}` });

// A server with approved pizzas `ids` that answers `count` random ones, excluding `seen`
// unless told to ignore them (as pizza does when likes is down).
function server(ids, { excludeSeen = true } = {}) {
  const seen = new Set();
  const fetchBatch = vi.fn(async (count) => {
    const pool = ids.filter((id) => !excludeSeen || !seen.has(id));
    for (let i = pool.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [pool[i], pool[j]] = [pool[j], pool[i]];
    }
    return pool.slice(0, count).map(pz);
  });
  return { fetchBatch, judge: (id) => seen.add(id) };
}

async function drain(q, s) {
  const shown = [];
  await q.fill();
  for (let i = 0; i < 100 && q.current(); i++) {
    const p = q.current();
    shown.push(p.id);
    s.judge(p.id);
    q.next();
    await q.pending;
  }
  return shown;
}

describe('ShuffleQueue', () => {
  it('shows every pizza exactly once, then is exhausted', async () => {
    const ids = Array.from({ length: 23 }, (_, i) => `p${i}`);
    const s = server(ids);
    const q = new ShuffleQueue({ fetchBatch: s.fetchBatch, batchSize: 5, lowWater: 2 });
    const shown = await drain(q, s);
    expect(shown.sort()).toEqual([...ids].sort());
    expect(q.state().exhausted).toBe(true);
    expect(q.current()).toBeNull();
  });

  it('never repeats even when the server does not exclude judged pizzas', async () => {
    const ids = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    const s = server(ids, { excludeSeen: false });
    const q = new ShuffleQueue({ fetchBatch: s.fetchBatch, batchSize: 3, lowWater: 1 });
    const shown = [];
    await q.fill();
    for (let i = 0; i < 200 && !q.state().exhausted; i++) {
      if (q.current()) {
        shown.push(q.current().id);
        q.next();
      }
      await q.pending;
      if (!q.current() && !q.state().exhausted) await q.fill();
    }
    expect(new Set(shown).size).toBe(shown.length);
    expect(q.state().exhausted || shown.length === ids.length).toBe(true);
  });

  it('prefetches the next batch before the queue runs out', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `p${i}`);
    const s = server(ids);
    const q = new ShuffleQueue({ fetchBatch: s.fetchBatch, batchSize: 5, lowWater: 2 });
    await q.fill();
    expect(s.fetchBatch).toHaveBeenCalledTimes(1);
    expect(q.state().queued).toBe(5);
    s.judge(q.current().id); q.next(); // 4 left
    s.judge(q.current().id); q.next(); // 3 left
    expect(s.fetchBatch).toHaveBeenCalledTimes(1);
    s.judge(q.current().id); q.next(); // 2 left: at the low-water mark, fetch
    expect(s.fetchBatch).toHaveBeenCalledTimes(2);
    expect(q.current()).not.toBeNull(); // still something to show while it loads
    await q.pending;
    // The batch may repeat the 2 still queued (the server only excludes judged ones).
    const queued = q.queue.map((p) => p.id);
    expect(queued.length).toBeGreaterThanOrEqual(5);
    expect(new Set(queued).size).toBe(queued.length);
    expect(s.fetchBatch).toHaveBeenCalledWith(5);
  });

  it('drops pizzas judged before (likes/seen) and ones judged while a batch was in flight', async () => {
    const answers = [[pz('a'), pz('b'), pz('c')], [pz('b'), pz('d')]];
    const q = new ShuffleQueue({ fetchBatch: async () => answers.shift() || [], judged: ['a'], batchSize: 3, lowWater: 1 });
    await q.fill();
    expect(q.current().id).toBe('b');
    q.next(); // b judged; one (c) left -> fetch, whose answer repeats b
    await q.pending;
    expect(q.queue.map((p) => p.id)).toEqual(['c', 'd']);
    q.addJudged(['d']);
    expect(q.queue.map((p) => p.id)).toEqual(['c']);
  });

  it('does not hammer the server when it has nothing new while pizzas are still queued', async () => {
    const fetchBatch = vi.fn(async () => [pz('a'), pz('b')]);
    const q = new ShuffleQueue({ fetchBatch, batchSize: 5, lowWater: 2 });
    await q.fill(); // a, b queued; the follow-up fetch brings nothing new
    await q.pending;
    const calls = fetchBatch.mock.calls.length;
    expect(calls).toBe(2);
    await q.fill();
    expect(fetchBatch).toHaveBeenCalledTimes(calls);
    expect(q.state().exhausted).toBe(false);
    q.next();
    await q.pending;
    expect(fetchBatch).toHaveBeenCalledTimes(calls);
    q.next(); // empty now: ask again, nothing new -> exhausted
    await q.pending;
    expect(fetchBatch).toHaveBeenCalledTimes(calls + 1);
    expect(q.state().exhausted).toBe(true);
  });

  it('keeps the error of a failed batch and recovers on the next fill', async () => {
    let fail = true;
    const q = new ShuffleQueue({ fetchBatch: async () => { if (fail) throw new Error('pizza is down'); return [pz('x')]; } });
    await q.fill();
    expect(q.state().error.message).toBe('pizza is down');
    expect(q.state().exhausted).toBe(false);
    fail = false;
    await q.fill();
    expect(q.state().error).toBeNull();
    expect(q.current().id).toBe('x');
  });

  it('retry() leaves the exhausted state and finds newly approved pizzas', async () => {
    const ids = ['a'];
    const s = server(ids);
    const q = new ShuffleQueue({ fetchBatch: s.fetchBatch });
    expect(await drain(q, s)).toEqual(['a']);
    expect(q.state().exhausted).toBe(true);
    ids.push('new');
    await q.retry();
    expect(q.current().id).toBe('new');
  });

  it('shows the next two under the current one', async () => {
    const q = new ShuffleQueue({ fetchBatch: async () => ['a', 'b', 'c', 'd'].map(pz), lowWater: 0 });
    await q.fill();
    expect(q.state().current.id).toBe('a');
    expect(q.state().upcoming.map((p) => p.id)).toEqual(['b', 'c']);
    q.next();
    expect(q.state().upcoming.map((p) => p.id)).toEqual(['c', 'd']);
  });

  it('putBack() brings an undone pizza back on top, even after the last one, never twice', async () => {
    const ids = ['a', 'b'];
    const s = server(ids);
    const q = new ShuffleQueue({ fetchBatch: s.fetchBatch });
    const shown = await drain(q, s);
    expect(q.state().exhausted).toBe(true);
    const last = pz(shown[1]);
    q.putBack(last);
    expect(q.state().exhausted).toBe(false);
    expect(q.current()).toEqual(last);
    q.putBack(last);
    expect(q.state().queued).toBe(1);
    // a batch that brings it again does not queue it a second time
    await q.fill();
    expect(q.state().queued).toBe(1);
    q.next();
    expect(q.current()).toBeNull();
  });

  it('notifies subscribers on every change', async () => {
    const q = new ShuffleQueue({ fetchBatch: async () => [pz('a')] });
    const states = [];
    q.subscribe((st) => states.push(st));
    await q.fill();
    await q.pending;
    expect(states[0].loading).toBe(true);
    expect(states.some((st) => st.current && st.current.id === 'a' && !st.loading)).toBe(true);
  });
});
