/* ratelimit -- token buckets keyed by a string, behind one mutex per limiter.
 *
 * Design. Each key has a bucket {tokens, last}: on every take the bucket first refills by
 * (now - last) * rate tokens, capped at `burst`, then gives one token if it has a whole one.
 * When it has none, the wait until it has one is (1 - tokens) / rate, rounded up to whole
 * seconds (at least 1) for Retry-After.
 *
 * Buckets live in a chained hash table (power-of-two size, doubled when the load passes 1)
 * and on a doubly linked list ordered by last use, most recent first. A bucket that has been
 * idle long enough to be full again is indistinguishable from no bucket, so each take drops
 * a few such buckets from the old end of the list; memory thus follows the number of
 * recently active keys. A hard cap (RATELIMIT_MAX_KEYS) evicts the least recently used
 * bucket when a new key arrives on a full limiter.
 *
 * ratelimit_give() puts one token back (capped at the burst) for callers that take a token
 * before they know whether the attempt counts (a login counts only when it fails).
 *
 * Time is CLOCK_MONOTONIC in nanoseconds, read through a hook so unit tests can drive it
 * (ratelimit_set_clock_for_test, declared by the tests only: not part of the contract).
 *
 * Ownership: the limiter owns its buckets and their key copies. */
#include "ratelimit.h"

#include "alloc.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RATELIMIT_MAX_KEYS      100000
#define RATELIMIT_SWEEP         4 /* idle buckets examined per take */
#define RATELIMIT_INITIAL_SLOTS 64

typedef struct bucket {
    char *key;
    uint64_t hash;
    double tokens;
    uint64_t last_ns;
    struct bucket *chain;         /* next in the hash slot */
    struct bucket *newer, *older; /* use order */
} bucket_t;

struct ratelimit {
    pthread_mutex_t lock;
    double rate; /* tokens per second */
    double burst;
    bucket_t **slots;
    size_t nslots; /* power of two */
    size_t count;
    bucket_t *newest, *oldest;
};

/* ---- clock ---- */

static uint64_t mono_clock_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t (*clock_ns)(void) = mono_clock_ns;

/* Test hook: replaces the clock (NULL restores the monotonic clock). Not thread-safe. */
void ratelimit_set_clock_for_test(uint64_t (*fn)(void));
void ratelimit_set_clock_for_test(uint64_t (*fn)(void)) { clock_ns = fn ? fn : mono_clock_ns; }

/* ---- table ---- */

static uint64_t hash_key(const char *s) {
    uint64_t h = 1469598103934665603u; /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

static bucket_t **slot_of(ratelimit_t *rl, uint64_t hash) {
    return &rl->slots[hash & (rl->nslots - 1)];
}

static bucket_t *find(ratelimit_t *rl, const char *key, uint64_t hash) {
    for (bucket_t *b = *slot_of(rl, hash); b; b = b->chain)
        if (b->hash == hash && strcmp(b->key, key) == 0) return b;
    return NULL;
}

static void grow(ratelimit_t *rl) {
    size_t n = rl->nslots * 2;
    bucket_t **slots = xcalloc(n, sizeof *slots);
    for (size_t i = 0; i < rl->nslots; i++) {
        bucket_t *b = rl->slots[i], *next;
        for (; b; b = next) {
            next = b->chain;
            b->chain = slots[b->hash & (n - 1)];
            slots[b->hash & (n - 1)] = b;
        }
    }
    free(rl->slots);
    rl->slots = slots;
    rl->nslots = n;
}

static void list_unlink(ratelimit_t *rl, bucket_t *b) {
    if (b->newer)
        b->newer->older = b->older;
    else
        rl->newest = b->older;
    if (b->older)
        b->older->newer = b->newer;
    else
        rl->oldest = b->newer;
    b->newer = b->older = NULL;
}

static void list_push_newest(ratelimit_t *rl, bucket_t *b) {
    b->older = rl->newest;
    b->newer = NULL;
    if (rl->newest) rl->newest->newer = b;
    rl->newest = b;
    if (!rl->oldest) rl->oldest = b;
}

static void drop(ratelimit_t *rl, bucket_t *b) {
    bucket_t **pp = slot_of(rl, b->hash);
    while (*pp != b) pp = &(*pp)->chain;
    *pp = b->chain;
    list_unlink(rl, b);
    rl->count--;
    free(b->key);
    free(b);
}

static bucket_t *add(ratelimit_t *rl, const char *key, uint64_t hash, uint64_t now) {
    if (rl->count >= RATELIMIT_MAX_KEYS && rl->oldest) drop(rl, rl->oldest);
    if (rl->count >= rl->nslots) grow(rl);
    bucket_t *b = xcalloc(1, sizeof *b);
    b->key = xstrdup(key);
    b->hash = hash;
    b->tokens = rl->burst;
    b->last_ns = now;
    bucket_t **slot = slot_of(rl, hash);
    b->chain = *slot;
    *slot = b;
    list_push_newest(rl, b);
    rl->count++;
    return b;
}

/* ---- buckets ---- */

static double tokens_at(const ratelimit_t *rl, const bucket_t *b, uint64_t now) {
    double elapsed_s = now > b->last_ns ? (double)(now - b->last_ns) / 1e9 : 0.0;
    double t = b->tokens + elapsed_s * rl->rate;
    return t < rl->burst ? t : rl->burst;
}

/* Forgets up to RATELIMIT_SWEEP of the oldest buckets that are full again. */
static void sweep(ratelimit_t *rl, uint64_t now) {
    for (int i = 0; i < RATELIMIT_SWEEP && rl->oldest; i++) {
        if (tokens_at(rl, rl->oldest, now) < rl->burst) break;
        drop(rl, rl->oldest);
    }
}

static int retry_after(const ratelimit_t *rl, double tokens) {
    /* The epsilon keeps float noise (10.000000000000002) from adding a second. */
    double s = ceil((1.0 - tokens) / rl->rate - 1e-6);
    if (!(s >= 1.0)) return 1;
    return s > 86400.0 ? 86400 : (int)s;
}

/* ---- API ---- */

ratelimit_t *ratelimit_new(double per_minute, double burst) {
    if (!isfinite(per_minute) || !isfinite(burst) || per_minute <= 0 || burst < 1) return NULL;
    ratelimit_t *rl = xcalloc(1, sizeof *rl);
    rl->slots = xcalloc(RATELIMIT_INITIAL_SLOTS, sizeof *rl->slots);
    rl->nslots = RATELIMIT_INITIAL_SLOTS;
    rl->rate = per_minute / 60.0;
    rl->burst = burst;
    pthread_mutex_init(&rl->lock, NULL);
    return rl;
}

void ratelimit_free(ratelimit_t *rl) {
    if (!rl) return;
    while (rl->oldest) drop(rl, rl->oldest);
    free(rl->slots);
    pthread_mutex_destroy(&rl->lock);
    free(rl);
}

bool ratelimit_take(ratelimit_t *rl, const char *key, int *retry_after_s) {
    if (!rl || !key) return true;
    uint64_t hash = hash_key(key);
    bool ok = true;

    pthread_mutex_lock(&rl->lock);
    uint64_t now = clock_ns();
    sweep(rl, now);
    bucket_t *b = find(rl, key, hash);
    if (!b) b = add(rl, key, hash, now);
    b->tokens = tokens_at(rl, b, now);
    if (now > b->last_ns) b->last_ns = now;
    list_unlink(rl, b);
    list_push_newest(rl, b);
    if (b->tokens >= 1.0) {
        b->tokens -= 1.0;
    } else {
        ok = false;
        if (retry_after_s) *retry_after_s = retry_after(rl, b->tokens);
    }
    pthread_mutex_unlock(&rl->lock);
    return ok;
}

void ratelimit_reset(ratelimit_t *rl, const char *key) {
    if (!rl || !key) return;
    uint64_t hash = hash_key(key);
    pthread_mutex_lock(&rl->lock);
    bucket_t *b = find(rl, key, hash);
    if (b) drop(rl, b);
    pthread_mutex_unlock(&rl->lock);
}

void ratelimit_give(ratelimit_t *rl, const char *key) {
    if (!rl || !key) return;
    uint64_t hash = hash_key(key);
    pthread_mutex_lock(&rl->lock);
    bucket_t *b = find(rl, key, hash);
    if (b) {
        uint64_t now = clock_ns();
        b->tokens = tokens_at(rl, b, now) + 1.0;
        if (b->tokens > rl->burst) b->tokens = rl->burst;
        if (now > b->last_ns) b->last_ns = now;
    }
    pthread_mutex_unlock(&rl->lock);
}
