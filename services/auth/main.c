/* main -- tizza-auth: the service definition handed to libcommon's service_main().
 *
 *   tizza-auth [serve]                                   run the HTTP service (default)
 *   tizza-auth migrate                                   create collections and indexes
 *   tizza-auth create-superuser --username U --email E   make or promote an admin
 *
 * service_main() (libcommon/service.c) does what every binary shares: argv, logging, the
 * store (STORE_URL, default sqlite://./var/auth.db, database tizza_auth), the idempotent
 * migration below, the HTTP server with /health /ready /metrics /info /openapi.yaml, and the
 * orderly stop. This file adds auth's own parts: its settings, the signing key
 * (AUTH_SIGNING_KEY, or kept in the store encrypted with AUTH_KEY_ENCRYPTION_KEY: one of the
 * two is required), the deleted-user memory re-armed from recent erasure records, the
 * routes and rate limits, and the create-superuser command.
 *
 * Handlers that hash or verify passwords always run on the worker pool (HTTP_OFFLOAD).
 * Those that only touch the store run inline on SQLite (fast) and offloaded on MongoDB
 * (network round trips): ctx.store_flags, from service_store_flags(). */
#include "alloc.h"
#include "auth.h"
#include "authn.h"
#include "config.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "service.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef TIZZA_VERSION
#define TIZZA_VERSION "0.1.0"
#endif

#define PROG "tizza-auth"

static const char commands_help[] =
    "  create-superuser --username U --email E\n"
    "             create an admin, or promote an existing user of that name (idempotent);\n"
    "             password from TIZZA_SUPERUSER_PASSWORD, else the first line of stdin;\n"
    "             prints the user id\n";

/* auth's own variables (config.h); --help prints them after libcommon's. */
static const config_var_t auth_config_vars[] = {
    {.name = "AUTH_SIGNING_KEY",
     .type = CONFIG_STR,
     .def_doc = "generated on first start and kept in the store, encrypted",
     .help = "base64url 32-byte Ed25519 seed that signs access tokens; never stored"},
    {.name = "AUTH_KEY_ENCRYPTION_KEY",
     .type = CONFIG_STR,
     .def_doc = "required unless AUTH_SIGNING_KEY is set",
     .help = "base64url 32-byte key that encrypts the signing key kept in the store"},
    {.name = "REFRESH_TTL",
     .type = CONFIG_LONG,
     .def = "1209600",
     .min = 60,
     .max = 31536000,
     .help = "refresh token lifetime in seconds"},
    {.name = "REFRESH_GRACE_MS",
     .type = CONFIG_LONG,
     .def = "5000",
     .min = 0,
     .max = 60000,
     .help = "after a refresh, a second use of the old token within this many ms gets the "
             "same new one instead of revoking the session, 0: off"},
    {.name = "COOKIE_SECURE",
     .type = CONFIG_BOOL,
     .def = "false",
     .help = "add Secure to the cookies (behind TLS)"},
    {.name = "RATE_LIMIT_LOGIN",
     .type = CONFIG_RATE,
     .def = "10/10",
     .help = "logins per minute[/burst] per client address, 0: off"},
    {.name = "RATE_LIMIT_SIGNUP",
     .type = CONFIG_RATE,
     .def = "10/10",
     .help = "signups per minute[/burst] per client address, 0: off"},
    {.name = "LOGIN_FAILURES_PER_USER",
     .type = CONFIG_LONG,
     .def = "5",
     .min = 0,
     .max = 1000000,
     .help = "failed logins per username and client (device cookie, else address) per 15 "
             "minutes before that client gets 429, 0: off"},
    {.name = "LOGIN_FAILURES_PER_USER_TOTAL",
     .type = CONFIG_LONG,
     .def = "100",
     .min = 0,
     .max = 1000000,
     .help = "failed logins per username from all clients without a device cookie per 15 "
             "minutes before those get 429, 0: off"},
    {.name = "ERASURE_SERVICES",
     .type = CONFIG_STR,
     .def_doc = "the publishers of user.erased in the events document",
     .help = "services whose user.erased completes an erasure (comma-separated)"},
    {.name = "TIZZA_SUPERUSER_PASSWORD",
     .type = CONFIG_STR,
     .def_doc = "read from stdin",
     .help = "the password for create-superuser"},
    {.name = NULL},
};

/* ---------------------------------------------------------------- settings */

/* Reads auth's own variables (a bad value exits 2). Returns the AUTH_SIGNING_KEY seed, or
 * NULL when the key is to come from the store, encrypted with kek (AUTH_KEY_ENCRYPTION_KEY,
 * then required). */
static const char *settings_load(auth_ctx_t *ctx, unsigned char kek[AUTH_KEK_BYTES]) {
    ctx->access_ttl = authn_config_access_ttl();
    ctx->refresh_ttl = config_long("REFRESH_TTL");
    ctx->refresh_grace_ms = config_long("REFRESH_GRACE_MS");
    ctx->cookie_secure = config_bool("COOKIE_SECURE");
    long failures = config_long("LOGIN_FAILURES_PER_USER");
    if (failures > 0) ctx->login_fail = ratelimit_new((double)failures / 15.0, (double)failures);
    long all = config_long("LOGIN_FAILURES_PER_USER_TOTAL");
    if (all > 0) ctx->login_all = ratelimit_new((double)all / 15.0, (double)all);
    const char *erasure = config_str("ERASURE_SERVICES");
    ctx->erasure_services =
        erasure ? xstrdup(erasure) : topology_producers(service_topology(ctx->svc), "user.erased");
    const char *seed = config_str("AUTH_SIGNING_KEY"); /* NULL when unset or empty */
    if (seed != NULL && token_key_from_seed(&ctx->key, seed) != 0)
        config_fail("AUTH_SIGNING_KEY", "must be a base64url 32-byte Ed25519 seed");
    int have_kek = keys_kek_from_config(kek);
    if (seed != NULL) return seed;
    if (!have_kek)
        config_fail("AUTH_KEY_ENCRYPTION_KEY",
                    "required to keep the signing key in the store, encrypted (or give the key "
                    "itself in AUTH_SIGNING_KEY)");
    return NULL;
}

/* ---------------------------------------------------------------- migrate */

static int auth_migrate(store_t *s) {
    static const struct {
        const char *coll, *fields;
        bool unique;
    } indexes[] = {
        {AUTH_COLL_USERS, "username_key", true},     {AUTH_COLL_USERS, "email_key", true},
        {AUTH_COLL_USERS, "created_at", false},      {AUTH_COLL_REFRESH, "token_hash", true},
        {AUTH_COLL_REFRESH, "family_id", false},     {AUTH_COLL_REFRESH, "user_id", false},
        {AUTH_COLL_ERASURES, "requested_at", false}, {AUTH_COLL_ERASURES, "receipt_hash", false},
    };
    static const char *const colls[] = {AUTH_COLL_USERS, AUTH_COLL_REFRESH, AUTH_COLL_KEYS,
                                        AUTH_COLL_ERASURES};
    for (size_t i = 0; i < sizeof colls / sizeof colls[0]; i++)
        if (store_ensure_collection(s, colls[i]) != STORE_OK) {
            log_msg(LOG_ERROR, "migrate: collection %s: %s", colls[i], store_errmsg());
            return STORE_ERR;
        }
    for (size_t i = 0; i < sizeof indexes / sizeof indexes[0]; i++)
        if (store_ensure_index(s, indexes[i].coll, indexes[i].fields, indexes[i].unique) !=
            STORE_OK) {
            log_msg(LOG_ERROR, "migrate: index %s(%s): %s", indexes[i].coll, indexes[i].fields,
                    store_errmsg());
            return STORE_ERR;
        }
    return STORE_OK;
}

/* Users deleted less than an access-token lifetime ago may still hold valid tokens:
 * remember them again after a restart. */
static void rearm_deleted(auth_ctx_t *ctx) {
    char since[32];
    cJSON *docs = NULL;
    iso_time(now_ms() - (int64_t)ctx->access_ttl * 1000, since);
    store_filter_t *f = store_filter_new();
    store_where_str(f, "requested_at", STORE_GTE, since);
    if (store_find(ctx->store, AUTH_COLL_ERASURES, f, NULL, 0, 0, &docs) == STORE_OK) {
        const cJSON *doc;
        cJSON_ArrayForEach(doc, docs) {
            const char *id = json_str(doc, "user_id");
            if (id != NULL) authn_mark_deleted(id);
        }
    } else {
        log_msg(LOG_WARN, "cannot read recent erasures: %s", store_errmsg());
    }
    cJSON_Delete(docs);
    store_filter_free(f);
}

/* ---------------------------------------------------------------- serve */

/* Every route's ctx is the service, as in every Tizza service; the handlers find auth's own
 * state as its data (service_data). */
static void routes(service_t *svc, const auth_ctx_t *ctx) {
    http_server_t *srv = service_http(svc);
    const int st = ctx->store_flags;
    http_route(srv, "POST", "/api/v1/auth/signup", users_signup, svc, HTTP_OFFLOAD);
    http_route(srv, "POST", "/api/v1/users", users_signup, svc, HTTP_OFFLOAD);
    http_route(srv, "POST", "/api/v1/auth/login", sessions_login, svc, HTTP_OFFLOAD);
    http_route(srv, "POST", "/api/v1/auth/refresh", sessions_refresh, svc, st);
    http_route(srv, "POST", "/api/v1/auth/logout", sessions_logout, svc, st);
    http_route(srv, "GET", "/api/v1/auth/me", sessions_me, svc, st);
    http_route(srv, "GET", "/api/v1/auth/jwks", sessions_jwks, svc, HTTP_INLINE);
    http_route(srv, "GET", "/api/v1/users", users_list, svc, st);
    http_route(srv, "GET", "/api/v1/users/{id}", users_get, svc, st);
    http_route(srv, "PATCH", "/api/v1/users/{id}", users_patch, svc, HTTP_OFFLOAD);
    http_route(srv, "DELETE", "/api/v1/users/{id}", users_delete, svc, st);
    http_route(srv, "GET", "/api/v1/users/{id}/erasure", erasure_get, svc, st);
    http_route(srv, "GET", "/api/v1/erasures/{receipt}", erasure_by_receipt, svc, st);

    http_rate_limit(srv, "POST", "/api/v1/auth/login", "login");
    http_rate_limit(srv, "POST", "/api/v1/auth/signup", "signup");
    http_rate_limit(srv, "POST", "/api/v1/users", "signup");
}

/* The context (auth.h) is made here and kept as the service's data; auth_teardown() frees
 * it. */
static int auth_setup(service_t *svc) {
    auth_ctx_t *ctx = xcalloc(1, sizeof *ctx);
    service_set_data(svc, ctx);
    ctx->svc = svc;
    ctx->store = service_store(svc);
    ctx->store_flags = service_store_flags(svc);
    unsigned char kek[AUTH_KEK_BYTES];
    int rc = settings_load(ctx, kek) == NULL ? keys_load(ctx->store, kek, &ctx->key) : 0;
    sodium_memzero(kek, sizeof kek);
    if (rc != 0) return -1;
    authn_set_keys(&ctx->key, 1);
    session_device_key_init(ctx);
    rearm_deleted(ctx);
    if (passwords_init() != 0) {
        log_msg(LOG_ERROR, "cannot initialise password hashing (out of memory?)");
        return -1;
    }
    routes(svc, ctx);
    erasure_consume(svc);
    metrics_help("tizza_auth_logins_total", "counter",
                 "Login attempts by result (ok, failed, limited, busy)");
    metrics_help("tizza_auth_refresh_reuse_total", "counter",
                 "Reuses of an already used refresh token (each revoked a session family)");
    metrics_help("tizza_auth_refresh_grace_total", "counter",
                 "Second uses of a refresh token within REFRESH_GRACE_MS of its rotation "
                 "(answered with its successor)");
    log_msg(LOG_INFO, "auth ready: store %s, signing key %s", store_backend(ctx->store),
            ctx->key.kid);
    return 0;
}

static void auth_teardown(service_t *svc) {
    auth_ctx_t *ctx = service_data(svc);
    if (ctx == NULL) return;
    if (ctx->login_fail != NULL) ratelimit_free(ctx->login_fail);
    if (ctx->login_all != NULL) ratelimit_free(ctx->login_all);
    free(ctx->erasure_services);
    sodium_memzero(ctx, sizeof *ctx); /* the signing and device keys */
    free(ctx);
    service_set_data(svc, NULL);
}

/* ---------------------------------------------------------------- create-superuser */

/* TIZZA_SUPERUSER_PASSWORD, else the first line of stdin (malloc'd), or NULL. */
static char *superuser_password(void) {
    const char *env = config_str("TIZZA_SUPERUSER_PASSWORD");
    if (env != NULL) return xstrdup(env);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, stdin);
    if (n < 0) {
        free(line);
        return NULL;
    }
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
    return line;
}

/* Parses --username U / --username=U and --email E / --email=E. 0, or -1 (usage error). */
static int superuser_args(int argc, char **argv, const char **username, const char **email) {
    *username = *email = NULL;
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i], *val = NULL, **dst = NULL;
        if (strncmp(opt, "--username", 10) == 0)
            dst = username, val = opt + 10;
        else if (strncmp(opt, "--email", 7) == 0)
            dst = email, val = opt + 7;
        else
            return -1;
        if (*val == '=')
            *dst = val + 1;
        else if (*val == '\0' && i + 1 < argc)
            *dst = argv[++i];
        else
            return -1;
    }
    return *username && *email ? 0 : -1;
}

static int create_superuser(auth_ctx_t *ctx, const char *username, const char *email) {
    char id[32];
    int rc = superuser_promote(ctx, username, id);
    if (rc == STORE_OK) {
        printf("%s\n", id);
        return 0;
    }
    if (rc != STORE_NOTFOUND) {
        fprintf(stderr, PROG ": create-superuser: store: %s\n", store_errmsg());
        return 1;
    }
    char *pw = superuser_password();
    size_t len = pw ? strlen(pw) : 0;
    if (len < PASSWORD_MIN || len > PASSWORD_MAX) {
        fprintf(stderr,
                PROG ": create-superuser: the password (TIZZA_SUPERUSER_PASSWORD or stdin) "
                     "must be %d to %d bytes\n",
                PASSWORD_MIN, PASSWORD_MAX);
        if (pw != NULL) sodium_memzero(pw, len);
        free(pw);
        return 2;
    }
    rc = superuser_create(ctx, username, email, pw, id);
    sodium_memzero(pw, len);
    free(pw);
    if (rc == STORE_CONFLICT) {
        fprintf(stderr, PROG ": create-superuser: that email is already taken\n");
        return 1;
    }
    if (rc != STORE_OK) {
        fprintf(stderr, PROG ": create-superuser: store: %s\n", store_errmsg());
        return 1;
    }
    printf("%s\n", id);
    return 0;
}

static int auth_command(service_t *svc, int argc, char **argv) {
    const char *username, *email;
    if (strcmp(argv[0], "create-superuser") != 0) return -1;
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: " PROG " create-superuser --username U --email E\n%s", commands_help);
        return 0;
    }
    if (superuser_args(argc, argv, &username, &email) != 0) {
        fprintf(stderr, "usage: " PROG " create-superuser --username U --email E\n");
        return 2;
    }
    if (!username_valid(username)) {
        fprintf(stderr, PROG ": create-superuser: the username must be 3 to 30 of "
                             "[A-Za-z0-9_.-]\n");
        return 2;
    }
    if (!email_valid(email)) {
        fprintf(stderr, PROG ": create-superuser: not a valid email address\n");
        return 2;
    }
    auth_ctx_t ctx = {.svc = svc, .store = service_store(svc)};
    return create_superuser(&ctx, username, email);
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv) {
    static const config_var_t *const config[] = {authn_config_vars, auth_config_vars,
                                                 passwords_config_vars, NULL};
    static const service_def_t def = {
        .name = "auth",
        .default_port = 8001,
        .api_versions = "v1",
        .summary = "Tizza users, sessions and tokens",
        .config = config,
        .commands_help = commands_help,
        .uses_broker = true,
        .remote_keys = false,
        .migrate = auth_migrate,
        .setup = auth_setup,
        .teardown = auth_teardown,
        .command = auth_command,
    };
    return service_main(&def, argc, argv);
}
