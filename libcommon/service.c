/* service -- the shared main() of every Tizza binary (see service.h).
 *
 * The flow is deliberately linear: parse argv -> config/log -> store -> migrate -> either a
 * subcommand or serve. Serving builds the HTTP server, calls the service's setup(), starts
 * the event machinery (one relay thread, one consumer thread) when the service uses the
 * broker, runs until a signal, and tears down in reverse order.
 *
 * Before serving, the token-verification keys are loaded through the service's load_keys
 * hook (authn_load_remote_keys in authn_fetch.c for every service but auth). A hook, not a
 * call from here, so that only binaries that fetch keys link that file and libcurl. */
#include "service.h"

#include "authn.h"
#include "config.h"
#include "conn.h"
#include "log.h"
#include "trace.h"
#include "util.h"

#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const char service_openapi_yaml[];
extern const char service_asyncapi_yaml[];
extern const char service_build_time[];

#define MAX_CONSUMERS 8

struct service {
    const service_def_t *def;
    store_t *store;
    http_server_t *http;
    outbox_relay_t *relay;
    event_consumer_t *consumer;
    event_consumer_spec_t specs[MAX_CONSUMERS];
    int nspecs;
    bool bad_spec; /* service_consume() was given a queue the topology does not give it */
    topology_t *topology;
    void *data;
};

store_t *service_store(service_t *svc) { return svc->store; }
http_server_t *service_http(service_t *svc) { return svc->http; }
void *service_data(service_t *svc) { return svc->data; }
void service_set_data(service_t *svc, void *data) { svc->data = data; }
const char *service_name(service_t *svc) { return svc->def->name; }
const topology_t *service_topology(service_t *svc) { return svc->topology; }

int service_store_flags(service_t *svc) {
    return strcmp(store_backend(svc->store), "sqlite") == 0 ? HTTP_INLINE : HTTP_OFFLOAD;
}

void service_consume(service_t *svc, const event_consumer_spec_t *spec) {
    if (svc->nspecs == MAX_CONSUMERS) abort(); /* programming error */
    const topology_queue_t *q = topology_queue(svc->topology, spec->queue);
    if (!q || strcmp(q->consumer, svc->def->name) != 0) {
        log_msg(LOG_ERROR, "queue %s: not consumed by %s in the events document", spec->queue,
                svc->def->name);
        svc->bad_spec = true;
        return;
    }
    svc->specs[svc->nspecs++] = *spec;
}

void service_events_committed(service_t *svc) {
    if (svc->relay) outbox_relay_notify(svc->relay);
}

static void on_consumer_commit(void *ctx) { service_events_committed(ctx); }

/* Every table the binary may read, in --help's order: libcommon's core, the broker's and
 * the verification keys' when used, then the service's own. No other may be declared
 * afterwards (config_seal), so --help lists everything the binary reads. */
static void declare_config(const service_def_t *def) {
    char text[128];
    config_declare(log_config_vars);
    config_declare(http_config_vars);
    config_declare(conn_config_vars);
    config_declare(store_config_vars);
    config_declare(trace_config_vars);
    if (def->uses_broker) config_declare(events_config_vars);
    if (def->remote_keys) {
        config_declare(authn_config_vars);
        config_declare(authn_remote_config_vars);
    }
    for (const config_var_t *const *t = def->config; t && *t; t++) config_declare(*t);
    config_seal();
    snprintf(text, sizeof text, "%d", def->default_port);
    config_set_default("PORT", text);
    snprintf(text, sizeof text, "sqlite://./var/%s.db", def->name);
    config_set_default("STORE_URL", text);
}

static void usage(const service_def_t *def, FILE *out) {
    fprintf(out,
            "tizza-%s %s -- %s\n\n"
            "usage: tizza-%s [serve|migrate%s] [options]\n"
            "       tizza-%s --help | --version\n\n"
            "commands:\n"
            "  serve      serve HTTP (default)\n"
            "  migrate    create collections and indexes (idempotent)\n"
            "%s"
            "\nenvironment (defaults and ranges in parentheses):\n",
            def->name, TIZZA_VERSION, def->summary, def->name, def->commands_help ? "|..." : "",
            def->name, def->commands_help ? def->commands_help : "");
    config_print_help(out);
}

static int ready_check(char *why, size_t len, void *ctx) {
    service_t *svc = ctx;
    if (store_ping(svc->store) != STORE_OK) {
        snprintf(why, len, "store: %s", store_errmsg());
        return -1;
    }
    if (svc->relay && !outbox_relay_connected(svc->relay)) {
        snprintf(why, len, "broker: outbox relay is not connected");
        return -1;
    }
    if (svc->consumer && !event_consumer_connected(svc->consumer)) {
        snprintf(why, len, "broker: event consumer is not connected");
        return -1;
    }
    return 0;
}

static void start_events(service_t *svc) {
    const char *url = config_str("AMQP_URL");
    svc->relay = outbox_relay_start(svc->store, url, svc->def->name, svc->topology);
    if (svc->nspecs) {
        svc->consumer = event_consumer_start(svc->store, url, svc->topology, svc->specs,
                                             svc->nspecs, (int)config_long("AMQP_PREFETCH"));
        event_consumer_on_commit(svc->consumer, on_consumer_commit, svc);
    }
}

static int serve(service_t *svc) {
    const service_def_t *def = svc->def;
    if (def->remote_keys && !def->load_keys) { /* a service_def_t mistake: say so */
        log_msg(LOG_ERROR, "remote_keys without load_keys (want authn_load_remote_keys)");
        return 1;
    }
    if (def->load_keys && def->load_keys() != 0) return 1;
    http_config_t cfg;
    http_config_from_env(&cfg, def->name, def->default_port);
    cfg.openapi = service_openapi_yaml;
    cfg.build_time = service_build_time;
    cfg.api_versions = def->api_versions;
    cfg.ready = ready_check;
    cfg.ready_ctx = svc;
    svc->http = http_server_new(&cfg);
    trace_start_from_env(def->name); /* before any thread that may end a span */
    /* SIGTERM and SIGINT are for http_server_run()'s wait. Blocked before the first thread
     * starts (the broker's, a service's own), every thread inherits the mask: otherwise the
     * kernel may hand one to a thread that does not block it, and its default action ends
     * the process (status -15) instead of draining. One arriving meanwhile waits. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    int rc = def->setup(svc);
    if (rc == 0 && svc->bad_spec) rc = -1;
    if (rc == 0 && def->uses_broker) start_events(svc);
    if (rc == 0)
        rc = http_server_run(svc->http) == 0 ? 0 : 1;
    else
        log_msg(LOG_ERROR, "setup failed");
    if (svc->consumer) event_consumer_stop(svc->consumer);
    if (svc->relay) outbox_relay_stop(svc->relay);
    if (def->teardown) def->teardown(svc);
    http_server_free(svc->http);
    trace_stop(); /* sends what is still queued */
    return rc;
}

static int migrate_all(service_t *svc) {
    const service_def_t *def = svc->def;
    if (def->uses_broker &&
        (outbox_migrate(svc->store) != STORE_OK || event_consumer_migrate(svc->store) != STORE_OK))
        return -1;
    return def->migrate(svc->store) == STORE_OK ? 0 : -1;
}

int service_main(const service_def_t *def, int argc, char **argv) {
    char prog[64];
    snprintf(prog, sizeof prog, "tizza-%s", def->name);
    config_set_program(prog);
    declare_config(def);
    const char *cmd = "serve";
    if (argc > 1) {
        if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
            usage(def, stdout);
            return 0;
        }
        if (!strcmp(argv[1], "--version")) {
            printf("%s %s\n", prog, TIZZA_VERSION);
            return 0;
        }
        cmd = argv[1];
    }
    if (strcmp(cmd, "serve") != 0 && strcmp(cmd, "migrate") != 0 && !def->command) {
        fprintf(stderr, "%s: unknown command '%s' (see --help)\n", prog, cmd);
        return 2;
    }
    log_init(def->name);
    config_check_all(); /* a bad value exits 2 before the store is opened */
    if (sodium_init() < 0) {
        fprintf(stderr, "%s: libsodium failed to initialise\n", prog);
        return 1;
    }

    char err[256] = "", dbname[64];
    snprintf(dbname, sizeof dbname, "tizza_%s", def->name);
    service_t svc = {.def = def};
    svc.topology = topology_parse(service_asyncapi_yaml, err, sizeof err);
    if (!svc.topology) { /* the embedded document is the build's: a build mistake */
        fprintf(stderr, "%s: events document: %s\n", prog, err);
        return 1;
    }
    const char *url = config_str("STORE_URL");
    if (strncmp(url, "sqlite://", 9) != 0 && strncmp(url, "mongodb://", 10) != 0 &&
        strncmp(url, "mongodb+srv://", 14) != 0)
        config_fail("STORE_URL", "must be sqlite://<path> or mongodb://...");
    svc.store = store_open(url, dbname, err, sizeof err);
    if (!svc.store) {
        log_msg(LOG_ERROR, "cannot open store: %s", err);
        fprintf(stderr, "%s: cannot open store: %s\n", prog, err);
        topology_free(svc.topology);
        return 1;
    }
    int rc;
    if (migrate_all(&svc) != 0) {
        fprintf(stderr, "%s: migration failed: %s\n", prog, store_errmsg());
        rc = 1;
    } else if (!strcmp(cmd, "migrate")) {
        log_msg(LOG_INFO, "migrated");
        rc = 0;
    } else if (!strcmp(cmd, "serve")) {
        rc = serve(&svc);
    } else {
        rc = def->command(&svc, argc - 1, argv + 1);
        if (rc == -1) {
            fprintf(stderr, "%s: unknown command '%s' (see --help)\n", prog, cmd);
            rc = 2;
        }
    }
    store_close(svc.store);
    topology_free(svc.topology);
    return rc;
}
