/* fuzz_route -- a request's method and target through routing (route.h) and query parsing
 * (query.h), as the server does it for every request (http_req.c, http_router.c).
 *
 * Input: "METHOD target", e.g. "GET /api/v1/likes/abc?limit=5" (no space: the whole input
 * is the target, the method GET), cut at its first NUL. The target is split as the server
 * splits it (libevent's URI parser; when that refuses it, which wire.c answers with 400, at
 * its first '?'), then the path is matched in two tables: the routes of every service (their
 * http_route() calls, copied from services/) and a table of edge cases (ties, the deepest
 * pattern, parameters only).
 *
 * Checked (abort when broken):
 *   route_match  picks the route the matcher http.c had before route.c picks (strtok_r over
 *                a copy, fewest parameters, then the first registered); no match gives
 *                *nparams == 0; a match gives route_nparams() parameters in pattern order,
 *                each a whole non-empty segment of the path, inside it, named as in the
 *                pattern, and writes nothing past them;
 *   route_param_value  is the segment percent-decoded (a model decoder);
 *   route_method is the data registered for exactly that method, NULL for any other
 *                string (HEAD, OPTIONS, the input's own method);
 *   route_allow  lists exactly the registered methods in order, HEAD after GET, then
 *                OPTIONS; cut to any shorter buffer, it is a terminated prefix;
 *   query_parse  gives the pairs of a model of libevent's reading (query.h), or -1 and no
 *                pair exactly when the model finds it malformed;
 *   query_nonneg accepts exactly 1 to 9 ASCII digits, with strtol()'s value; refuses
 *                anything else (sign, space, more digits) leaving its output alone;
 *   query_page   flags exactly the present limit/offset that query_nonneg refuses or that
 *                are out of range, and sets only the good ones. */
#include "fuzz.h"
#include "query.h"
#include "route.h"

#include <errno.h>
#include <event2/http.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct reg {
    const char *method, *pattern;
};

/* In the order the services register them: http_server_new()'s own routes, then auth
 * (main.c), pizza (pizzerias.c, pizzas.c), likes (likes.c), tweets (tweets.c). */
static const struct reg services[] = {
    {"GET", "/health"},
    {"GET", "/ready"},
    {"GET", "/metrics"},
    {"GET", "/info"},
    {"GET", "/openapi.yaml"},
    {"POST", "/api/v1/auth/signup"},
    {"POST", "/api/v1/users"},
    {"POST", "/api/v1/auth/login"},
    {"POST", "/api/v1/auth/refresh"},
    {"POST", "/api/v1/auth/logout"},
    {"GET", "/api/v1/auth/me"},
    {"GET", "/api/v1/auth/jwks"},
    {"GET", "/api/v1/users"},
    {"GET", "/api/v1/users/{id}"},
    {"PATCH", "/api/v1/users/{id}"},
    {"DELETE", "/api/v1/users/{id}"},
    {"GET", "/api/v1/users/{id}/erasure"},
    {"GET", "/api/v1/pizzerias"},
    {"POST", "/api/v1/pizzerias"},
    {"GET", "/api/v1/pizzerias/{id}"},
    {"PUT", "/api/v1/pizzerias/{id}"},
    {"PATCH", "/api/v1/pizzerias/{id}"},
    {"DELETE", "/api/v1/pizzerias/{id}"},
    {"GET", "/api/v1/pizzas"},
    {"POST", "/api/v1/pizzas"},
    {"GET", "/api/v1/pizzas/random"},
    {"GET", "/api/v1/pizzas/{id}"},
    {"PUT", "/api/v1/pizzas/{id}"},
    {"PATCH", "/api/v1/pizzas/{id}"},
    {"DELETE", "/api/v1/pizzas/{id}"},
    {"GET", "/api/v1/likes"},
    {"GET", "/api/v1/likes/seen"},
    {"GET", "/api/v1/likes/counts"},
    {"PUT", "/api/v1/likes/{pizza_id}"},
    {"GET", "/api/v1/likes/{pizza_id}"},
    {"DELETE", "/api/v1/likes/{pizza_id}"},
    {"GET", "/api/v2/tweets"},
    {"POST", "/api/v2/tweets"},
    {"GET", "/api/v2/tweets/{id}"},
    {"DELETE", "/api/v2/tweets/{id}"},
};

static const struct reg edges[] = {
    {"GET", "/"},
    {"PUT", "/{a}/{b}"},
    {"GET", "/{a}/{b}"},
    {"GET", "/t/{b}/x"}, /* ties with the next one on "/t/y/x": registered first, it wins */
    {"DELETE", "/t/y/{c}"},
    {"PATCH", "/t/{d}/{e}"},
    {"POST", "/t/{d}/{e}"},
    {"GET", "/x/%41/{p}"}, /* literals compare encoded: "/x/A/1" is not this */
    {"POST", "/{s0}/{s1}/{s2}/{s3}/{s4}/{s5}/{s6}/{s7}/{s8}/{s9}/{s10}/{s11}/{s12}/{s13}/{s14}/"
             "{s15}"},
    {"GET", "/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/{last}"},
    {"DELETE", "/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/{last}"},
    {"PUT", "/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/{last}"},
    {"PATCH", "/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/{last}"},
    {"POST", "/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/{last}"},
};

struct table {
    const struct reg *regs;
    size_t nregs;
    route_table_t *t;
    const char *patterns[64]; /* distinct, in order of first registration */
    int npatterns;
};

static struct table tables[2] = {
    {services, sizeof services / sizeof services[0], NULL, {0}, 0},
    {edges, sizeof edges / sizeof edges[0], NULL, {0}, 0},
};

static void table_init(struct table *tb) {
    tb->t = route_table_new();
    for (size_t i = 0; i < tb->nregs; i++) {
        check(route_add(tb->t, tb->regs[i].method, tb->regs[i].pattern, (void *)&tb->regs[i]) == 0);
        int seen = 0;
        for (int j = 0; j < tb->npatterns; j++)
            seen |= !strcmp(tb->patterns[j], tb->regs[i].pattern);
        if (!seen) tb->patterns[tb->npatterns++] = tb->regs[i].pattern;
    }
    check(route_count(tb->t) == tb->npatterns);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) table_init(&tables[i]);
    return 0;
}

/* ---- models ---- */

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* s[0..n) percent-decoded into out (n + 1 bytes), '+' a space when plus; a NUL ends it. */
static void decode(const char *s, size_t n, int plus, char *out) {
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '+' && plus) {
            c = ' ';
        } else if (c == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            c = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        }
        out[j++] = c;
    }
    out[j] = '\0';
}

/* The matcher of http.c before route.c: the index in tb->patterns of the route for path, or
 * -1; the path's segments as pointers into `copy` (a copy of path, cut by strtok_r). */
static int old_match(const struct table *tb, const char *path, char *copy, char *segs[16],
                     int *nsegs) {
    strcpy(copy, path);
    int n = 0;
    char *save = NULL;
    for (char *t = strtok_r(copy, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
        if (n == 16) return -1;
        segs[n++] = t;
    }
    *nsegs = n;
    int best = -1, best_params = 0;
    for (int i = 0; i < tb->npatterns; i++) {
        char pat[256], *psegs[16], *psave = NULL;
        snprintf(pat, sizeof pat, "%s", tb->patterns[i]);
        int m = 0, params = 0, ok = 1;
        for (char *t = strtok_r(pat, "/", &psave); t; t = strtok_r(NULL, "/", &psave)) {
            psegs[m++] = t;
            params += t[0] == '{';
        }
        if (m != n) continue;
        for (int j = 0; j < n && ok; j++)
            if (psegs[j][0] != '{' && strcmp(psegs[j], segs[j]) != 0) ok = 0;
        if (ok && (best < 0 || params < best_params)) {
            best = i;
            best_params = params;
        }
    }
    return best;
}

/* ---- checks ---- */

static void check_route(const struct table *tb, const char *path, const char *method, size_t cut) {
    size_t plen = strlen(path);
    char *copy = malloc(plen + 1), *segs[16];
    int nsegs = 0, want = old_match(tb, path, copy, segs, &nsegs);

    route_param_t params[ROUTE_MAX_SEGS];
    memset(params, 0xa5, sizeof params);
    int n = -1;
    const route_t *r = route_match(tb->t, path, params, &n);
    if (!r) {
        check(want < 0);
        check(n == 0);
        free(copy);
        return;
    }
    check(want >= 0);
    check(strcmp(route_pattern(r), tb->patterns[want]) == 0);
    check(n == route_nparams(r) && n >= 0 && n <= ROUTE_MAX_SEGS);
    route_param_t untouched;
    memset(&untouched, 0xa5, sizeof untouched);
    for (int i = n; i < ROUTE_MAX_SEGS; i++)
        check(memcmp(&params[i], &untouched, sizeof untouched) == 0);

    /* the parameters: the pattern's "{name}" segments, in order, on the path's segments */
    const char *pat = route_pattern(r);
    int k = 0;
    for (int j = 0; j < nsegs; j++) {
        while (*pat == '/') pat++;
        size_t sl = strcspn(pat, "/");
        if (pat[0] == '{') {
            check(k < n);
            const route_param_t *p = &params[k++];
            check(strlen(p->name) == sl - 2 && memcmp(p->name, pat + 1, sl - 2) == 0);
            check(p->len >= 1 && p->off < plen && p->len <= plen - p->off);
            check(p->off == (size_t)(segs[j] - copy) && p->len == strlen(segs[j]));
            check(p->off == 0 || path[p->off - 1] == '/');
            check(path[p->off + p->len] == '/' || path[p->off + p->len] == '\0');
            check(!memchr(path + p->off, '/', p->len));
            char *v = route_param_value(path, p), *dec = malloc(p->len + 1);
            decode(path + p->off, p->len, 0, dec);
            check(strcmp(v, dec) == 0);
            free(v);
            free(dec);
        }
        pat += sl;
    }
    check(k == n);
    free(copy);

    /* methods: what was registered for this pattern, nothing else */
    char want_allow[128] = "";
    for (size_t i = 0; i < tb->nregs; i++) {
        if (strcmp(tb->regs[i].pattern, route_pattern(r)) != 0) continue;
        check(route_method(r, tb->regs[i].method) == &tb->regs[i]);
        if (want_allow[0]) strcat(want_allow, ", ");
        strcat(want_allow, tb->regs[i].method);
        if (!strcmp(tb->regs[i].method, "GET")) strcat(want_allow, ", HEAD");
    }
    strcat(want_allow, want_allow[0] ? ", OPTIONS" : "OPTIONS");
    const char *others[] = {"GET",  "POST",    "PUT", "PATCH", "DELETE",
                            "HEAD", "OPTIONS", "get", "",      method};
    for (size_t m = 0; m < sizeof others / sizeof others[0]; m++) {
        const struct reg *d = route_method(r, others[m]);
        if (!d) continue;
        check(d >= tb->regs && d < tb->regs + tb->nregs);
        check(!strcmp(d->method, others[m]) && !strcmp(d->pattern, route_pattern(r)));
    }

    char allow[ROUTE_ALLOW_MAX];
    size_t len = route_allow(r, allow, sizeof allow);
    check(len == strlen(allow) && len < ROUTE_ALLOW_MAX);
    check(strcmp(allow, want_allow) == 0);
    char small[ROUTE_ALLOW_MAX + 1];
    size_t size = cut % (sizeof small);
    memset(small, 'x', sizeof small);
    check(route_allow(r, small, size) == len);
    if (size) {
        size_t kept = len < size - 1 ? len : size - 1;
        check(memcmp(small, allow, kept) == 0 && small[kept] == '\0');
    } else {
        check(small[0] == 'x');
    }
}

static void check_nonneg(const char *s) {
    long v = -7;
    int rc = query_nonneg(s, &v);
    size_t n = strlen(s);
    int digits = n >= 1 && n <= 9 && strspn(s, "0123456789") == n;
    check((rc == 0) == digits);
    if (rc != 0) {
        check(rc == -1 && v == -7);
        return;
    }
    errno = 0;
    char *end = NULL;
    long w = strtol(s, &end, 10);
    check(errno == 0 && *end == '\0' && w == v && v >= 0 && v <= 999999999);
}

struct pairs {
    int n;
    char **k, **v;
};

static void collect(const char *key, const char *value, void *ctx) {
    struct pairs *p = ctx;
    p->k = realloc(p->k, (size_t)(p->n + 1) * sizeof *p->k);
    p->v = realloc(p->v, (size_t)(p->n + 1) * sizeof *p->v);
    check(p->k && p->v);
    p->k[p->n] = strdup(key);
    p->v[p->n] = strdup(value);
    p->n++;
}

/* libevent's reading of a query string (query.h): checks query_parse against it. */
static void check_query(const char *qs) {
    struct pairs got = {0, NULL, NULL};
    int rc = query_parse(qs, collect, &got);

    size_t qlen = strlen(qs);
    char *dec = malloc(qlen + 1);
    int want = 0;
    const char *p = qs;
    while (p && *p) {
        const char *amp = strchr(p, '&');
        size_t alen = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', alen);
        if (!eq || eq == p) {
            want = -1;
            break;
        }
        if (want < got.n) {
            size_t kl = (size_t)(eq - p);
            check(strlen(got.k[want]) == kl && memcmp(got.k[want], p, kl) == 0);
            decode(eq + 1, alen - kl - 1, 1, dec);
            check(strcmp(got.v[want], dec) == 0);
        }
        want++;
        p = amp ? amp + 1 : NULL;
    }
    free(dec);
    check(rc == want);
    check(got.n == (rc < 0 ? 0 : rc));

    /* the numbers, as http_page_params() reads them: the first limit and offset */
    const char *limit = NULL, *offset = NULL;
    for (int i = 0; i < got.n; i++) {
        check_nonneg(got.k[i]);
        check_nonneg(got.v[i]);
        if (!limit && !strcmp(got.k[i], "limit")) limit = got.v[i];
        if (!offset && !strcmp(got.k[i], "offset")) offset = got.v[i];
    }
    long lim = 5, off = 0, lv = 0, ov = 0;
    int bad = query_page(limit, offset, &lim, &off);
    int lbad = limit && (query_nonneg(limit, &lv) != 0 || lv < 1 || lv > QUERY_LIMIT_MAX);
    int obad = offset && query_nonneg(offset, &ov) != 0;
    check(bad == ((lbad ? QUERY_BAD_LIMIT : 0) | (obad ? QUERY_BAD_OFFSET : 0)));
    check(lim == (limit && !lbad ? lv : 5));
    check(off == (offset && !obad ? ov : 0));

    for (int i = 0; i < got.n; i++) {
        free(got.k[i]);
        free(got.v[i]);
    }
    free(got.k);
    free(got.v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *in = malloc(size + 1);
    memcpy(in, data, size);
    in[size] = '\0';
    char *target = in;
    const char *method = "GET";
    char *sp = strchr(in, ' ');
    if (sp) {
        *sp = '\0';
        method = in;
        target = sp + 1;
    }
    check_nonneg(method);
    check_nonneg(target);

    /* as req_build() takes them from libevent; else cut at the first '?' */
    char *path, *qs = NULL;
    struct evhttp_uri *uri = evhttp_uri_parse_with_flags(target, EVHTTP_URI_NONCONFORMANT);
    if (uri) {
        const char *p = evhttp_uri_get_path(uri), *q = evhttp_uri_get_query(uri);
        path = strdup(p && *p ? p : "/");
        qs = q ? strdup(q) : NULL;
        evhttp_uri_free(uri);
    } else {
        char *q = strchr(target, '?');
        if (q) {
            *q = '\0';
            qs = strdup(q + 1);
        }
        path = strdup(target);
    }
    check(path);

    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
        check_route(&tables[i], path, method, size);
    if (qs) check_query(qs);

    free(path);
    free(qs);
    free(in);
    return 0;
}
