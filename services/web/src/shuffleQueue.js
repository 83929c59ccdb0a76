// ShuffleQueue -- the pizzas waiting on the Shuffle screen, one shown at a time.
//
// It asks for a batch (fetchBatch(count) -> pizzas, e.g. GET /api/v1/pizzas/random?count=N)
// whenever no more than `lowWater` pizzas are left, so the next one is already there when the
// user judges the current one. It never holds or shows a pizza twice: ids already queued or
// judged (this session, plus `judged` given at start, e.g. GET /api/v1/likes/seen) are dropped
// from every batch, which also covers a batch that raced with a verdict still in flight or a
// pizza service that could not exclude seen pizzas (likes down).
//
// A batch that brings nothing new while pizzas are still queued means the server has no more
// than those: no new fetch until the queue runs dry. A batch that brings nothing new into an
// empty queue means everything is judged: `exhausted` until retry().
//
// An undone verdict puts its pizza back on top (putBack).
//
// Framework-free: subscribe(fn) is called after every change; state() is a snapshot.

export class ShuffleQueue {
  constructor({ fetchBatch, batchSize = 5, lowWater = 2, judged = [] }) {
    this.fetchBatch = fetchBatch;
    this.batchSize = batchSize;
    this.lowWater = lowWater;
    this.queue = [];
    this.known = new Set(judged); // judged or queued: never queued again
    this.loading = false;
    this.exhausted = false;
    this.dry = false; // last batch brought nothing new: wait until the queue is empty
    this.error = null;
    this.listeners = new Set();
    this.pending = null;
  }

  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit() {
    for (const fn of this.listeners) fn(this.state());
  }

  state() {
    return {
      current: this.queue[0] || null,
      upcoming: this.queue.slice(1, 3), // shown under the current one
      queued: this.queue.length,
      loading: this.loading,
      exhausted: this.exhausted,
      error: this.error,
    };
  }

  current() {
    return this.queue[0] || null;
  }

  /** Ids known to have been judged (and so never to be shown again) or now queued. */
  isKnown(id) {
    return this.known.has(id);
  }

  /** Marks pizzas judged elsewhere (e.g. a late /likes/seen) and drops them from the queue. */
  addJudged(ids) {
    for (const id of ids) this.known.add(id);
    const before = this.queue.length;
    this.queue = this.queue.filter((p) => !ids.includes(p.id));
    if (this.queue.length !== before) {
      this.emit();
      this.fill();
    }
  }

  /** Fetches a batch when the queue is low; resolves when that fetch (if any) is done. */
  fill() {
    if (this.pending) return this.pending;
    if (this.exhausted || this.queue.length > this.lowWater) return Promise.resolve();
    if (this.dry && this.queue.length > 0) return Promise.resolve();
    this.loading = true;
    this.error = null;
    this.emit();
    let batch;
    try {
      batch = Promise.resolve(this.fetchBatch(this.batchSize)); // asked at once, not on a later tick
    } catch (e) {
      batch = Promise.reject(e);
    }
    this.pending = batch
      .then(
        (batch) => {
          let added = 0;
          for (const p of batch || []) {
            if (!p || !p.id || this.known.has(p.id)) continue;
            this.known.add(p.id);
            this.queue.push(p);
            added++;
          }
          this.dry = added === 0;
          if (added === 0 && this.queue.length === 0) this.exhausted = true;
        },
        (err) => {
          this.error = err;
        },
      )
      .finally(() => {
        this.loading = false;
        this.pending = null;
        this.emit();
      })
      .then(() => {
        // A batch that only refilled up to lowWater (or less) asks again at once.
        if (!this.error && !this.dry && this.queue.length <= this.lowWater) return this.fill();
        return undefined;
      });
    return this.pending;
  }

  /** The current pizza was judged: it goes (for good) and the queue refills if low. */
  next() {
    const done = this.queue.shift();
    if (done) this.known.add(done.id);
    if (this.queue.length === 0) this.dry = false;
    this.emit();
    this.fill();
    return this.current();
  }

  /** An undone verdict: the pizza goes back on top (it stays known, so no batch repeats it). */
  putBack(pizza) {
    this.known.add(pizza.id);
    this.queue = [pizza, ...this.queue.filter((p) => p.id !== pizza.id)];
    this.exhausted = false;
    this.emit();
  }

  /** Leaves the exhausted state (new pizzas may have been approved since) and fetches. */
  retry() {
    this.exhausted = false;
    this.dry = false;
    this.error = null;
    return this.fill();
  }
}
