/* http_internal -- what the http_* files share and nothing else includes (except unit tests):
 * the server, loop and request structs, and the helpers one of them defines for the others.
 *
 * Who owns what: http.c the server and its loops (threads, workers, signals, the evhttp
 * reply); http_req.c a request's fields (built from evhttp, read by accessors, answered into);
 * http_router.c the route table's entries and the answers before a handler runs;
 * http_origin.c the TRUSTED_PROXIES, CORS_ORIGINS and PUBLIC_URL rules; http_page.c and
 * http_builtin.c only read them. */
#ifndef TIZZA_HTTP_INTERNAL_H
#define TIZZA_HTTP_INTERNAL_H

#include "conn.h"
#include "http.h"
#include "http_origin.h"
#include "ratelimit.h"
#include "route.h"
#include "trace.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

/* ---- string pairs (headers, query, path parameters, cookies) ---- */

struct kv {
    char *k, *v;
};

struct kvlist {
    struct kv *items;
    int n, cap;
};

void kv_add(struct kvlist *l, const char *k, const char *v); /* copies both; v NULL as "" */
const char *kv_get(const struct kvlist *l, const char *k, int nocase);
void kv_free(struct kvlist *l);

/* ---- the server ---- */

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
    http_origin_rules_t *origin; /* CORS_ORIGINS, TRUSTED_PROXIES, PUBLIC_URL */
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

/* ---- a request ---- */

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
    trace_span_t *span; /* the server span (trace.h), NULL when tracing is off */
    http_req_t *next;
};

/* http_req.c: a request of `srv` with every field copied out of `ev` (method, path, query,
 * headers, body, peer address), its client address and request id settled. */
http_req_t *http_req_from_evhttp(http_server_t *srv, struct loop *lp, struct evhttp_request *ev);
/* A request of `srv` made by hand (unit tests): method and path; the rest empty. */
http_req_t *http_req_new(http_server_t *srv, const char *method, const char *path);
void http_req_free(http_req_t *req);

/* A comma-separated list as an array of its trimmed, non-empty items (NULL when none). */
char **http_split_list(const char *s, int *n);
void http_free_list(char **l, int n);

#endif
