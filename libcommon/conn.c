/* conn -- connection limits and deadlines beside evhttp; see conn.h. */
#include "conn.h"

#include "alloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <search.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <sodium.h>

#include "config.h"
#include "log.h"
#include "metrics.h"
#include "problem.h"
#include "util.h"
#include "wire.h"

#define SWEEP_MS     100
#define PAUSE_MS     100  /* accepting paused this long when out of descriptors */
#define LINGER_MS    500  /* a refused connection's client gets this long to read the answer */
#define HEADROOM     64   /* refused connections awaiting close before accepting pauses */
#define SPARE_BATCH  1024 /* waiting clients told 503 at once when out of descriptors */
#define LOG_EVERY_MS 10000

enum reason { R_CLIENT, R_MAX, R_TIMEOUT, R_IDLE, R_ACCEPT, R_PROTOCOL, R_COUNT };
static const char *const reason_name[R_COUNT] = {"client_limit",    "max_connections",
                                                 "request_timeout", "keepalive_timeout",
                                                 "accept_error",    "bad_request"};

struct client_count {
    char addr[INET6_ADDRSTRLEN];
    int n;
};

struct conn_shared {
    conn_config_t cfg;
    atomic_int open;
    pthread_mutex_t mu; /* clients, logged */
    void *clients;      /* tsearch tree of struct client_count */
    long refused[R_COUNT], logged_at[R_COUNT];
    char last[R_COUNT][INET6_ADDRSTRLEN]; /* the latest refused client, for the log */
    pthread_mutex_t spare_mu;
    int spare; /* a descriptor held back to answer 503 when the others run out */
};

struct conn {
    conn_guard_t *g;
    struct bufferevent *bev;
    struct evbuffer_cb_entry *input_cb;
    wire_t *wire;        /* the request bytes' checks (wire.h) */
    conn_t *prev, *next; /* the guard's list, oldest first */
    conn_t *pending;     /* the next in the guard's list of connections to admit */
    int admitted;        /* checked against the limits */
    int64_t since;       /* accepted, or its last answer handed over (ms) */
    int64_t head_since;  /* first byte of the request being read; 0: none */
    int64_t closing_since;
    int busy;    /* requests dispatched, not answered */
    int writing; /* answers handed to evhttp, not yet written */
    int counted; /* in the per-address counts */
    char addr[INET6_ADDRSTRLEN];
    char local[INET6_ADDRSTRLEN + 8]; /* host:port the client connected to */
};

struct conn_guard {
    conn_shared_t *sh;
    struct event_base *base;
    struct evconnlistener *listener;
    struct event *sweep_ev, *admit_ev;
    conn_t *head, *tail, *pending;
    void *by_bev; /* tsearch tree of conn_t, by bev */
    int nclosing, paused;
    int64_t paused_until;
    conn_lost_fn lost;
    void *lost_arg;
    conn_guard_t *next_listening;
};

static int64_t now(void) { return (int64_t)(mono_ns() / 1000000); }

/* MAX_CONNECTIONS' default: room under the descriptor limit for the store, the broker,
 * remote calls and refusals, at most 16384. */
static long max_connections_default(void) {
    struct rlimit rl = {0};
    long fds = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
                   ? (long)rl.rlim_cur
                   : 65536;
    long def = fds - 128 - HEADROOM;
    if (def > 16384) def = 16384;
    if (def < 16) def = 16;
    return def;
}

const config_var_t conn_config_vars[] = {
    {.name = "MAX_CONNECTIONS",
     .type = CONFIG_LONG,
     .def_fn = max_connections_default,
     .def_doc = "16384, or the descriptor limit less 192 when that is lower",
     .min = 1,
     .max = 1000000,
     .help = "open client connections per process; at the limit the oldest idle keep-alive "
             "connection is closed to make room, else the new one gets 503"},
    {.name = "MAX_CLIENT_CONNECTIONS",
     .type = CONFIG_LONG,
     .def = "256",
     .min = 0,
     .max = 1000000,
     .help = "open connections per client address, 0: no limit (503 past it); peers in "
             "TRUSTED_PROXIES are exempt"},
    {.name = "REQUEST_TIMEOUT_MS",
     .type = CONFIG_LONG,
     .def = "10000",
     .min = 100,
     .max = 600000,
     .help = "a whole request, head and body, from its first byte (408 and close past it)"},
    {.name = "KEEPALIVE_TIMEOUT_MS",
     .type = CONFIG_LONG,
     .def = "60000",
     .min = 100,
     .max = 3600000,
     .help = "a connection idle between requests is closed after this"},
    {.name = NULL},
};

void conn_config_from_env(conn_config_t *cfg) {
    memset(cfg, 0, sizeof *cfg);
    config_declare(conn_config_vars);
    cfg->max_connections = (int)config_long("MAX_CONNECTIONS");
    cfg->max_client_connections = (int)config_long("MAX_CLIENT_CONNECTIONS");
    cfg->request_timeout_ms = (int)config_long("REQUEST_TIMEOUT_MS");
    cfg->keepalive_timeout_ms = (int)config_long("KEEPALIVE_TIMEOUT_MS");
}

conn_shared_t *conn_shared_new(const conn_config_t *cfg) {
    conn_shared_t *sh = xcalloc(1, sizeof *sh);
    sh->cfg = *cfg;
    pthread_mutex_init(&sh->mu, NULL);
    pthread_mutex_init(&sh->spare_mu, NULL);
    sh->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
    metrics_help("tizza_http_connections", "gauge", "Client connections open.");
    metrics_help("tizza_http_connections_refused_total", "counter",
                 "Connections refused or closed by the server's limits, by reason.");
    return sh;
}

void conn_shared_free(conn_shared_t *sh) {
    if (!sh) return;
    tdestroy(sh->clients, free);
    if (sh->spare >= 0) close(sh->spare);
    pthread_mutex_destroy(&sh->spare_mu);
    pthread_mutex_destroy(&sh->mu);
    free(sh);
}

int conn_open(const conn_shared_t *sh) { return atomic_load(&sh->open); }

static int cmp_ptr(const void *a, const void *b) {
    const conn_t *x = a, *y = b;
    return x->bev < y->bev ? -1 : x->bev > y->bev;
}

static int cmp_addr(const void *a, const void *b) {
    return strcmp(((const struct client_count *)a)->addr, ((const struct client_count *)b)->addr);
}

/* Logs the refusals of each reason counted since its last line, at most once per
 * LOG_EVERY_MS; the first refusal after a quiet period is logged at once. */
static void refusals_log(conn_shared_t *sh) {
    long n[R_COUNT] = {0}, t = (long)now();
    char last[R_COUNT][INET6_ADDRSTRLEN];
    pthread_mutex_lock(&sh->mu);
    for (int r = 0; r < R_COUNT; r++)
        if (sh->refused[r] && (sh->logged_at[r] == 0 || t - sh->logged_at[r] >= LOG_EVERY_MS)) {
            n[r] = sh->refused[r];
            memcpy(last[r], sh->last[r], sizeof last[r]);
            sh->refused[r] = 0;
            sh->logged_at[r] = t;
        }
    pthread_mutex_unlock(&sh->mu);
    for (int r = 0; r < R_COUNT; r++)
        if (n[r])
            log_msg(LOG_WARN, "connections %s: %ld in the last %d s (latest from %s, %d open)",
                    reason_name[r], n[r], LOG_EVERY_MS / 1000, last[r][0] ? last[r] : "-",
                    atomic_load(&sh->open));
}

/* Counts a refusal (metric, and the next log line of its reason). */
static void refused(conn_shared_t *sh, enum reason r, const char *addr) {
    char labels[64];
    snprintf(labels, sizeof labels, "reason=\"%s\"", reason_name[r]);
    metrics_inc("tizza_http_connections_refused_total", labels, 1);
    pthread_mutex_lock(&sh->mu);
    sh->refused[r]++;
    str_copy(sh->last[r], addr ? addr : "", sizeof sh->last[r]);
    pthread_mutex_unlock(&sh->mu);
    refusals_log(sh);
}

/* Per-address count: +1 or -1; returns the new count. */
static int client_add(conn_shared_t *sh, const char *addr, int delta) {
    struct client_count key;
    str_copy(key.addr, addr, sizeof key.addr);
    pthread_mutex_lock(&sh->mu);
    struct client_count **found = tfind(&key, &sh->clients, cmp_addr);
    struct client_count *cc = found ? *found : NULL;
    if (!cc && delta > 0) {
        cc = xcalloc(1, sizeof *cc);
        str_copy(cc->addr, addr, sizeof cc->addr);
        tsearch(cc, &sh->clients, cmp_addr);
    }
    int n = 0;
    if (cc) {
        n = cc->n += delta;
        if (n <= 0) {
            tdelete(cc, &sh->clients, cmp_addr);
            free(cc);
        }
    }
    pthread_mutex_unlock(&sh->mu);
    return n;
}

/* Writes a problem+json answer straight to socket `fd` (non-blocking, best effort). */
static void answer(int fd, int status, const char *detail) {
    cJSON *p = problem_new(status, detail);
    char *body = cJSON_PrintUnformatted(p);
    cJSON_Delete(p);
    unsigned char raw[16];
    char rid[33], head[512];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(rid, sizeof rid, raw, sizeof raw);
    size_t blen = body ? strlen(body) : 0;
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: application/problem+json\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n%sX-Request-Id: %s\r\n\r\n",
                     status, problem_title(status), blen, status == 503 ? "Retry-After: 1\r\n" : "",
                     rid);
    struct iovec iov[2] = {{head, (size_t)n}, {body, blen}};
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = body ? 2 : 1};
    (void)sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    free(body);
}

/* ---- closing ---------------------------------------------------------------------------- */

static void release(conn_guard_t *g, conn_t *c);

/* evhttp has freed the connection (bufferevent_free() cleared the callbacks; only the
 * guard's reference keeps the bufferevent). */
static int freed_by_evhttp(const conn_t *c) {
    bufferevent_data_cb r, w;
    bufferevent_event_cb e;
    void *arg;
    bufferevent_getcb(c->bev, &r, &w, &e, &arg);
    return !r && !w && !e;
}

/* Ends a connection now: evhttp frees it (a request being handled keeps it until answered:
 * then its socket is only shut down), and the guard lets go of it. */
static void conn_drop(conn_t *c) {
    if (c->busy) {
        int fd = bufferevent_getfd(c->bev);
        if (fd >= 0) shutdown(fd, SHUT_RDWR);
        return;
    }
    if (!freed_by_evhttp(c)) {
        bufferevent_data_cb r, w;
        bufferevent_event_cb e;
        void *evcon; /* evhttp's argument to its bufferevent callbacks is the connection */
        bufferevent_getcb(c->bev, &r, &w, &e, &evcon);
        evhttp_connection_free(evcon);
    }
    release(c->g, c);
}

/* Ends a connection, with a problem+json answer written straight to the socket when
 * `status` is set and nothing else is being written. The answered client may still be
 * sending, so it gets LINGER_MS to read the answer before the connection is dropped (unless
 * HEADROOM connections already linger: then at once). */
static void conn_close(conn_t *c, int status, const char *detail, int may_drop) {
    if (c->closing_since) return;
    int fd = bufferevent_getfd(c->bev);
    if (status && fd >= 0 && !c->writing && !c->busy &&
        evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
        answer(fd, status, detail);
        if (c->g->nclosing < HEADROOM || !may_drop) {
            shutdown(fd, SHUT_WR);
            c->closing_since = now();
            c->g->nclosing++;
            return;
        }
        char junk[4096]; /* what the client sent: left unread, closing would reset */
        while (recv(fd, junk, sizeof junk, MSG_DONTWAIT) > 0) continue;
    }
    if (may_drop) {
        conn_drop(c);
    } else { /* inside a callback of the connection's own bufferevent */
        if (fd >= 0) shutdown(fd, SHUT_RDWR);
        c->closing_since = now();
        c->g->nclosing++;
    }
}

/* The bytes just read, before evhttp's read callback parses them: checked (wire.h). What
 * arrives on a refused or closing connection is dropped, so evhttp never acts on it. */
static void on_input(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg) {
    conn_t *c = arg;
    if (!info->n_added) return;
    if (!c->closing_since) {
        if (!c->head_since && !c->busy) c->head_since = now();
        size_t len = evbuffer_get_length(buf);
        struct evbuffer_ptr at;
        evbuffer_ptr_set(buf, &at, len - info->n_added, EVBUFFER_PTR_SET);
        struct evbuffer_iovec v[8];
        int nv = evbuffer_peek(buf, (ev_ssize_t)info->n_added, &at, v, 8);
        struct evbuffer_iovec *vs = v;
        if (nv > 8) {
            vs = xmalloc((size_t)nv * sizeof *vs);
            evbuffer_peek(buf, (ev_ssize_t)info->n_added, &at, vs, nv);
        }
        int status = 0;
        const char *detail = NULL;
        size_t left = info->n_added;
        for (int i = 0; i < nv && left && !status; i++) {
            size_t n = vs[i].iov_len < left ? vs[i].iov_len : left;
            status = wire_feed(c->wire, vs[i].iov_base, n, &detail);
            left -= n;
        }
        if (vs != v) free(vs);
        if (!status) return;
        refused(c->g->sh, R_PROTOCOL, c->addr);
        conn_close(c, status, detail, 0);
    }
    evbuffer_drain(buf, evbuffer_get_length(buf));
}

/* ---- admission -------------------------------------------------------------------------- */

static struct bufferevent *on_new_connection(struct event_base *base, void *arg) {
    conn_guard_t *g = arg;
    struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (!bev) return NULL;
    conn_t *c = xcalloc(1, sizeof *c);
    c->g = g;
    c->bev = bev;
    c->since = now();
    bufferevent_incref(bev); /* released by the sweep once evhttp has freed it */
    c->wire = wire_new(g->sh->cfg.body_limit);
    if (g->sh->cfg.is_upload)
        wire_allow_uploads(c->wire, g->sh->cfg.upload_limit, g->sh->cfg.is_upload,
                           g->sh->cfg.upload_ctx);
    c->input_cb = evbuffer_add_cb(bufferevent_get_input(bev), on_input, c);
    tsearch(c, &g->by_bev, cmp_ptr);
    c->prev = g->tail;
    if (g->tail)
        g->tail->next = c;
    else
        g->head = c;
    g->tail = c;
    c->pending = g->pending;
    g->pending = c;
    atomic_fetch_add(&g->sh->open, 1);
    event_active(g->admit_ev, EV_READ, 0); /* once evhttp has given it its socket */
    return bev;
}

static void pause_accepting(conn_guard_t *g, int ms) {
    if (!g->listener) return;
    if (!g->paused) evconnlistener_disable(g->listener);
    g->paused = 1;
    g->paused_until = now() + ms;
}

/* The loop's oldest connection idle between requests, or NULL. */
static conn_t *oldest_idle(conn_guard_t *g, const conn_t *except) {
    for (conn_t *c = g->head; c; c = c->next)
        if (c != except && !c->closing_since && !c->busy && !c->writing && !c->head_since &&
            c->admitted && c->since < now())
            return c;
    return NULL;
}

static void admit(conn_guard_t *g, conn_t *c) {
    const conn_config_t *cfg = &g->sh->cfg;
    c->admitted = 1;
    int fd = bufferevent_getfd(c->bev);
    if (fd < 0) return;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0) {
        const void *a = ss.ss_family == AF_INET6 ? (void *)&((struct sockaddr_in6 *)&ss)->sin6_addr
                                                 : (void *)&((struct sockaddr_in *)&ss)->sin_addr;
        inet_ntop(ss.ss_family, a, c->addr, sizeof c->addr);
    }
    if (atomic_load(&g->sh->open) >= cfg->max_connections + HEADROOM)
        pause_accepting(g, SWEEP_MS); /* the kernel's backlog holds the next ones */
    sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        char a[INET6_ADDRSTRLEN] = "";
        int v6 = ss.ss_family == AF_INET6;
        const void *ap = v6 ? (void *)&((struct sockaddr_in6 *)&ss)->sin6_addr
                            : (void *)&((struct sockaddr_in *)&ss)->sin_addr;
        unsigned port = ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                 : ((struct sockaddr_in *)&ss)->sin_port);
        if (inet_ntop(ss.ss_family, ap, a, sizeof a))
            snprintf(c->local, sizeof c->local, v6 ? "[%s]:%u" : "%s:%u", a, port);
    }
    if (c->addr[0] && !(cfg->exempt && cfg->exempt(c->addr, cfg->exempt_ctx))) {
        c->counted = 1;
        int n = client_add(g->sh, c->addr, 1);
        if (cfg->max_client_connections && n > cfg->max_client_connections) {
            refused(g->sh, R_CLIENT, c->addr);
            conn_close(c, 503, "too many connections from this client address", 1);
            return;
        }
    }
    if (atomic_load(&g->sh->open) > cfg->max_connections) {
        conn_t *idle = oldest_idle(g, c);
        if (idle) {
            conn_drop(idle);
        } else {
            refused(g->sh, R_MAX, c->addr);
            conn_close(c, 503, "the server is at its connection limit; try again shortly", 1);
        }
    }
}

static void on_admit(evutil_socket_t fd, short what, void *arg) {
    conn_guard_t *g = arg;
    conn_t *list = g->pending;
    g->pending = NULL;
    while (list) {
        conn_t *next = list->pending;
        list->pending = NULL;
        admit(g, list);
        list = next;
    }
}

/* ---- accepting -------------------------------------------------------------------------- */

/* The guards by listener: libevent passes a listener's error callback the listener's own
 * argument, which is evhttp's, so the guard is found here. */
static pthread_mutex_t listeners_mu = PTHREAD_MUTEX_INITIALIZER;
static conn_guard_t *listeners;

static conn_guard_t *guard_of(const struct evconnlistener *l) {
    pthread_mutex_lock(&listeners_mu);
    conn_guard_t *g = listeners;
    while (g && g->listener != l) g = g->next_listening;
    pthread_mutex_unlock(&listeners_mu);
    return g;
}

static void listening(conn_guard_t *g, int on) {
    pthread_mutex_lock(&listeners_mu);
    conn_guard_t **p = &listeners;
    while (*p && *p != g) p = &(*p)->next_listening;
    if (on && !*p) {
        g->next_listening = listeners;
        listeners = g;
    } else if (!on && *p) {
        *p = g->next_listening;
        g->listener = NULL;
    }
    pthread_mutex_unlock(&listeners_mu);
}

/* Out of descriptors: the held-back one makes room to accept the waiting clients one by
 * one and tell each 503 rather than leave them hanging. */
static void answer_with_spare(conn_shared_t *sh, int lfd) {
    pthread_mutex_lock(&sh->spare_mu);
    if (sh->spare >= 0) {
        close(sh->spare);
        for (int i = 0, fd; i < SPARE_BATCH && (fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0;
             i++) {
            answer(fd, 503, "the server is out of connections; try again shortly");
            char junk[4096]; /* what the client sent: unread, close() would reset */
            while (recv(fd, junk, sizeof junk, MSG_DONTWAIT) > 0) continue;
            close(fd);
        }
        sh->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
    }
    pthread_mutex_unlock(&sh->spare_mu);
}

/* libevent calls this when accept() fails for another reason than "try again": out of
 * descriptors or memory. Without it the listener stays readable and the loop spins. */
static void on_accept_error(struct evconnlistener *l, void *arg) {
    conn_guard_t *g = guard_of(l);
    int e = EVUTIL_SOCKET_ERROR();
    if (!g) return;
    if (e == EMFILE || e == ENFILE) answer_with_spare(g->sh, evconnlistener_get_fd(l));
    refused(g->sh, R_ACCEPT, strerror(e));
    pause_accepting(g, PAUSE_MS);
}

/* ---- the sweep -------------------------------------------------------------------------- */

static void release(conn_guard_t *g, conn_t *c) {
    if (c->writing && g->lost) g->lost(c->writing, g->lost_arg);
    if (c->prev)
        c->prev->next = c->next;
    else
        g->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        g->tail = c->prev;
    tdelete(c, &g->by_bev, cmp_ptr);
    if (c->closing_since) g->nclosing--;
    if (c->counted) client_add(g->sh, c->addr, -1);
    evbuffer_remove_cb_entry(bufferevent_get_input(c->bev), c->input_cb);
    bufferevent_decref(c->bev); /* evhttp's free completes: the socket closes */
    atomic_fetch_sub(&g->sh->open, 1);
    wire_free(c->wire);
    free(c);
}

static void on_sweep(evutil_socket_t fd, short what, void *arg) {
    conn_guard_t *g = arg;
    const conn_config_t *cfg = &g->sh->cfg;
    int64_t t = now();
    for (conn_t *c = g->head, *next; c; c = next) {
        next = c->next;
        if (!c->admitted) continue;
        if (freed_by_evhttp(c)) {
            if (!c->busy) release(g, c);
            continue;
        }
        if (c->closing_since) {
            if (t - c->closing_since >= LINGER_MS) conn_drop(c);
            continue;
        }
        if (c->busy || c->writing) continue;
        if (c->head_since &&
            t - (c->head_since > c->since ? c->head_since : c->since) >= cfg->request_timeout_ms) {
            refused(g->sh, R_TIMEOUT, c->addr);
            conn_close(c, 408, "the request was not received in time", 1);
        } else if (!c->head_since && t - c->since >= cfg->keepalive_timeout_ms) {
            refused(g->sh, R_IDLE, c->addr);
            conn_drop(c);
        }
    }
    metrics_set("tizza_http_connections", NULL, atomic_load(&g->sh->open));
    if (g->sh->spare < 0) { /* another thread took the slot after the last use: again */
        pthread_mutex_lock(&g->sh->spare_mu);
        if (g->sh->spare < 0) g->sh->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
        pthread_mutex_unlock(&g->sh->spare_mu);
    }
    refusals_log(g->sh);
    /* accepting resumes once descriptors may be free again and the refused have gone */
    if (g->paused && g->listener && t >= g->paused_until && g->nclosing < HEADROOM) {
        evconnlistener_enable(g->listener);
        g->paused = 0;
    } else if (!g->paused && g->nclosing >= HEADROOM) {
        pause_accepting(g, SWEEP_MS);
    }
}

/* ---- the guard -------------------------------------------------------------------------- */

conn_guard_t *conn_guard_new(conn_shared_t *sh, struct event_base *base, struct evhttp *http,
                             struct evhttp_bound_socket *bound, conn_lost_fn lost, void *arg) {
    conn_guard_t *g = xcalloc(1, sizeof *g);
    g->sh = sh;
    g->base = base;
    g->lost = lost;
    g->lost_arg = arg;
    g->listener = bound ? evhttp_bound_socket_get_listener(bound) : NULL;
    if (g->listener) {
        listening(g, 1);
        evconnlistener_set_error_cb(g->listener, on_accept_error);
    }
    g->admit_ev = event_new(base, -1, 0, on_admit, g);
    g->sweep_ev = event_new(base, -1, EV_PERSIST, on_sweep, g);
    struct timeval tv = {0, SWEEP_MS * 1000};
    event_add(g->sweep_ev, &tv);
    evhttp_set_bevcb(http, on_new_connection, g);
    /* evhttp's own per-read timeout stays as a backstop for the idle limit */
    evhttp_set_timeout(http, (sh->cfg.keepalive_timeout_ms + 999) / 1000 + 1);
    return g;
}

void conn_guard_unbind(conn_guard_t *g) {
    if (g) listening(g, 0);
}

void conn_guard_free(conn_guard_t *g) {
    if (!g) return;
    listening(g, 0);
    /* evhttp_free() has freed every connection by now; let go of what is left */
    for (conn_t *c = g->head, *next; c; c = next) {
        next = c->next;
        c->busy = c->writing = 0;
        c->pending = NULL;
        release(g, c);
    }
    event_free(g->sweep_ev);
    event_free(g->admit_ev);
    free(g);
}

conn_t *conn_find(conn_guard_t *g, struct evhttp_request *ev) {
    struct evhttp_connection *evcon = ev ? evhttp_request_get_connection(ev) : NULL;
    if (!g || !evcon) return NULL;
    conn_t key = {.bev = evhttp_connection_get_bufferevent(evcon)};
    conn_t **found = tfind(&key, &g->by_bev, cmp_ptr);
    return found ? *found : NULL;
}

conn_t *conn_request_begin(conn_guard_t *g, struct evhttp_request *ev) {
    conn_t *c = conn_find(g, ev);
    if (!c) return NULL;
    c->busy++;
    c->head_since = 0;
    return c;
}

void conn_request_end(conn_t *c, int writing) {
    if (!c) return;
    c->busy--;
    c->writing += writing != 0;
    c->since = now();
}

void conn_local_addr(const conn_t *c, char *out, size_t n) { str_copy(out, c ? c->local : "", n); }

void conn_written(conn_t *c) {
    if (c && c->writing > 0) c->writing--;
}
