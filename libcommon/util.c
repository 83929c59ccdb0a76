/* util.c -- ids, clocks and small string helpers.
 *
 * Ids are MongoDB ObjectIds made by libbson (bson_oid_init with the default, thread-safe
 * context), printed as 24 lowercase hex characters. id_valid() accepts exactly that form:
 * 24 characters of [0-9a-f]. Uppercase hex is rejected on purpose so one id has exactly one
 * spelling (ids are compared and indexed as strings).
 *
 * Clocks: now_ms() is the wall clock (CLOCK_REALTIME) for timestamps, mono_ns() is
 * CLOCK_MONOTONIC for durations. iso_time() prints UTC as "YYYY-MM-DDTHH:MM:SS.mmmZ"
 * (gmtime_r + strftime + milliseconds), which sorts as a string for years 0000..9999.
 *
 * utf8_len() is a strict validator following Unicode Table 3-7 (well-formed byte sequences):
 * it rejects stray continuation bytes, overlong forms, UTF-16 surrogates (U+D800..U+DFFF),
 * code points above U+10FFFF and sequences cut short by the end of the buffer. A NUL byte
 * inside the buffer is U+0000 and counts as one code point. utf8_decode() reads one sequence
 * by the same rules; utf8_scrub() replaces every byte that does not start a well-formed
 * sequence with U+FFFD (one per byte: "\xE2\x82", cut short, becomes two), which is how
 * writers that must emit UTF-8 (log lines, problem documents) pass on bytes they were given. */
#include "util.h"

#include "alloc.h"

#include <sodium.h>

#include <bson/bson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void id_new(char out[ID_LEN + 1]) {
    bson_oid_t oid;
    bson_oid_init(&oid, NULL);
    bson_oid_to_string(&oid, out);
}

bool id_valid(const char *s) {
    if (!s) return false;
    for (int i = 0; i < ID_LEN; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false; /* also stops at a NUL shorter than 24 */
    }
    return s[ID_LEN] == '\0';
}

int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void iso_time(int64_t ms, char out[32]) {
    /* Floor division so that times before 1970 still get 0..999 milliseconds. */
    int64_t secs = ms / 1000, frac = ms % 1000;
    if (frac < 0) {
        frac += 1000;
        secs -= 1;
    }
    time_t t = (time_t)secs;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
        str_copy(out, "1970-01-01T00:00:00.000Z", 32);
        return;
    }
    size_t n = strlen(out);
    snprintf(out + n, 32 - n, ".%03dZ", (int)frac);
}

void iso_now(char out[32]) { iso_time(now_ms(), out); }

size_t str_copy(char *dst, const char *src, size_t n) {
    if (n == 0) return 0;
    size_t len = src ? strnlen(src, n - 1) : 0;
    if (len) memcpy(dst, src, len);
    dst[len] = '\0';
    return len;
}

char *str_lower(const char *s) {
    if (!s) return NULL;
    size_t n = strlen(s);
    char *out = xmalloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = (c >= 'A' && c <= 'Z') ? (char)(c + ('a' - 'A')) : (char)c;
    }
    out[n] = '\0';
    return out;
}

/* Length of the well-formed sequence starting at p (at most `left` bytes), or 0 if
 * ill-formed. Second-byte ranges are from Unicode Table 3-7. */
static size_t utf8_seq(const unsigned char *p, size_t left) {
    unsigned char c = p[0];
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */

    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        if (c == 0xE0) lo = 0xA0; /* overlong */
        if (c == 0xED) hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        if (c == 0xF0) lo = 0x90; /* overlong */
        if (c == 0xF4) hi = 0x8F; /* above U+10FFFF */
    } else {
        return 0; /* continuation byte, C0/C1 overlong lead, or F5..FF */
    }
    if (left < need) return 0;
    if (p[1] < lo || p[1] > hi) return 0;
    for (size_t i = 2; i < need; i++)
        if (p[i] < 0x80 || p[i] > 0xBF) return 0;
    return need;
}

long utf8_len(const char *s, size_t n) {
    if (!s) return n == 0 ? 0 : -1;
    const unsigned char *p = (const unsigned char *)s;
    long count = 0;
    size_t i = 0;
    while (i < n) {
        size_t k = utf8_seq(p + i, n - i);
        if (k == 0) return -1;
        i += k;
        count++;
    }
    return count;
}

long utf8_decode(const char *s, size_t n, size_t *len) {
    const unsigned char *p = (const unsigned char *)s;
    size_t k = n ? utf8_seq(p, n) : 0;
    *len = k ? k : 1;
    if (k == 0) return -1;
    static const unsigned char lead_mask[] = {0, 0x7F, 0x1F, 0x0F, 0x07};
    long c = p[0] & lead_mask[k];
    for (size_t i = 1; i < k; i++) c = (c << 6) | (p[i] & 0x3F);
    return c;
}

char *utf8_scrub(const char *s, size_t n, size_t *out_len) {
    static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */
    const unsigned char *p = (const unsigned char *)s;
    size_t bad = 0;
    for (size_t i = 0; i < n;) {
        size_t k = utf8_seq(p + i, n - i);
        bad += k == 0;
        i += k ? k : 1;
    }
    char *out = xmalloc(n + 2 * bad + 1); /* each bad byte grows by two */
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t k = utf8_seq(p + i, n - i);
        if (k == 0) {
            memcpy(out + o, replacement, 3);
            o += 3;
            i++;
        } else {
            memcpy(out + o, p + i, k);
            o += k;
            i += k;
        }
    }
    out[o] = '\0';
    if (out_len) *out_len = o;
    return out;
}

long jitter_half(long max) {
    if (sodium_init() < 0) return max; /* cannot happen after the first success */
    return max / 2 + (long)randombytes_uniform((uint32_t)(max / 2 + 1));
}
