/* route -- the route table (see route.h).
 *
 * A route keeps its pattern split into segments at registration: a literal's text and
 * length, or a parameter's name. Matching splits the path in place (offsets and lengths, no
 * copy) and compares it with every route of as many segments: the tables are a few dozen
 * routes, so a linear scan costs less than the request's other work. Routes are allocated
 * one by one, so a route_t pointer stays valid while more routes are added. */
#include "route.h"

#include "alloc.h"

#include <event2/http.h>
#include <stdlib.h>
#include <string.h>

/* The methods a route may have, in the form route_method() compares. */
static const char *const known_methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
#define NMETHODS (sizeof known_methods / sizeof known_methods[0])

struct seg {
    char *text; /* a literal's bytes, or a parameter's name */
    size_t len;
    int param;
};

struct route {
    char *pattern;
    struct seg segs[ROUTE_MAX_SEGS];
    int nsegs, nparams;
    struct {
        const char *name; /* one of known_methods */
        void *data;
    } methods[NMETHODS];
    int nmethods;
};

struct route_table {
    route_t **routes;
    int n, cap;
};

route_table_t *route_table_new(void) { return xcalloc(1, sizeof(route_table_t)); }

static void route_free(route_t *r, void (*free_data)(void *)) {
    for (int i = 0; i < r->nsegs; i++) free(r->segs[i].text);
    for (int i = 0; free_data && i < r->nmethods; i++) free_data(r->methods[i].data);
    free(r->pattern);
    free(r);
}

void route_table_free(route_table_t *t, void (*free_data)(void *)) {
    if (!t) return;
    for (int i = 0; i < t->n; i++) route_free(t->routes[i], free_data);
    free(t->routes);
    free(t);
}

static const char *known_method(const char *m) {
    for (size_t i = 0; m && i < NMETHODS; i++)
        if (strcmp(known_methods[i], m) == 0) return known_methods[i];
    return NULL;
}

static int name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* Fills r's segments from `pattern`. Returns 0, or -1 when the pattern is malformed (the
 * segments made so far stay in r for route_free). */
static int parse_pattern(route_t *r, const char *pattern) {
    if (pattern[0] != '/') return -1;
    if (strcmp(pattern, "/") == 0) return 0;
    const char *p = pattern;
    while (*p) {
        const char *s = p + 1, *e = s + strcspn(s, "/");
        size_t len = (size_t)(e - s);
        if (len == 0 || r->nsegs == ROUTE_MAX_SEGS) return -1;
        struct seg *g = &r->segs[r->nsegs];
        if (s[0] == '{') {
            if (len < 3 || s[len - 1] != '}') return -1;
            for (size_t i = 1; i < len - 1; i++)
                if (!name_char(s[i])) return -1;
            g->param = 1;
            g->text = xstrndup(s + 1, len - 2);
            g->len = len - 2;
            r->nsegs++;
            for (int i = 0; i < r->nsegs - 1; i++)
                if (r->segs[i].param && strcmp(r->segs[i].text, g->text) == 0) return -1;
            r->nparams++;
        } else {
            if (memchr(s, '{', len) || memchr(s, '}', len)) return -1;
            g->text = xstrndup(s, len);
            g->len = len;
            r->nsegs++;
        }
        p = e;
    }
    return 0;
}

int route_add(route_table_t *t, const char *method, const char *pattern, void *data) {
    const char *m = known_method(method);
    if (!m || !pattern || !data) return -1;
    route_t *r = route_find(t, pattern);
    if (r) {
        if (route_method(r, m)) return -1;
    } else {
        r = xcalloc(1, sizeof *r);
        if (parse_pattern(r, pattern) != 0) {
            route_free(r, NULL);
            return -1;
        }
        r->pattern = xstrdup(pattern);
        if (t->n == t->cap) {
            t->cap = t->cap ? 2 * t->cap : 16;
            t->routes = xrealloc(t->routes, (size_t)t->cap * sizeof *t->routes);
        }
        t->routes[t->n++] = r;
    }
    r->methods[r->nmethods].name = m;
    r->methods[r->nmethods].data = data;
    r->nmethods++;
    return 0;
}

route_t *route_find(const route_table_t *t, const char *pattern) {
    for (int i = 0; pattern && i < t->n; i++)
        if (strcmp(t->routes[i]->pattern, pattern) == 0) return t->routes[i];
    return NULL;
}

int route_count(const route_table_t *t) { return t->n; }

route_t *route_at(const route_table_t *t, int i) {
    return i >= 0 && i < t->n ? t->routes[i] : NULL;
}

/* The non-empty '/'-separated segments of path: off[i], len[i]. Returns how many, or -1
 * when there are more than ROUTE_MAX_SEGS. */
static int split_path(const char *path, size_t off[ROUTE_MAX_SEGS], size_t len[ROUTE_MAX_SEGS]) {
    int n = 0;
    const char *p = path;
    for (;;) {
        while (*p == '/') p++;
        if (!*p) return n;
        if (n == ROUTE_MAX_SEGS) return -1;
        size_t l = strcspn(p, "/");
        off[n] = (size_t)(p - path);
        len[n] = l;
        n++;
        p += l;
    }
}

const route_t *route_match(const route_table_t *t, const char *path,
                           route_param_t params[ROUTE_MAX_SEGS], int *nparams) {
    size_t off[ROUTE_MAX_SEGS], len[ROUTE_MAX_SEGS];
    int n = split_path(path, off, len);
    const route_t *best = NULL;
    *nparams = 0;
    for (int i = 0; n >= 0 && i < t->n; i++) {
        const route_t *r = t->routes[i];
        if (r->nsegs != n || (best && r->nparams >= best->nparams)) continue;
        int ok = 1;
        for (int j = 0; j < n && ok; j++) {
            const struct seg *g = &r->segs[j];
            ok = g->param || (g->len == len[j] && memcmp(g->text, path + off[j], len[j]) == 0);
        }
        if (ok) best = r;
    }
    if (!best) return NULL;
    for (int j = 0; j < n; j++) {
        if (!best->segs[j].param) continue;
        params[*nparams] = (route_param_t){best->segs[j].text, off[j], len[j]};
        (*nparams)++;
    }
    return best;
}

char *route_param_value(const char *path, const route_param_t *p) {
    char *raw = xstrndup(path + p->off, p->len);
    char *dec = evhttp_uridecode(raw, 0, NULL);
    free(raw);
    if (!dec) abort();
    return dec;
}

const char *route_pattern(const route_t *r) { return r->pattern; }

int route_nparams(const route_t *r) { return r->nparams; }

void *route_method(const route_t *r, const char *method) {
    for (int i = 0; method && i < r->nmethods; i++)
        if (strcmp(r->methods[i].name, method) == 0) return r->methods[i].data;
    return NULL;
}

/* Appends s to out[size] at *len (the length so far, which may pass size), cutting to fit. */
static void append(char *out, size_t size, size_t *len, const char *s) {
    size_t n = strlen(s);
    if (*len + 1 < size) {
        size_t room = size - 1 - *len;
        memcpy(out + *len, s, n < room ? n : room);
    }
    *len += n;
}

size_t route_allow(const route_t *r, char *out, size_t size) {
    size_t len = 0;
    for (int i = 0; i < r->nmethods; i++) {
        if (i) append(out, size, &len, ", ");
        append(out, size, &len, r->methods[i].name);
        if (strcmp(r->methods[i].name, "GET") == 0) append(out, size, &len, ", HEAD");
    }
    append(out, size, &len, len ? ", OPTIONS" : "OPTIONS");
    if (size) out[len < size ? len : size - 1] = '\0';
    return len;
}
