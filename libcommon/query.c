/* query -- query strings and the numbers in them (see query.h).
 *
 * The pairs come from evhttp_parse_query_str() into a libevent header list, which is
 * all-or-nothing: it fails on the first malformed pair and then holds nothing usable. */
#include "query.h"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

int query_parse(const char *qs, query_pair_fn fn, void *ctx) {
    struct evkeyvalq q;
    TAILQ_INIT(&q);
    int n = -1;
    if (evhttp_parse_query_str(qs, &q) == 0) {
        struct evkeyval *kv;
        n = 0;
        TAILQ_FOREACH(kv, &q, next) {
            fn(kv->key, kv->value, ctx);
            n++;
        }
    }
    evhttp_clear_headers(&q);
    return n;
}

int query_nonneg(const char *s, long *out) {
    if (!s || !*s || strlen(s) > 9) return -1;
    for (const char *p = s; *p; p++)
        if (*p < '0' || *p > '9') return -1;
    *out = strtol(s, NULL, 10);
    return 0;
}

int query_page(const char *limit, const char *offset, long *limit_out, long *offset_out) {
    int bad = 0;
    long v;
    if (limit) {
        if (query_nonneg(limit, &v) == 0 && v >= 1 && v <= QUERY_LIMIT_MAX)
            *limit_out = v;
        else
            bad |= QUERY_BAD_LIMIT;
    }
    if (offset) {
        if (query_nonneg(offset, &v) == 0)
            *offset_out = v;
        else
            bad |= QUERY_BAD_OFFSET;
    }
    return bad;
}
