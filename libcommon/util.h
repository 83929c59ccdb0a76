/* util -- ids, clocks and small string helpers shared by every module.
 *
 * Ids are 24-hex ObjectIds made by libbson (on every backend). Timestamps are UTC ISO-8601
 * with milliseconds and 'Z' ("2026-11-25T08:02:56.123Z"), which sort as strings. */
#ifndef TIZZA_UTIL_H
#define TIZZA_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ID_LEN 24

/* Writes a fresh ObjectId as 24 lowercase hex chars + NUL into out[25]. */
void id_new(char out[ID_LEN + 1]);
/* True when s is exactly 24 hex chars. */
bool id_valid(const char *s);

/* Milliseconds since the epoch (wall clock) and a monotonic clock in ns. */
int64_t now_ms(void);
uint64_t mono_ns(void);

/* Formats epoch milliseconds as ISO-8601 UTC into out[25]. */
void iso_time(int64_t ms, char out[32]);
/* Current time, same format. */
void iso_now(char out[32]);

/* Copies src into dst (size n), always NUL-terminated; returns strlen(dst). */
size_t str_copy(char *dst, const char *src, size_t n);
/* ASCII lowercase copy (malloc'd). */
char *str_lower(const char *s);
/* Number of UTF-8 code points, or -1 when s is not valid UTF-8. */
long utf8_len(const char *s, size_t n);
/* The code point of the well-formed sequence at the start of s[0..n) (n > 0), its length in
 * *len; -1 with *len = 1 when the bytes there are not well-formed. */
long utf8_decode(const char *s, size_t n, size_t *len);
/* Copy of s[0..n) with each byte that does not start a well-formed sequence replaced by
 * U+FFFD, so the result is always valid UTF-8; NUL-terminated, malloc'd, its length in
 * *out_len (when not NULL). */
char *utf8_scrub(const char *s, size_t n, size_t *out_len);

/* A random pause length in [max/2, max] (libsodium's generator, thread-safe): the jitter of
 * the retry and reconnect backoffs. max >= 0. */
long jitter_half(long max);

#endif
