/* http -- libevent HTTP server and request/response helpers (see http.h); routing is route.c.
 *
 * Threads and ownership
 * ---------------------
 * http_server_run() starts `threads` loop threads. Each owns an event_base and an evhttp
 * bound to its own SO_REUSEPORT socket on the same port, so the kernel spreads connections
 * over the loops. When evhttp hands a request to on_request() we copy everything a handler
 * may read into an http_req_t. INLINE routes run the handler right there; OFFLOAD routes are
 * queued to the worker pool (a mutex + condition variable queue). A worker runs the handler,
 * appends the request to its loop's `done` list and wakes the loop with event_active() on
 * the loop's `done_ev`; the loop then sends the reply. So evhttp is only touched by the
 * thread that owns it, and the handler never touches evhttp at all.
 *
 * Shutdown: the main thread blocks SIGINT/SIGTERM in every thread and waits for them with
 * sigtimedwait() (or for http_server_stop()). It then activates every loop's `stop_ev`: the
 * loop closes its listener (new connections are refused, so a proxy retries them elsewhere),
 * answers every request from then on with "Connection: close" for a short grace period
 * (grace_ms) so that clients stop reusing their keep-alive connections before they are
 * closed, and exits once that period is over and its in-flight count is zero, or after
 * drain_ms. The in-flight count includes requests queued for the workers, so a drain that
 * ends in time leaves nothing behind. After the drain_ms timeout, the workers still run
 * every request left in the queue (a handler is never cut off) and then exit; loop_free()
 * hands those answers to evhttp, but its loop no longer runs to write them, and
 * evhttp_free() closes their connections: such a client gets no answer, though its
 * request's work (a write, say) was done.
 *
 * Limits: bodies above body_limit get a JSON 413. libevent's own hard cap (evhttp's
 * max_body_size) is set to 16x that so a huge upload is cut off without being buffered. */
#include "http.h"

#include "config.h"
#include "conn.h"
#include "log.h"
#include "metrics.h"
#include "problem.h"
#include "query.h"
#include "ratelimit.h"
#include "route.h"
#include "util.h"
#include "wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

struct kv {
    char *k, *v;
};

struct kvlist {
    struct kv *items;
    int n, cap;
};

/* What a route holds for one of its methods (the data of route.h). */
struct method_entry {
    http_handler_fn fn;
    void *ctx;
    int flags;
    ratelimit_t *limit; /* per client address, may be NULL; owned by the server's limits */
};

struct loop {
    http_server_t *srv;
    pthread_t thread;
    struct event_base *base;
    struct evhttp *http;
    struct evhttp_bound_socket *bound;
    struct event *done_ev;
    struct event *stop_ev;
    struct event *drain_timer;
    struct event *grace_timer;
    int grace_over;
    pthread_mutex_t done_mu;
    http_req_t *done_head, *done_tail;
    conn_guard_t *guard; /* connection limits and deadlines (conn.h) */
    int inflight;
    int draining;
    int fd;
};

struct http_server {
    http_config_t cfg;
    route_table_t *routes;
    struct loop *loops;
    int nloops;
    /* worker pool */
    pthread_t *workers;
    int nworkers;
    pthread_mutex_t q_mu;
    pthread_cond_t q_cv;
    http_req_t *q_head, *q_tail;
    int q_stop;
    /* settings from the environment */
    char **cors;
    int ncors;
    char **trusted;
    int ntrusted;
    char *public_url; /* PUBLIC_URL without its trailing slash, or NULL */
    /* /info's "instance": the host name, read once */
    char instance[256];
    struct {
        char *name;
        ratelimit_t *rl; /* NULL when disabled */
    } limits[16];        /* named rate limits, shared by the routes that use the name */
    int nlimits;
    conn_shared_t *conns;
    atomic_int port;
    atomic_int stop_requested;
};

struct http_req {
    http_server_t *srv;
    struct loop *loop;
    struct evhttp_request *ev;
    conn_t *conn;
    const route_t *route;
    const struct method_entry *entry;
    char method[8];
    char *path;
    struct kvlist params, query, headers, cookies, out_headers;
    int cookies_parsed;
    char *body;
    size_t body_len;
    cJSON *json;
    char peer[64];
    char local[72]; /* host:port the client connected to (conn.h) */
    char client[64];
    char request_id[72];
    /* response */
    int status;
    char *resp_body;
    size_t resp_len;
    const char *resp_type;
    int replied;
    int on_worker;       /* the handler runs on a worker thread */
    http_worker_fn cont; /* set by http_finish_on_worker: runs on a worker, answers */
    void *cont_arg;
    void *user;
    void (*user_free)(void *);
    uint64_t t0;
    http_req_t *next;
};

/* ------------------------------------------------------------------------------------------
 * Small helpers */

static void *xcalloc(size_t n, size_t sz) {
    void *p = calloc(n, sz);
    if (!p) abort();
    return p;
}

static char *xstrdup(const char *s) {
    char *p = strdup(s ? s : "");
    if (!p) abort();
    return p;
}

static void kv_add(struct kvlist *l, const char *k, const char *v) {
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->items = realloc(l->items, (size_t)l->cap * sizeof *l->items);
        if (!l->items) abort();
    }
    l->items[l->n].k = xstrdup(k);
    l->items[l->n].v = xstrdup(v);
    l->n++;
}

static const char *kv_get(const struct kvlist *l, const char *k, int nocase) {
    for (int i = 0; i < l->n; i++)
        if (nocase ? strcasecmp(l->items[i].k, k) == 0 : strcmp(l->items[i].k, k) == 0)
            return l->items[i].v;
    return NULL;
}

static void kv_free(struct kvlist *l) {
    for (int i = 0; i < l->n; i++) {
        free(l->items[i].k);
        free(l->items[i].v);
    }
    free(l->items);
    memset(l, 0, sizeof *l);
}

/* Splits a comma-separated env list into a malloc'd array of trimmed strings. */
static char **split_list(const char *s, int *n) {
    *n = 0;
    if (!s || !*s) return NULL;
    char *copy = xstrdup(s), *save = NULL;
    char **out = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ') t++;
        size_t len = strlen(t);
        while (len && t[len - 1] == ' ') t[--len] = '\0';
        if (!len) continue;
        out = realloc(out, (size_t)(*n + 1) * sizeof *out);
        if (!out) abort();
        out[(*n)++] = xstrdup(t);
    }
    free(copy);
    return out;
}

static void free_list(char **l, int n) {
    for (int i = 0; i < n; i++) free(l[i]);
    free(l);
}

static const char *method_name(enum evhttp_cmd_type t) {
    switch (t) {
    case EVHTTP_REQ_GET: return "GET";
    case EVHTTP_REQ_POST: return "POST";
    case EVHTTP_REQ_PUT: return "PUT";
    case EVHTTP_REQ_PATCH: return "PATCH";
    case EVHTTP_REQ_DELETE: return "DELETE";
    case EVHTTP_REQ_HEAD: return "HEAD";
    case EVHTTP_REQ_OPTIONS: return "OPTIONS";
    default: return "OTHER";
    }
}

/* ------------------------------------------------------------------------------------------
 * Configuration */

/* HTTP_THREADS' default: one event loop per online CPU, at most 8. */
static long threads_default(void) {
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (ncpu < 1) ncpu = 1;
    return ncpu > 8 ? 8 : ncpu;
}

const config_var_t http_config_vars[] = {
    {.name = "HOST", .type = CONFIG_STR, .def = "0.0.0.0", .help = "listen address"},
    {.name = "PORT",
     .type = CONFIG_LONG,
     .def_doc = "the service's",
     .min = 1,
     .max = 65535,
     .help = "listen port"},
    {.name = "HTTP_THREADS",
     .type = CONFIG_LONG,
     .def_fn = threads_default,
     .def_doc = "online CPUs, at most 8",
     .min = 1,
     .max = 64,
     .help = "event-loop threads, all on one port with SO_REUSEPORT"},
    {.name = "WORKERS",
     .type = CONFIG_LONG,
     .def = "8",
     .min = 1,
     .max = 256,
     .help = "worker threads for slow work (password hashing, MongoDB calls)"},
    {.name = "BODY_LIMIT",
     .type = CONFIG_LONG,
     .def = "65536",
     .min = 1024,
     .max = 16777216,
     .help = "request body limit in bytes (413 above)"},
    {.name = "DRAIN_MS",
     .type = CONFIG_LONG,
     .def = "10000",
     .min = 0,
     .max = 600000,
     .help = "bound on finishing in-flight requests after SIGTERM"},
    {.name = "DRAIN_GRACE_MS",
     .type = CONFIG_LONG,
     .def = "200",
     .min = 0,
     .max = 60000,
     .help = "after SIGTERM, answer with Connection: close this long so keep-alive clients "
             "move away first"},
    {.name = "PAGE_SIZE",
     .type = CONFIG_LONG,
     .def = "5",
     .min = 1,
     .max = 100,
     .help = "default limit of lists"},
    {.name = "CORS_ORIGINS",
     .type = CONFIG_STR,
     .def_doc = "none",
     .help = "allowed origins, comma separated; a listed origin may send cookies, * allows "
             "any other without them"},
    {.name = "PUBLIC_URL",
     .type = CONFIG_STR,
     .def_doc = "from a trusted proxy's headers, else the local address",
     .help = "http(s)://host[:port][/prefix], the base of absolute URLs"},
    {.name = "TRUSTED_PROXIES",
     .type = CONFIG_STR,
     .def_doc = "none",
     .help = "peer addresses whose X-Forwarded-For/-Proto/-Host are believed"},
    {.name = NULL},
};

void http_config_from_env(http_config_t *cfg, const char *service, int default_port) {
    memset(cfg, 0, sizeof *cfg);
    config_declare(http_config_vars);
    char port[16];
    snprintf(port, sizeof port, "%d", default_port);
    config_set_default("PORT", port);
    cfg->service = service;
    cfg->version = TIZZA_VERSION;
    cfg->build_time = "unknown";
    cfg->openapi = "";
    cfg->api_versions = "v1";
    cfg->host = config_str("HOST");
    cfg->port = (int)config_long("PORT");
    cfg->threads = (int)config_long("HTTP_THREADS");
    cfg->workers = (int)config_long("WORKERS");
    cfg->body_limit = (size_t)config_long("BODY_LIMIT");
    cfg->drain_ms = (int)config_long("DRAIN_MS");
    cfg->grace_ms = (int)config_long("DRAIN_GRACE_MS");
    cfg->page_size = config_long("PAGE_SIZE");
    conn_config_t cc;
    conn_config_from_env(&cc);
    cfg->max_connections = cc.max_connections;
    cfg->max_client_connections = cc.max_client_connections;
    cfg->request_timeout_ms = cc.request_timeout_ms;
    cfg->keepalive_timeout_ms = cc.keepalive_timeout_ms;
}

/* ------------------------------------------------------------------------------------------
 * Routing */

int http_route(http_server_t *srv, const char *method, const char *pattern, http_handler_fn fn,
               void *ctx, int flags) {
    struct method_entry *m = xcalloc(1, sizeof *m);
    m->fn = fn;
    m->ctx = ctx;
    m->flags = flags;
    /* programming errors: an unknown method, a malformed pattern, a method twice */
    if (route_add(srv->routes, method, pattern, m) != 0) abort();
    return 0;
}

/* The route for the request's path, its parameters decoded into req->params. */
static const route_t *route_request(http_server_t *srv, http_req_t *req) {
    route_param_t params[ROUTE_MAX_SEGS];
    int n;
    const route_t *r = route_match(srv->routes, req->path, params, &n);
    for (int i = 0; i < n; i++) {
        char *v = route_param_value(req->path, &params[i]);
        kv_add(&req->params, params[i].name, v);
        free(v);
    }
    return r;
}

/* ------------------------------------------------------------------------------------------
 * Request accessors */

const char *http_method(const http_req_t *req) { return req->method; }
const char *http_path(const http_req_t *req) { return req->path; }
const char *http_route_pattern(const http_req_t *req) {
    return req->route ? route_pattern(req->route) : "unmatched";
}
const char *http_param(const http_req_t *req, const char *name) {
    return kv_get(&req->params, name, 0);
}
const char *http_query(const http_req_t *req, const char *name) {
    return kv_get(&req->query, name, 0);
}
const char *http_header(const http_req_t *req, const char *name) {
    return kv_get(&req->headers, name, 1);
}
const char *http_client_addr(const http_req_t *req) { return req->client; }
const char *http_request_id(const http_req_t *req) { return req->request_id; }

const char *http_body(const http_req_t *req, size_t *len) {
    if (len) *len = req->body_len;
    return req->body ? req->body : "";
}

const char *http_cookie(const http_req_t *req, const char *name) {
    http_req_t *r = (http_req_t *)req; /* the parsed cache is logically const */
    if (!r->cookies_parsed) {
        r->cookies_parsed = 1;
        for (int i = 0; i < r->headers.n; i++) {
            if (strcasecmp(r->headers.items[i].k, "Cookie") != 0) continue;
            char *copy = xstrdup(r->headers.items[i].v), *save = NULL;
            for (char *t = strtok_r(copy, ";", &save); t; t = strtok_r(NULL, ";", &save)) {
                while (*t == ' ') t++;
                char *eq = strchr(t, '=');
                if (!eq) continue;
                *eq = '\0';
                char *v = eq + 1;
                size_t vl = strlen(v);
                if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
                    v[vl - 1] = '\0';
                    v++;
                }
                kv_add(&r->cookies, t, v);
            }
            free(copy);
        }
    }
    return kv_get(&r->cookies, name, 0);
}

cJSON *http_json_body(http_req_t *req) {
    if (req->json) return req->json;
    if (!req->body_len) {
        http_reply_problem(req, 400, "request body must be a JSON object");
        return NULL;
    }
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(req->body, req->body_len, &end, 0);
    if (j && end) {
        while (end < req->body + req->body_len &&
               (*end == ' ' || *end == '\n' || *end == '\r' || *end == '\t'))
            end++;
        if (end != req->body + req->body_len) {
            cJSON_Delete(j);
            j = NULL;
        }
    }
    if (!j) {
        http_reply_problem(req, 400, "malformed JSON in request body");
        return NULL;
    }
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        http_reply_problem(req, 400, "request body must be a JSON object");
        return NULL;
    }
    req->json = j;
    return j;
}

static int is_trusted(const http_server_t *srv, const char *addr) {
    for (int i = 0; i < srv->ntrusted; i++)
        if (strcmp(srv->trusted[i], addr) == 0 || strcmp(srv->trusted[i], "*") == 0) return 1;
    return 0;
}

/* A host[:port] fit for a URL: no user part, path, space or quote. */
static int sane_host(const char *h) {
    return h && *h && strlen(h) < 256 && !strpbrk(h, " /\\@\"<>?#\t\r\n,");
}

/* The base is, in order: PUBLIC_URL; the X-Forwarded-Proto/-Host of a trusted proxy; the
 * address the client connected to. Never the Host header: a client chooses it freely. */
char *http_absolute_url(const http_req_t *req, const char *path_and_query) {
    const char *proto = "http", *host = NULL;
    char own[80];
    if (req->srv->public_url) {
        proto = NULL;
        host = req->srv->public_url;
    } else if (is_trusted(req->srv, req->peer)) {
        const char *p = http_header(req, "X-Forwarded-Proto");
        if (p && (strcmp(p, "http") == 0 || strcmp(p, "https") == 0)) proto = p;
        host = http_header(req, "X-Forwarded-Host");
    }
    if (!sane_host(host) && !(host && !proto)) {
        snprintf(own, sizeof own, "%s", req->local[0] ? req->local : "127.0.0.1");
        host = own;
    }
    size_t n = (proto ? strlen(proto) : 0) + strlen(host) + strlen(path_and_query) + 8;
    char *out = malloc(n);
    if (!out) abort();
    if (proto)
        snprintf(out, n, "%s://%s%s", proto, host, path_and_query);
    else
        snprintf(out, n, "%s%s", host, path_and_query);
    return out;
}

void http_set_user_data(http_req_t *req, void *data, void (*fr)(void *)) {
    if (req->user && req->user_free) req->user_free(req->user);
    req->user = data;
    req->user_free = fr;
}

void *http_user_data(const http_req_t *req) { return req->user; }

/* ------------------------------------------------------------------------------------------
 * Answering */

void http_add_header(http_req_t *req, const char *name, const char *value) {
    kv_add(&req->out_headers, name, value);
}

bool http_replied(const http_req_t *req) { return req->replied; }

void http_finish_on_worker(http_req_t *req, http_worker_fn fn, void *arg) {
    if (req->on_worker) {
        fn(req, arg);
        return;
    }
    req->cont = fn;
    req->cont_arg = arg;
}

/* Sets the reply; takes ownership of `body` (malloc'd, may be NULL when len is 0). */
static void reply_owned(http_req_t *req, int status, const char *content_type, char *body,
                        size_t len) {
    if (req->replied) {
        log_msg(LOG_ERROR, "double reply on %s %s", req->method, req->path);
        free(body);
        return;
    }
    req->replied = 1;
    req->status = status;
    req->resp_type = content_type;
    if (body && len) {
        req->resp_body = body;
        req->resp_len = len;
    } else {
        free(body);
    }
}

void http_reply_raw(http_req_t *req, int status, const char *content_type, const char *body,
                    size_t len) {
    char *copy = NULL;
    if (body && len) {
        copy = malloc(len);
        if (!copy) abort();
        memcpy(copy, body, len);
    }
    reply_owned(req, status, content_type, copy, len);
}

static void reply_json_typed(http_req_t *req, int status, cJSON *body, const char *type) {
    char *text = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    if (!text) abort();
    reply_owned(req, status, type, text, strlen(text));
}

void http_reply_json(http_req_t *req, int status, cJSON *body) {
    reply_json_typed(req, status, body, "application/json");
}

void http_reply_empty(http_req_t *req, int status) { http_reply_raw(req, status, NULL, NULL, 0); }

void http_reply_problem_obj(http_req_t *req, cJSON *problem) {
    int status = cJSON_GetNumberValue(cJSON_GetObjectItem(problem, "status"));
    if (status < 400 || status > 599) status = 500;
    reply_json_typed(req, status, problem, "application/problem+json");
}

void http_reply_problem(http_req_t *req, int status, const char *detail) {
    http_reply_problem_obj(req, problem_new(status, detail));
}

int http_reply_if_invalid(http_req_t *req, cJSON *problem) {
    if (problem_has_errors(problem)) {
        http_reply_problem_obj(req, problem);
        return -1;
    }
    cJSON_Delete(problem);
    return 0;
}

void http_add_location(http_req_t *req, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *path = NULL;
    int n = vasprintf(&path, fmt, ap);
    va_end(ap);
    if (n < 0) abort();
    char *abs = http_absolute_url(req, path);
    http_add_header(req, "Location", abs);
    free(abs);
    free(path);
}

/* ------------------------------------------------------------------------------------------
 * Pagination */

int http_page_params(http_req_t *req, http_page_t *page) {
    page->limit = req->srv->cfg.page_size;
    page->offset = 0;
    int bad = query_page(http_query(req, "limit"), http_query(req, "offset"), &page->limit,
                         &page->offset);
    if (!bad) return 0; /* no problem object for the common case */
    cJSON *p = problem_new(400, "invalid pagination parameters");
    if (bad & QUERY_BAD_LIMIT) problem_add_error(p, "limit", "must be an integer from 1 to 100");
    if (bad & QUERY_BAD_OFFSET) problem_add_error(p, "offset", "must be a non-negative integer");
    return http_reply_if_invalid(req, p);
}

/* The request's path + query with limit/offset replaced (offset omitted when < 0). */
static char *page_link(const http_req_t *req, long limit, long offset) {
    struct evbuffer *b = evbuffer_new();
    evbuffer_add_printf(b, "%s?", req->path);
    int first = 1;
    for (int i = 0; i < req->query.n; i++) {
        const struct kv *q = &req->query.items[i];
        if (!strcmp(q->k, "limit") || !strcmp(q->k, "offset")) continue;
        char *k = evhttp_uriencode(q->k, -1, 0), *v = evhttp_uriencode(q->v, -1, 0);
        evbuffer_add_printf(b, "%s%s=%s", first ? "" : "&", k, v);
        free(k);
        free(v);
        first = 0;
    }
    evbuffer_add_printf(b, "%slimit=%ld", first ? "" : "&", limit);
    if (offset > 0) evbuffer_add_printf(b, "&offset=%ld", offset);
    evbuffer_add(b, "", 1);
    char *rel = xstrdup((const char *)evbuffer_pullup(b, -1));
    evbuffer_free(b);
    char *abs = http_absolute_url(req, rel);
    free(rel);
    return abs;
}

cJSON *http_page_body(const http_req_t *req, const http_page_t *page, long count, cJSON *results) {
    cJSON *body = cJSON_CreateObject();
    cJSON_AddNumberToObject(body, "count", (double)count);
    if (page->offset + page->limit < count) {
        char *next = page_link(req, page->limit, page->offset + page->limit);
        cJSON_AddStringToObject(body, "next", next);
        free(next);
    } else {
        cJSON_AddNullToObject(body, "next");
    }
    if (page->offset > 0) {
        long prev = page->offset - page->limit;
        char *link = page_link(req, page->limit, prev > 0 ? prev : 0);
        cJSON_AddStringToObject(body, "previous", link);
        free(link);
    } else {
        cJSON_AddNullToObject(body, "previous");
    }
    cJSON_AddItemToObject(body, "results", results);
    return body;
}

void http_reply_page(http_req_t *req, const http_page_t *page, long count, cJSON *results) {
    http_reply_json(req, 200, http_page_body(req, page, count, results));
}

/* ------------------------------------------------------------------------------------------
 * Rate limits */

/* The named limiter, created on first use from RATE_LIMIT_<NAME> (its row, declared by the
 * service, holds the default). */
static ratelimit_t *named_limit(http_server_t *srv, const char *name) {
    for (int i = 0; i < srv->nlimits; i++)
        if (strcmp(srv->limits[i].name, name) == 0) return srv->limits[i].rl;
    char var[96] = "RATE_LIMIT_";
    size_t off = strlen(var);
    for (const char *p = name; *p && off < sizeof var - 1; p++)
        var[off++] = (*p >= 'a' && *p <= 'z') ? (char)(*p - 32) : (*p == '-' ? '_' : *p);
    var[off] = '\0';
    double per_minute = 0, burst = 0;
    config_rate(var, &per_minute, &burst);
    if (srv->nlimits == (int)(sizeof srv->limits / sizeof srv->limits[0])) abort();
    srv->limits[srv->nlimits].name = xstrdup(name);
    srv->limits[srv->nlimits].rl = per_minute > 0 ? ratelimit_new(per_minute, burst) : NULL;
    return srv->limits[srv->nlimits++].rl;
}

void http_rate_limit(http_server_t *srv, const char *method, const char *pattern,
                     const char *name) {
    route_t *r = route_find(srv->routes, pattern);
    struct method_entry *m = r ? route_method(r, method) : NULL;
    if (!m) abort(); /* programming error: limit a route that exists */
    m->limit = named_limit(srv, name);
}

/* ------------------------------------------------------------------------------------------
 * Built-in operational routes */

static void h_health(http_req_t *req, void *ctx) {
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "status", "ok");
    http_reply_json(req, 200, b);
}

static void h_ready(http_req_t *req, void *ctx) {
    http_server_t *srv = ctx;
    char why[256] = "";
    if (srv->cfg.ready && srv->cfg.ready(why, sizeof why, srv->cfg.ready_ctx) != 0) {
        cJSON *p = problem_new(503, why[0] ? why : "not ready");
        cJSON_AddStringToObject(p, "failing", why[0] ? why : "unknown");
        http_reply_problem_obj(req, p);
        return;
    }
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "status", "ready");
    http_reply_json(req, 200, b);
}

static void h_metrics(http_req_t *req, void *ctx) {
    size_t len = 0;
    char *text = metrics_render(&len);
    http_reply_raw(req, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
    free(text);
}

static void h_openapi(http_req_t *req, void *ctx) {
    http_server_t *srv = ctx;
    const char *y = srv->cfg.openapi ? srv->cfg.openapi : "";
    http_reply_raw(req, 200, "application/yaml; charset=utf-8", y, strlen(y));
}

/* {"name","version","buildtime","instance",
 *  "api_version":[{"version","buildtime","links","methods"}]}
 * One row per API version, its methods collected from the routes under /api/<version>/. */
static void h_info(http_req_t *req, void *ctx) {
    http_server_t *srv = ctx;
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "name", srv->cfg.service);
    cJSON_AddStringToObject(b, "version", srv->cfg.version);
    cJSON_AddStringToObject(b, "buildtime", srv->cfg.build_time);
    cJSON_AddStringToObject(b, "instance", srv->instance);
    cJSON *rows = cJSON_AddArrayToObject(b, "api_version");
    int nv = 0;
    char **versions = split_list(srv->cfg.api_versions, &nv);
    static const char *order[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
    for (int v = 0; v < nv; v++) {
        char prefix[64], methods[64] = "";
        snprintf(prefix, sizeof prefix, "/api/%s", versions[v]);
        for (size_t o = 0; o < sizeof order / sizeof order[0]; o++) {
            int found = 0;
            for (int i = 0; i < route_count(srv->routes) && !found; i++) {
                const route_t *r = route_at(srv->routes, i);
                found = strncmp(route_pattern(r), prefix, strlen(prefix)) == 0 &&
                        route_method(r, order[o]);
            }
            if (!found) continue;
            char lower[8];
            size_t k = 0;
            for (; order[o][k] && k < sizeof lower - 1; k++)
                lower[k] = (char)(order[o][k] >= 'A' && order[o][k] <= 'Z' ? order[o][k] + 32
                                                                           : order[o][k]);
            lower[k] = '\0';
            if (methods[0]) strncat(methods, ", ", sizeof methods - strlen(methods) - 1);
            strncat(methods, lower, sizeof methods - strlen(methods) - 1);
        }
        cJSON *row = cJSON_CreateObject();
        cJSON_AddStringToObject(row, "version", versions[v]);
        cJSON_AddStringToObject(row, "buildtime", srv->cfg.build_time);
        cJSON_AddStringToObject(row, "links", prefix);
        cJSON_AddStringToObject(row, "methods", methods);
        cJSON_AddItemToArray(rows, row);
    }
    free_list(versions, nv);
    http_reply_json(req, 200, b);
}

/* ------------------------------------------------------------------------------------------
 * Server lifecycle */

/* PUBLIC_URL: http(s)://host[:port][/prefix], no user, query or fragment (libevent's URI
 * parser); malloc'd without its trailing '/', or NULL when unset. */
static char *public_url_from_env(void) {
    const char *v = config_str("PUBLIC_URL");
    if (!v) return NULL;
    struct evhttp_uri *u = evhttp_uri_parse_with_flags(v, 0);
    const char *scheme = u ? evhttp_uri_get_scheme(u) : NULL,
               *host = u ? evhttp_uri_get_host(u) : NULL;
    int ok = scheme && (!strcmp(scheme, "http") || !strcmp(scheme, "https")) && host && *host &&
             !evhttp_uri_get_userinfo(u) && !evhttp_uri_get_query(u) && !evhttp_uri_get_fragment(u);
    if (u) evhttp_uri_free(u);
    if (!ok) config_fail("PUBLIC_URL", "must be http(s)://host[:port][/path], no query");
    char *out = xstrdup(v);
    size_t n = strlen(out);
    while (n && out[n - 1] == '/') out[--n] = '\0';
    return out;
}

http_server_t *http_server_new(const http_config_t *cfg) {
    http_server_t *srv = xcalloc(1, sizeof *srv);
    srv->cfg = *cfg;
    config_declare(http_config_vars);
    srv->cors = split_list(config_str("CORS_ORIGINS"), &srv->ncors);
    srv->trusted = split_list(config_str("TRUSTED_PROXIES"), &srv->ntrusted);
    srv->public_url = public_url_from_env();
    /* which replica answered /info: the host name (a container's id, a Kubernetes pod's
     * name), which does not change while the process runs */
    gethostname(srv->instance, sizeof srv->instance - 1);
    srv->routes = route_table_new();
    pthread_mutex_init(&srv->q_mu, NULL);
    pthread_cond_init(&srv->q_cv, NULL);
    http_route(srv, "GET", "/health", h_health, srv, HTTP_INLINE);
    http_route(srv, "GET", "/ready", h_ready, srv, HTTP_OFFLOAD);
    http_route(srv, "GET", "/metrics", h_metrics, srv, HTTP_INLINE);
    http_route(srv, "GET", "/info", h_info, srv, HTTP_INLINE);
    http_route(srv, "GET", "/openapi.yaml", h_openapi, srv, HTTP_INLINE);
    metrics_help("tizza_http_requests_total", "counter",
                 "HTTP requests by route, method and status");
    metrics_help("tizza_http_request_duration_seconds", "histogram",
                 "HTTP request latency by route and method");
    return srv;
}

void http_server_free(http_server_t *srv) {
    if (!srv) return;
    route_table_free(srv->routes, free);
    for (int i = 0; i < srv->nlimits; i++) {
        free(srv->limits[i].name);
        if (srv->limits[i].rl) ratelimit_free(srv->limits[i].rl);
    }
    free_list(srv->cors, srv->ncors);
    free_list(srv->trusted, srv->ntrusted);
    free(srv->public_url);
    pthread_mutex_destroy(&srv->q_mu);
    pthread_cond_destroy(&srv->q_cv);
    free(srv);
}

int http_server_port(const http_server_t *srv) { return atomic_load(&srv->port); }

void http_server_stop(http_server_t *srv) { atomic_store(&srv->stop_requested, 1); }

/* ------------------------------------------------------------------------------------------
 * Request life: build -> dispatch -> (worker) -> finish */

static void req_free(http_req_t *req) {
    kv_free(&req->params);
    kv_free(&req->query);
    kv_free(&req->headers);
    kv_free(&req->cookies);
    kv_free(&req->out_headers);
    free(req->path);
    free(req->body);
    free(req->resp_body);
    cJSON_Delete(req->json);
    if (req->user && req->user_free) req->user_free(req->user);
    free(req);
}

static int sane_request_id(const char *s) {
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 64) return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.'))
            return 0;
    return 1;
}

/* Client address: the peer, or walking X-Forwarded-For from the right while the hop is a
 * trusted proxy. */
static void resolve_client(http_req_t *req) {
    str_copy(req->client, req->peer, sizeof req->client);
    if (!is_trusted(req->srv, req->peer)) return;
    const char *xff = http_header(req, "X-Forwarded-For");
    if (!xff) return;
    int n = 0;
    char **hops = split_list(xff, &n);
    for (int i = n - 1; i >= 0; i--) {
        str_copy(req->client, hops[i], sizeof req->client);
        if (!is_trusted(req->srv, hops[i])) break;
    }
    free_list(hops, n);
}

/* The Access-Control-Allow-Origin for this request, or NULL: the Origin itself when
 * CORS_ORIGINS names it (then with credentials, *credentials = 1), else "*" when CORS_ORIGINS
 * has "*" (never with credentials: a browser would send any site's cookies). "null" (sandboxed
 * documents, file: pages) is never allowed. */
static const char *cors_origin(const http_req_t *req, int *credentials) {
    const char *origin = http_header(req, "Origin");
    int any = 0;
    *credentials = 0;
    if (!origin || strcmp(origin, "null") == 0) return NULL;
    for (int i = 0; i < req->srv->ncors; i++) {
        if (strcmp(req->srv->cors[i], origin) == 0) {
            *credentials = 1;
            return origin;
        }
        any |= strcmp(req->srv->cors[i], "*") == 0;
    }
    return any ? "*" : NULL;
}

static void log_access(const http_req_t *req, double secs) {
    if (!log_enabled(LOG_INFO)) return;
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "request_id", req->request_id);
    cJSON_AddStringToObject(f, "method", req->method);
    cJSON_AddStringToObject(f, "path", req->path);
    cJSON_AddStringToObject(f, "route", http_route_pattern(req));
    cJSON_AddNumberToObject(f, "status", req->status);
    cJSON_AddNumberToObject(f, "duration_ms", secs * 1000.0);
    cJSON_AddNumberToObject(f, "bytes", (double)req->resp_len);
    cJSON_AddStringToObject(f, "client", req->client);
    log_fields(LOG_INFO, "request", f);
}

static void record(const http_req_t *req) {
    double secs = (double)(mono_ns() - req->t0) / 1e9;
    char labels[256];
    snprintf(labels, sizeof labels, "route=\"%s\",method=\"%s\",status=\"%d\"",
             http_route_pattern(req), req->method, req->status);
    metrics_inc("tizza_http_requests_total", labels, 1);
    snprintf(labels, sizeof labels, "route=\"%s\",method=\"%s\"", http_route_pattern(req),
             req->method);
    metrics_observe("tizza_http_request_duration_seconds", labels, secs);
    log_access(req, secs);
}

/* Reason phrase of the status line. */
static const char *status_reason(int status) {
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 304: return "Not Modified";
    default: return problem_title(status);
    }
}

static void answers_done(struct loop *lp, int n) {
    lp->inflight -= n;
    if (lp->draining && lp->grace_over && lp->inflight == 0) event_base_loopexit(lp->base, NULL);
}

static void on_reply_written(struct evhttp_request *ev, void *arg) {
    struct loop *lp = arg;
    if (ev) conn_written(conn_find(lp->guard, ev));
    answers_done(lp, 1);
}

/* Answers whose connection died before they were written (a client that reset): not in
 * flight any more. */
static void on_answers_lost(int n, void *arg) { answers_done(arg, n); }

static void free_body(const void *data, size_t len, void *arg) { free((void *)data); }

/* Loop thread: turn the http_req_t's answer into an evhttp reply and free the request. */
static void finish(http_req_t *req) {
    struct loop *lp = req->loop;
    if (!req->replied) {
        log_msg(LOG_ERROR, "handler for %s %s did not answer", req->method, req->path);
        http_reply_problem(req, 500, "the server could not answer this request");
    }
    struct evkeyvalq *out = evhttp_request_get_output_headers(req->ev);
    if (req->resp_type) evhttp_add_header(out, "Content-Type", req->resp_type);
    evhttp_add_header(out, "X-Request-Id", req->request_id);
    evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
    evhttp_add_header(out, "X-Frame-Options", "DENY");
    evhttp_add_header(out, "Referrer-Policy", "no-referrer");
    evhttp_add_header(out, "Cache-Control", "no-store");
    int credentials;
    const char *origin = cors_origin(req, &credentials);
    if (origin) {
        evhttp_add_header(out, "Access-Control-Allow-Origin", origin);
        if (credentials) evhttp_add_header(out, "Access-Control-Allow-Credentials", "true");
        evhttp_add_header(out, "Access-Control-Expose-Headers",
                          "X-Request-Id, Location, Retry-After");
    }
    if (req->srv->ncors) evhttp_add_header(out, "Vary", "Origin");
    for (int i = 0; i < req->out_headers.n; i++)
        evhttp_add_header(out, req->out_headers.items[i].k, req->out_headers.items[i].v);
    if (lp->draining) evhttp_add_header(out, "Connection", "close");
    struct evbuffer *buf = evbuffer_new();
    if (req->resp_len && strcmp(req->method, "HEAD") != 0 &&
        evbuffer_add_reference(buf, req->resp_body, req->resp_len, free_body, NULL) == 0)
        req->resp_body = NULL; /* the buffer frees it once written (no copy) */
    /* in-flight ends when the reply is written (on_reply_written), so a drain never cuts
     * off an answer that is still in the socket buffer */
    int writing = evhttp_request_get_connection(req->ev) != NULL;
    conn_request_end(req->conn, writing);
    if (writing)
        evhttp_request_set_on_complete_cb(req->ev, on_reply_written, lp);
    else /* libevent just frees it */
        on_reply_written(NULL, lp);
    evhttp_send_reply(req->ev, req->status, status_reason(req->status), buf);
    evbuffer_free(buf);
    record(req);
    req_free(req);
}

static void run_handler(http_req_t *req) { req->entry->fn(req, req->entry->ctx); }

static void *worker_main(void *arg) {
    http_server_t *srv = arg;
    for (;;) {
        pthread_mutex_lock(&srv->q_mu);
        while (!srv->q_head && !srv->q_stop) pthread_cond_wait(&srv->q_cv, &srv->q_mu);
        http_req_t *req = srv->q_head;
        if (!req) { /* stopping and nothing left */
            pthread_mutex_unlock(&srv->q_mu);
            return NULL;
        }
        srv->q_head = req->next;
        if (!srv->q_head) srv->q_tail = NULL;
        pthread_mutex_unlock(&srv->q_mu);

        req->next = NULL;
        req->on_worker = 1;
        if (req->cont)
            req->cont(req, req->cont_arg);
        else
            run_handler(req);

        struct loop *lp = req->loop;
        pthread_mutex_lock(&lp->done_mu);
        if (lp->done_tail)
            lp->done_tail->next = req;
        else
            lp->done_head = req;
        lp->done_tail = req;
        pthread_mutex_unlock(&lp->done_mu);
        event_active(lp->done_ev, EV_READ, 0);
    }
}

static void on_done(evutil_socket_t fd, short what, void *arg) {
    struct loop *lp = arg;
    pthread_mutex_lock(&lp->done_mu);
    http_req_t *list = lp->done_head;
    lp->done_head = lp->done_tail = NULL;
    pthread_mutex_unlock(&lp->done_mu);
    while (list) {
        http_req_t *next = list->next;
        finish(list);
        list = next;
    }
}

static void offload(http_req_t *req) {
    http_server_t *srv = req->srv;
    pthread_mutex_lock(&srv->q_mu);
    if (srv->q_tail)
        srv->q_tail->next = req;
    else
        srv->q_head = req;
    srv->q_tail = req;
    pthread_cond_signal(&srv->q_cv);
    pthread_mutex_unlock(&srv->q_mu);
}

static int content_type_is_json(const char *ct) {
    if (!ct) return 0;
    while (*ct == ' ') ct++;
    size_t n = strlen("application/json");
    if (strncasecmp(ct, "application/json", n) != 0) return 0;
    return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

/* Answers what the framework answers by itself. Returns 1 when the request is answered. */
static int precheck(http_req_t *req, const route_t *r) {
    if (!r) {
        http_reply_problem(req, 404, "no such resource");
        return 1;
    }
    char allow[ROUTE_ALLOW_MAX];
    route_allow(r, allow, sizeof allow);
    if (strcmp(req->method, "OPTIONS") == 0) {
        http_add_header(req, "Allow", allow);
        int credentials;
        if (cors_origin(req, &credentials) && http_header(req, "Access-Control-Request-Method")) {
            http_add_header(req, "Access-Control-Allow-Methods", allow);
            http_add_header(req, "Access-Control-Allow-Headers",
                            "Content-Type, Authorization, X-Request-Id, traceparent");
            http_add_header(req, "Access-Control-Max-Age", "600");
        }
        http_reply_empty(req, 204);
        return 1;
    }
    const char *m = strcmp(req->method, "HEAD") == 0 ? "GET" : req->method;
    req->entry = route_method(r, m);
    if (!req->entry) {
        http_add_header(req, "Allow", allow);
        http_reply_problem(req, 405, "method not allowed on this resource");
        return 1;
    }
    if (req->entry->limit) {
        int retry = 1;
        if (!ratelimit_take(req->entry->limit, req->client, &retry)) {
            char s[16];
            snprintf(s, sizeof s, "%d", retry);
            http_add_header(req, "Retry-After", s);
            http_reply_problem(req, 429, "too many requests; try again later");
            return 1;
        }
    }
    int mutation = !strcmp(m, "POST") || !strcmp(m, "PUT") || !strcmp(m, "PATCH");
    if (req->body_len > req->srv->cfg.body_limit) {
        char d[96];
        snprintf(d, sizeof d, "request body is over the limit of %zu bytes",
                 req->srv->cfg.body_limit);
        http_reply_problem(req, 413, d);
        return 1;
    }
    if (mutation && req->body_len && !content_type_is_json(http_header(req, "Content-Type"))) {
        http_reply_problem(req, 415, "request body must be application/json");
        return 1;
    }
    return 0;
}

static void add_query(const char *key, const char *value, void *list) { kv_add(list, key, value); }

/* Copies the evhttp request into an http_req_t. */
static http_req_t *req_build(struct loop *lp, struct evhttp_request *ev) {
    http_req_t *req = xcalloc(1, sizeof *req);
    req->srv = lp->srv;
    req->loop = lp;
    req->ev = ev;
    req->t0 = mono_ns();
    str_copy(req->method, method_name(evhttp_request_get_command(ev)), sizeof req->method);

    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(ev);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    req->path = xstrdup(path && *path ? path : "/");
    const char *qs = uri ? evhttp_uri_get_query(uri) : NULL;
    if (qs) query_parse(qs, add_query, &req->query);
    struct evkeyval *h;
    TAILQ_FOREACH(h, evhttp_request_get_input_headers(ev), next)
    kv_add(&req->headers, h->key, h->value);

    struct evbuffer *in = evhttp_request_get_input_buffer(ev);
    size_t len = evbuffer_get_length(in);
    if (len) {
        req->body = malloc(len + 1);
        if (!req->body) abort();
        evbuffer_copyout(in, req->body, len);
        req->body[len] = '\0';
        req->body_len = len;
    }

    char *addr = NULL;
    ev_uint16_t port = 0;
    struct evhttp_connection *con = evhttp_request_get_connection(ev);
    if (con) evhttp_connection_get_peer(con, &addr, &port);
    str_copy(req->peer, addr ? addr : "", sizeof req->peer);
    resolve_client(req);

    const char *rid = http_header(req, "X-Request-Id");
    if (sane_request_id(rid)) {
        str_copy(req->request_id, rid, sizeof req->request_id);
    } else {
        unsigned char raw[16];
        randombytes_buf(raw, sizeof raw);
        sodium_bin2hex(req->request_id, sizeof req->request_id, raw, sizeof raw);
    }
    return req;
}

static void on_request(struct evhttp_request *ev, void *arg) {
    struct loop *lp = arg;
    lp->inflight++;
    http_req_t *req = req_build(lp, ev);
    req->conn = conn_request_begin(lp->guard, ev);
    conn_local_addr(req->conn, req->local, sizeof req->local);
    req->route = route_request(lp->srv, req);
    if (precheck(req, req->route)) {
        finish(req);
        return;
    }
    if (req->entry->flags & HTTP_OFFLOAD) {
        offload(req);
        return;
    }
    run_handler(req);
    if (req->cont) { /* http_finish_on_worker */
        offload(req);
        return;
    }
    finish(req);
}

/* ------------------------------------------------------------------------------------------
 * Loops */

static int listen_socket(const char *host, int port) {
    struct sockaddr_storage ss;
    socklen_t sl;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)port);
        sl = sizeof *in4;
    } else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        sl = sizeof *in6;
    } else {
        errno = EINVAL;
        return -1;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, 1024) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static void on_drain_timeout(evutil_socket_t fd, short what, void *arg) {
    struct loop *lp = arg;
    log_msg(LOG_WARN, "drain timeout with %d requests in flight", lp->inflight);
    event_base_loopexit(lp->base, NULL);
}

static void on_grace_over(evutil_socket_t fd, short what, void *arg) {
    struct loop *lp = arg;
    lp->grace_over = 1;
    if (lp->inflight == 0) event_base_loopexit(lp->base, NULL);
}

static struct event *timer_in(struct loop *lp, int ms, event_callback_fn fn) {
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    struct event *ev = evtimer_new(lp->base, fn, lp);
    evtimer_add(ev, &tv);
    return ev;
}

static void on_stop(evutil_socket_t fd, short what, void *arg) {
    struct loop *lp = arg;
    if (lp->draining) return;
    lp->draining = 1;
    if (lp->bound) {
        conn_guard_unbind(lp->guard);
        evhttp_del_accept_socket(lp->http, lp->bound);
        lp->bound = NULL;
    }
    lp->grace_timer = timer_in(lp, lp->srv->cfg.grace_ms, on_grace_over);
    lp->drain_timer = timer_in(lp, lp->srv->cfg.drain_ms, on_drain_timeout);
}

static void *loop_main(void *arg) {
    struct loop *lp = arg;
    event_base_dispatch(lp->base);
    return NULL;
}

static int loop_init(http_server_t *srv, struct loop *lp, int fd) {
    lp->srv = srv;
    lp->fd = fd;
    pthread_mutex_init(&lp->done_mu, NULL);
    lp->base = event_base_new();
    lp->http = evhttp_new(lp->base);
    if (!lp->base || !lp->http) return -1;
    /* every method, unknown ones included (libevent parses them as its "unknown" bit), so
     * the router answers 405 + Allow as problem+json instead of libevent's HTML 501 */
    evhttp_set_allowed_methods(lp->http, 0xFFFF);
    evhttp_set_max_body_size(lp->http, (ev_ssize_t)srv->cfg.body_limit * 16);
    evhttp_set_max_headers_size(lp->http, 2 * WIRE_HEAD_LIMIT); /* wire.c refuses first */
    evhttp_set_gencb(lp->http, on_request, lp);
    lp->done_ev = event_new(lp->base, -1, 0, on_done, lp);
    lp->stop_ev = event_new(lp->base, -1, 0, on_stop, lp);
    lp->bound = evhttp_accept_socket_with_handle(lp->http, fd);
    if (!lp->bound) return -1;
    lp->guard = conn_guard_new(srv->conns, lp->base, lp->http, lp->bound, on_answers_lost, lp);
    return 0;
}

static void loop_free(struct loop *lp) {
    /* Requests a worker finished after this loop stopped: answer them so evhttp owns them
     * again, then free everything. */
    on_done(-1, 0, lp);
    if (lp->drain_timer) event_free(lp->drain_timer);
    if (lp->grace_timer) event_free(lp->grace_timer);
    if (lp->done_ev) event_free(lp->done_ev);
    if (lp->stop_ev) event_free(lp->stop_ev);
    if (lp->http) evhttp_free(lp->http);
    conn_guard_free(lp->guard);
    if (lp->base) event_base_free(lp->base);
    pthread_mutex_destroy(&lp->done_mu);
}

/* A trusted proxy carries many clients: its connections do not count per address. */
static int exempt_from_client_limit(const char *addr, void *ctx) { return is_trusted(ctx, addr); }

static void wait_for_stop(http_server_t *srv) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    struct timespec ts = {0, 100 * 1000 * 1000};
    while (!atomic_load(&srv->stop_requested)) {
        int sig = sigtimedwait(&set, NULL, &ts);
        if (sig == SIGINT || sig == SIGTERM) {
            log_msg(LOG_INFO, "signal %d: draining", sig);
            break;
        }
    }
}

int http_server_run(http_server_t *srv) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, (void (*)(void))evthread_use_pthreads);
    if (sodium_init() < 0) return -1;

    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    signal(SIGPIPE, SIG_IGN);

    conn_config_t cc = {.max_connections = srv->cfg.max_connections,
                        .max_client_connections = srv->cfg.max_client_connections,
                        .request_timeout_ms = srv->cfg.request_timeout_ms,
                        .keepalive_timeout_ms = srv->cfg.keepalive_timeout_ms,
                        .body_limit = srv->cfg.body_limit,
                        .exempt = exempt_from_client_limit,
                        .exempt_ctx = srv};
    srv->conns = conn_shared_new(&cc);
    srv->nloops = srv->cfg.threads;
    srv->loops = xcalloc((size_t)srv->nloops, sizeof *srv->loops);
    int rc = 0, port = srv->cfg.port;
    for (int i = 0; i < srv->nloops && rc == 0; i++) {
        int fd = listen_socket(srv->cfg.host, port);
        if (fd < 0) {
            log_msg(LOG_ERROR, "cannot listen on %s:%d: %s", srv->cfg.host, port, strerror(errno));
            rc = -1;
            break;
        }
        if (port == 0) { /* first socket picked the port; the others share it */
            struct sockaddr_storage ss;
            socklen_t sl = sizeof ss;
            getsockname(fd, (struct sockaddr *)&ss, &sl);
            port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                                 : ((struct sockaddr_in6 *)&ss)->sin6_port);
        }
        if (loop_init(srv, &srv->loops[i], fd) != 0) {
            close(fd);
            rc = -1;
        }
    }
    atomic_store(&srv->port, port);

    if (rc == 0) {
        srv->nworkers = srv->cfg.workers;
        srv->workers = xcalloc((size_t)srv->nworkers, sizeof *srv->workers);
        for (int i = 0; i < srv->nworkers; i++)
            pthread_create(&srv->workers[i], NULL, worker_main, srv);
        for (int i = 0; i < srv->nloops; i++)
            pthread_create(&srv->loops[i].thread, NULL, loop_main, &srv->loops[i]);
        log_msg(LOG_INFO, "%s %s listening on %s:%d (%d loops, %d workers)", srv->cfg.service,
                srv->cfg.version, srv->cfg.host, port, srv->nloops, srv->nworkers);

        wait_for_stop(srv);

        for (int i = 0; i < srv->nloops; i++) event_active(srv->loops[i].stop_ev, EV_READ, 0);
        for (int i = 0; i < srv->nloops; i++) pthread_join(srv->loops[i].thread, NULL);
        pthread_mutex_lock(&srv->q_mu);
        srv->q_stop = 1;
        pthread_cond_broadcast(&srv->q_cv);
        pthread_mutex_unlock(&srv->q_mu);
        for (int i = 0; i < srv->nworkers; i++) pthread_join(srv->workers[i], NULL);
        free(srv->workers);
        srv->workers = NULL;
    }
    for (int i = 0; i < srv->nloops; i++) loop_free(&srv->loops[i]);
    free(srv->loops);
    srv->loops = NULL;
    conn_shared_free(srv->conns);
    srv->conns = NULL;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc == 0) log_msg(LOG_INFO, "stopped");
    return rc;
}
