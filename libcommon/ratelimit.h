/* ratelimit -- token buckets keyed by a string (client address, username), thread-safe.
 *
 * A bucket holds at most `burst` tokens and refills at `per_minute`/60 tokens per second.
 * Buckets idle long enough to be full again are forgotten, so memory stays bounded by the
 * number of recently active keys (and by a hard cap, evicting the oldest). */
#ifndef TIZZA_RATELIMIT_H
#define TIZZA_RATELIMIT_H

#include <stdbool.h>

typedef struct ratelimit ratelimit_t;

ratelimit_t *ratelimit_new(double per_minute, double burst);
void ratelimit_free(ratelimit_t *rl);
/* Takes one token for `key`. Returns true when allowed; when refused, *retry_after_s (may be
 * NULL) is the whole seconds until a token is available (>= 1). */
bool ratelimit_take(ratelimit_t *rl, const char *key, int *retry_after_s);
/* Forget `key` (e.g. after a successful login). */
void ratelimit_reset(ratelimit_t *rl, const char *key);
/* Gives back one token taken for `key` (an attempt that turned out not to count), never
 * above the burst. Nothing happens for a key without a bucket (it is full). */
void ratelimit_give(ratelimit_t *rl, const char *key);

#endif
