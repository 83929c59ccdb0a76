/* service -- the one main() every Tizza binary shares.
 *
 * service_main() parses the command line (--help, --version, subcommands `serve` (default),
 * `migrate`, plus the service's own), declares the configuration tables (config.h) of
 * libcommon's modules the binary uses and the service's own (def->config), which --help
 * prints, sets up logging and configuration from the environment (a bad value exits 2 with
 * one line), opens the store (STORE_URL, default sqlite://./var/<name>.db), runs the
 * idempotent migration, and for `serve`: builds the HTTP
 * server, lets the service register its routes and event consumers, starts the outbox relay
 * and consumers when the service uses them, serves until SIGTERM/SIGINT, then stops the
 * consumers and relay and frees everything (so LeakSanitizer stays clean).
 *
 * /ready is 200 when the store answers a ping and, for a service that uses the broker, both
 * its relay and consumer connections are up; else 503 naming the failing part. */
#ifndef TIZZA_SERVICE_H
#define TIZZA_SERVICE_H

#include "events.h"
#include "http.h"
#include "store.h"

typedef struct service service_t;

typedef struct {
    const char *name;         /* "tweets" -> binary tizza-tweets, database tizza_tweets */
    int default_port;         /* 8004 */
    const char *api_versions; /* "v2" */
    const char *summary;      /* one line for --help */
    /* The configuration tables (config.h) the service reads beyond libcommon's core: its
     * own rows and those of optional libcommon modules it uses (remote_config_vars),
     * NULL-terminated; may be NULL. --help prints them after the core's. */
    const config_var_t *const *config;
    const char *commands_help; /* extra subcommand lines for --help, may be NULL */
    bool uses_broker;          /* start relay/consumers and include the broker in /ready */
    bool remote_keys;          /* verify tokens with auth's keys: AUTH_PUBLIC_KEY, else the
                                  JWKS fetched from AUTH_URL (retrying up to AUTH_WAIT_MS);
                                  needs load_keys = authn_load_remote_keys */
    /* Loads the token-verification keys before serving: authn_load_remote_keys (authn.h)
     * with remote_keys, NULL otherwise. A hook, not a direct call, so that binaries that
     * never fetch keys do not link libcurl. 0 or -1. */
    int (*load_keys)(void);
    /* Creates collections and indexes (idempotent). */
    int (*migrate)(store_t *s);
    /* Registers routes and consumers; called once before serving. 0 or -1. */
    int (*setup)(service_t *svc);
    /* Called after the server stopped (free service state). May be NULL. */
    void (*teardown)(service_t *svc);
    /* Extra subcommand (argv[0] is its name). Return its exit code, or -1 when unknown.
     * May be NULL. The store is open and migrated. */
    int (*command)(service_t *svc, int argc, char **argv);
} service_def_t;

int service_main(const service_def_t *def, int argc, char **argv);

store_t *service_store(service_t *svc);
http_server_t *service_http(service_t *svc);
/* True when the store needs HTTP_OFFLOAD for its calls (MongoDB: network round trips). */
int service_store_flags(service_t *svc);
/* The service's own state (auth's context, a remote model), set up by its setup hook and
 * freed by its teardown; routes whose ctx is the service read it with service_data(ctx). */
void *service_data(service_t *svc);
void service_set_data(service_t *svc, void *data);

/* The system's broker topology, read from the events document embedded in the binary
 * (proto-docs/events.asyncapi.yaml; topology.h). */
const topology_t *service_topology(service_t *svc);
/* Adds a consumer queue (before serving starts). Its exchange and binding may be left NULL:
 * they come from the topology, where the queue must be one this service consumes (else
 * serving does not start). */
void service_consume(service_t *svc, const event_consumer_spec_t *spec);
/* Wakes the outbox relay (after a commit that added events). Safe from any thread. */
void service_events_committed(service_t *svc);

/* The producer name used in events ("auth"). */
const char *service_name(service_t *svc);

#endif
