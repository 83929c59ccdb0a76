/* conn -- bounds on what clients may hold of a server: connections and time.
 *
 * evhttp (libevent 2.1) bounds header and body bytes, but neither connections nor time: a
 * client that sends one header byte every few seconds keeps its connection (and a file
 * descriptor) forever, and out of descriptors libevent's accept loop spins, logging every
 * failed accept(). A conn_guard_t sits beside one loop's evhttp and adds:
 *  - MAX_CONNECTIONS per process: at the limit the loop's oldest idle keep-alive connection
 *    is closed to make room; when none is idle the new connection is answered 503;
 *  - MAX_CLIENT_CONNECTIONS per client address: past it, 503 (a peer in TRUSTED_PROXIES is
 *    exempt: a gateway carries many clients on its connections);
 *  - REQUEST_TIMEOUT_MS for a whole request, head and body, from its first byte (not per
 *    byte as evhttp's timeout): past it, 408 and close;
 *  - KEEPALIVE_TIMEOUT_MS for a connection idle between requests: closed;
 *  - the request bytes checked before evhttp reads them (wire.h): a malformed or ambiguous
 *    request is answered 400 (or 405/411/413/431/501/505) and its connection closed;
 *  - accepting paused for a moment (not spinning) when out of descriptors or when the
 *    connections awaiting their 503 pile up;
 * every refusal is counted (tizza_http_connections_refused_total{reason}) and logged at most
 * once per 10 s with the number since the last line.
 *
 * A refused or timed-out connection gets its problem+json answer written straight to the
 * socket (nothing of evhttp's is pending on it then), is shut down, and evhttp frees it when
 * it sees the end of the stream.
 *
 * Hooks into evhttp, all public API: evhttp_set_bevcb (each connection's bufferevent is made
 * here and held by a reference until evhttp has freed it, so the guard can tell), a callback
 * on its input buffer (the first byte of a request), the listener's error callback, and a
 * sweep timer on the loop. Everything runs on the loop's thread except the process-wide
 * counts in conn_shared_t. */
#ifndef TIZZA_CONN_H
#define TIZZA_CONN_H

#include <event2/event.h>
#include <event2/http.h>

#include "config.h"
#include "wire.h"

typedef struct {
    int max_connections;        /* MAX_CONNECTIONS, per process */
    int max_client_connections; /* MAX_CLIENT_CONNECTIONS, per client address; 0: none */
    int request_timeout_ms;     /* REQUEST_TIMEOUT_MS */
    int keepalive_timeout_ms;   /* KEEPALIVE_TIMEOUT_MS */
    size_t body_limit;          /* BODY_LIMIT: a longer Content-Length is refused (wire.h) */
    size_t upload_limit;        /* UPLOAD_LIMIT, for the requests is_upload names */
    wire_upload_fn is_upload;   /* may be NULL: no uploads (wire_allow_uploads) */
    void *upload_ctx;
    /* A peer whose connections do not count per address (a trusted proxy); may be NULL. */
    int (*exempt)(const char *addr, void *ctx);
    void *exempt_ctx;
} conn_config_t;

/* The four variables above: defaults, ranges and meaning (config.h's table). The default
 * MAX_CONNECTIONS leaves room under the descriptor limit (RLIMIT_NOFILE) for the store,
 * the broker and remote calls. */
extern const config_var_t conn_config_vars[];

/* Declares conn_config_vars and reads them (config.h semantics: a bad value exits 2). */
void conn_config_from_env(conn_config_t *cfg);

/* The process's counts, shared by every loop's guard. */
typedef struct conn_shared conn_shared_t;
conn_shared_t *conn_shared_new(const conn_config_t *cfg);
void conn_shared_free(conn_shared_t *sh);
/* Connections open now, in the whole process. */
int conn_open(const conn_shared_t *sh);

typedef struct conn_guard conn_guard_t;
typedef struct conn conn_t;

/* Called for every answer handed to evhttp that the connection died before writing (so a
 * drain does not wait for it). */
typedef void (*conn_lost_fn)(int answers, void *arg);

/* Guards `http` (bound on `bound`) on `base`. */
conn_guard_t *conn_guard_new(conn_shared_t *sh, struct event_base *base, struct evhttp *http,
                             struct evhttp_bound_socket *bound, conn_lost_fn lost, void *arg);
/* The listener is about to be removed (shutdown): stop pausing or resuming it. */
void conn_guard_unbind(conn_guard_t *g);
void conn_guard_free(conn_guard_t *g);

/* A request of `ev`'s connection was read whole and dispatched: its deadline is met.
 * Returns the connection (NULL when evhttp has none for it). */
conn_t *conn_request_begin(conn_guard_t *g, struct evhttp_request *ev);
/* The connection of `ev`, or NULL. */
conn_t *conn_find(conn_guard_t *g, struct evhttp_request *ev);
/* "host:port" the client connected to ("[v6]:port"), or "" without a connection. */
void conn_local_addr(const conn_t *c, char *out, size_t n);
/* Its answer was handed to evhttp (`writing`: and evhttp will report the write through
 * conn_written) or dropped: the keep-alive clock starts. */
void conn_request_end(conn_t *c, int writing);
/* The answer was written. */
void conn_written(conn_t *c);

#endif
