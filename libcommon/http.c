/* http -- the server: loops, workers, signals, the written answer (see http.h; a request and
 * its answer are http_req.c, routing and the server's own answers http_router.c).
 *
 * Threads and ownership
 * ---------------------
 * http_server_run() starts `threads` loop threads. Each owns an event_base and an evhttp
 * bound to its own SO_REUSEPORT socket on the same port, so the kernel spreads connections
 * over the loops. When evhttp hands a request to on_request() it is copied into an
 * http_req_t (http_req_from_evhttp) and dispatched (http_dispatch). INLINE routes run the
 * handler right there; OFFLOAD routes are queued to the worker pool (a mutex + condition
 * variable queue). A worker runs the handler, appends the request to its loop's `done` list
 * and wakes the loop with event_active() on the loop's `done_ev`; the loop then sends the
 * reply. So evhttp is only touched by the thread that owns it, and the handler never touches
 * evhttp at all.
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
 * Limits: bodies above body_limit (upload_limit on an HTTP_UPLOAD route) get a JSON 413
 * (http_router.c; a Content-Length over it is refused before the body is read, wire.h).
 * libevent's own hard cap (evhttp's max_body_size) is set to 16x body_limit, or the upload
 * limit when that is more, so a huge upload is cut off without being buffered. */
#include "http.h"

#include "alloc.h"
#include "config.h"
#include "conn.h"
#include "http_builtin.h"
#include "http_internal.h"
#include "log.h"
#include "metrics.h"
#include "problem.h"
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
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

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
    {.name = "UPLOAD_LIMIT",
     .type = CONFIG_LONG,
     .def = "5242880",
     .min = 1024,
     .max = 67108864,
     .help = "request body limit in bytes of the routes that take a file (a picture)"},
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
    cfg->upload_limit = (size_t)config_long("UPLOAD_LIMIT");
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
 * Server lifecycle */

http_server_t *http_server_new(const http_config_t *cfg) {
    http_server_t *srv = xcalloc(1, sizeof *srv);
    srv->cfg = *cfg;
    config_declare(http_config_vars);
    srv->origin = http_origin_rules_from_env();
    /* which replica answered /info: the host name (a container's id, a Kubernetes pod's
     * name), which does not change while the process runs */
    gethostname(srv->instance, sizeof srv->instance - 1);
    srv->routes = route_table_new();
    pthread_mutex_init(&srv->q_mu, NULL);
    pthread_cond_init(&srv->q_cv, NULL);
    http_builtin_routes(srv);
    metrics_help("tizza_http_requests_total", "counter",
                 "HTTP requests by route, method and status");
    metrics_help("tizza_http_request_duration_seconds", "histogram",
                 "HTTP request latency by route and method");
    return srv;
}

void http_server_free(http_server_t *srv) {
    if (!srv) return;
    http_router_free(srv);
    http_origin_rules_free(srv->origin);
    pthread_mutex_destroy(&srv->q_mu);
    pthread_cond_destroy(&srv->q_cv);
    free(srv);
}

int http_server_port(const http_server_t *srv) { return atomic_load(&srv->port); }

void http_server_stop(http_server_t *srv) { atomic_store(&srv->stop_requested, 1); }

/* ------------------------------------------------------------------------------------------
 * Request life: build -> dispatch -> (worker) -> finish */

static void log_access(const http_req_t *req, double secs) {
    if (!log_enabled(LOG_INFO)) return;
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "request_id", req->request_id);
    if (req->span) {
        char hex[33];
        trace_id_hex(&req->span->ctx, hex);
        cJSON_AddStringToObject(f, "trace_id", hex);
        trace_span_id_hex(&req->span->ctx, hex);
        cJSON_AddStringToObject(f, "span_id", hex);
    }
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

/* The server span, once the answer is handed over: "METHOD route", attributes, and an error
 * for a 5xx (a 4xx is the client's). */
static void end_span(http_req_t *req) {
    trace_span_t *sp = req->span;
    if (!sp) return;
    req->span = NULL;
    if (sp->ctx.sampled) {
        snprintf(sp->name, sizeof sp->name, "%s %s", req->method, http_route_pattern(req));
        trace_span_attr_str(sp, "http.request.method", req->method);
        trace_span_attr_str(sp, "http.route", http_route_pattern(req));
        trace_span_attr_int(sp, "http.response.status_code", req->status);
        if (req->status >= 500) trace_span_set_error(sp);
    }
    trace_span_end(sp);
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
    bool own_cache = false; /* a handler's Cache-Control (a picture's) replaces no-store */
    for (int i = 0; i < req->out_headers.n; i++)
        own_cache |= strcasecmp(req->out_headers.items[i].k, "Cache-Control") == 0;
    if (!own_cache) evhttp_add_header(out, "Cache-Control", "no-store");
    bool credentials;
    const char *origin =
        http_origin_cors(req->srv->origin, http_header(req, "Origin"), &credentials);
    if (origin) {
        evhttp_add_header(out, "Access-Control-Allow-Origin", origin);
        if (credentials) evhttp_add_header(out, "Access-Control-Allow-Credentials", "true");
        evhttp_add_header(out, "Access-Control-Expose-Headers",
                          "X-Request-Id, Location, Retry-After, ETag");
    }
    if (http_origin_cors_on(req->srv->origin)) evhttp_add_header(out, "Vary", "Origin");
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
    end_span(req);
    http_req_free(req);
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

static void on_request(struct evhttp_request *ev, void *arg) {
    struct loop *lp = arg;
    lp->inflight++;
    http_req_t *req = http_req_from_evhttp(lp->srv, lp, ev);
    req->conn = conn_request_begin(lp->guard, ev);
    conn_local_addr(req->conn, req->local, sizeof req->local);
    if (http_dispatch(req)) {
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
    size_t cap = srv->cfg.body_limit * 16;
    evhttp_set_max_body_size(
        lp->http, (ev_ssize_t)(cap > srv->cfg.upload_limit ? cap : srv->cfg.upload_limit));
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
static int exempt_from_client_limit(const char *addr, void *ctx) {
    return http_origin_trusted(ctx, addr);
}

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
                        .upload_limit = srv->cfg.upload_limit,
                        .is_upload = http_is_upload,
                        .upload_ctx = srv,
                        .exempt = exempt_from_client_limit,
                        .exempt_ctx = srv->origin};
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
