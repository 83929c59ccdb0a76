/* route -- the route table: which registered pattern a request path names, its path
 * parameters, and the methods registered on it.
 *
 * A pattern is "/" or one or more "/segment"s, at most ROUTE_MAX_SEGS of them. A segment is
 * a literal (no '{', '}' or '/') or a parameter "{name}" (name: letters, digits, '_'; unique
 * in the pattern). A path is split at '/' into its non-empty segments, so "//a/b/" is "/a/b".
 * A route matches a path with as many segments when every literal segment is equal, byte for
 * byte (still percent-encoded); a parameter takes any segment. Of the routes that match, the
 * one with the fewest parameters wins ("/likes/seen" over "/likes/{id}"), the first
 * registered among those. A path of more than ROUTE_MAX_SEGS segments matches nothing.
 *
 * Methods on a route are GET, POST, PUT, PATCH and DELETE, each registered at most once with
 * a caller's non-NULL `data` (the table keeps the pointer; route_table_free hands it back).
 * HEAD and OPTIONS are the server's business (see route_allow).
 *
 * Not thread-safe while routes are added; once they are all in, any thread may read. */
#ifndef TIZZA_ROUTE_H
#define TIZZA_ROUTE_H

#include <stddef.h>

#define ROUTE_MAX_SEGS 16
/* Longest Allow list route_allow writes, with its NUL:
 * "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS". */
#define ROUTE_ALLOW_MAX 45

typedef struct route_table route_table_t;
typedef struct route route_t;

/* A path parameter of a match: the pattern's "{name}" (name without the braces, owned by the
 * table) and where its segment is in the path: path[off .. off + len), len >= 1, no '/'. */
typedef struct {
    const char *name;
    size_t off, len;
} route_param_t;

/* An empty table. */
route_table_t *route_table_new(void);
/* Frees the table and its routes, calling free_data (when not NULL) on every registration's
 * data. NULL: nothing. */
void route_table_free(route_table_t *t, void (*free_data)(void *));

/* Registers `method` on `pattern` (the route is made on the pattern's first registration)
 * with `data`. Returns 0, or -1 and changes nothing when the method is not one of the five,
 * the pattern is malformed, the method is already registered on it, or data is NULL. */
int route_add(route_table_t *t, const char *method, const char *pattern, void *data);

/* The route of exactly this pattern, or NULL. */
route_t *route_find(const route_table_t *t, const char *pattern);
/* Routes in registration order: route_at(t, i) for 0 <= i < route_count(t). */
int route_count(const route_table_t *t);
route_t *route_at(const route_table_t *t, int i);

/* The route for `path` (see the top), or NULL. On a match, params[0 .. *nparams) are its
 * parameters in pattern order and *nparams == route_nparams(); on none, *nparams = 0. */
const route_t *route_match(const route_table_t *t, const char *path,
                           route_param_t params[ROUTE_MAX_SEGS], int *nparams);
/* A parameter's value: its segment of `path` percent-decoded ('+' stays '+'; a %00 ends
 * it), malloc'd. */
char *route_param_value(const char *path, const route_param_t *p);

/* The pattern as registered, e.g. "/api/v1/users/{id}"; lives as long as the table. */
const char *route_pattern(const route_t *r);
int route_nparams(const route_t *r);
/* The data registered for `method` on the route, or NULL. Case-sensitive: "get" is none. */
void *route_method(const route_t *r, const char *method);
/* The route's Allow list into out[size]: its methods in registration order, HEAD right after
 * GET, then OPTIONS ("GET, HEAD, POST, OPTIONS"). Cut to fit when size is short (size >=
 * ROUTE_ALLOW_MAX never is); always NUL-terminated when size > 0. Returns the full length. */
size_t route_allow(const route_t *r, char *out, size_t size);

#endif
