/* query -- query strings and the numbers and id lists in them (see query.h).
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

#define STR_(x) #x
#define STR(x)  STR_(x)

static int ids_fail(query_ids_t *out, const char **why, const char *msg) {
    out->n = 0;
    *why = msg;
    return -1;
}

int query_ids(const char *list, query_ids_t *out, const char **why) {
    static const char not_ids[] = "must be a comma-separated list of 24-hex ids";
    out->n = 0;
    char *dst = out->buf;
    for (const char *item = list ? list : "";;) {
        const char *comma = strchr(item, ',');
        size_t len = comma ? (size_t)(comma - item) : strlen(item);
        if (out->n == QUERY_IDS_MAX)
            return ids_fail(out, why, "at most " STR(QUERY_IDS_MAX) " ids");
        if (len != ID_LEN) return ids_fail(out, why, not_ids);
        memcpy(dst, item, len);
        dst[len] = '\0';
        if (!id_valid(dst)) return ids_fail(out, why, not_ids);
        out->id[out->n++] = dst;
        dst += len + 1;
        if (!comma) return 0;
        item = comma + 1;
    }
}
