/* remote.c -- the remote model client (see remote.h): libcurl easy handles, retries, a
 * circuit breaker per base URL and a per-request memo.
 *
 * Handles. Every thread that makes a call gets its own CURL easy handle, kept in a pthread
 * key and reused (curl_easy_reset keeps the handle's connection cache), so a worker thread
 * talks to a dependency over one kept-alive connection. The key's destructor cleans the
 * handle up when the thread exits; the thread that calls exit() (normally main) has its
 * handle cleaned up by an atexit handler, since key destructors do not run there.
 * curl_global_init, the key and sodium_init happen once (pthread_once).
 *
 * A call. call() asks the breaker for admission, then runs attempts(): each attempt is one
 * curl_easy_perform with the caller's Authorization, X-Request-Id and traceparent (with
 * tracing on, trace.h, that of the call's one client span, which covers every attempt). The
 * whole call, retries and pauses included, has one budget of REMOTE_TIMEOUT_MS: an attempt gets
 * what is left of it as its curl timeout. GET, PUT and DELETE are retried (at most
 * REMOTE_RETRIES more attempts) after connection errors, timeouts and 502/503/504, never
 * after another status; the pause before retry k is uniform in [0, 50 ms * 2^(k-1)] ("full
 * jitter"), and no retry starts when the pause would leave less than REMOTE_MIN_ATTEMPT_MS
 * of the budget. Outcomes: 2xx -> OK (body parsed with cJSON; unparsable -> UNAVAILABLE),
 * 404 -> NOT_FOUND, other 4xx -> REJECTED, everything else -> UNAVAILABLE. Bodies over
 * REMOTE_BODY_MAX are refused (UNAVAILABLE). Each failed attempt is logged at warn (never
 * with the Authorization value); 404 is an answer, not a failure, and is not logged.
 *
 * Breaker. A small fixed table, one entry per base URL, under one mutex. CLOSED counts
 * consecutive UNAVAILABLE calls (a 4xx proves the dependency answers and resets the count);
 * at REMOTE_BREAKER_FAILURES it goes OPEN and refuses calls ("circuit open", no request) for
 * REMOTE_BREAKER_COOLDOWN_MS. The first call after that becomes the one trial (HALF_OPEN;
 * everyone else is still refused): success closes the breaker, failure re-opens it for
 * another cooldown. REMOTE_BREAKER_FAILURES=0 disables breaking. A base that finds the table
 * full is simply never broken. The gauge tizza_remote_breaker_open{target} is 1 while OPEN
 * or HALF_OPEN.
 *
 * Memo. A remote_ctx_t lives for one inbound request and is used by one thread at a time.
 * Its memo maps "{base}/api/{v}/{entity}/{id}" to the entity (or to "absent" after a 404 or
 * an id missing from a batch answer); remote_get and remote_get_many consult it first and
 * fill it, and hand out duplicates, so the caller always owns what it gets. Update and
 * delete forget the id. The memo is a plain array scanned linearly: a request touches tens
 * to a few hundred entities.
 *
 * Ownership: the ctx owns its strings and memo values; results (*out) belong to the caller. */
#include "remote.h"

#include "alloc.h"
#include "config.h"
#include "log.h"
#include "metrics.h"
#include "query.h"
#include "trace.h"
#include "util.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REMOTE_BODY_MAX       (4u << 20)    /* largest answer accepted */
#define REMOTE_BATCH          QUERY_IDS_MAX /* ids per ?ids= request: what one list holds */
#define REMOTE_BACKOFF_MS     50            /* first retry pause cap, doubled per retry */
#define REMOTE_MIN_ATTEMPT_MS 5             /* no retry with less budget left than this */
#define REMOTE_HEADER_MAX     8192          /* longest forwarded header value */
#define BREAKER_SLOTS         64
#define TARGET_MAX            256

#ifndef TIZZA_VERSION
#define TIZZA_VERSION "dev"
#endif

/* snprintf for messages and labels, where cutting a long URL short is fine. */
static void textf(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void textf(char *buf, size_t n, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, n, fmt, ap);
    va_end(ap);
}

/* ---- settings ---------------------------------------------------------------------------- */

const config_var_t remote_config_vars[] = {
    {.name = "REMOTE_CONNECT_TIMEOUT_MS",
     .type = CONFIG_LONG,
     .def = "500",
     .min = 1,
     .max = 600000,
     .help = "remote call connect timeout"},
    {.name = "REMOTE_TIMEOUT_MS",
     .type = CONFIG_LONG,
     .def = "3000",
     .min = 1,
     .max = 600000,
     .help = "a remote call's whole budget, retries included"},
    {.name = "REMOTE_RETRIES",
     .type = CONFIG_LONG,
     .def = "2",
     .min = 0,
     .max = 10,
     .help = "retries of idempotent remote calls on connection errors and 502/503/504"},
    {.name = "REMOTE_BREAKER_FAILURES",
     .type = CONFIG_LONG,
     .def = "5",
     .min = 0,
     .max = 1000000,
     .help = "circuit breaker per target: opens after this many failures, 0: off"},
    {.name = "REMOTE_BREAKER_COOLDOWN_MS",
     .type = CONFIG_LONG,
     .def = "5000",
     .min = 1,
     .max = 3600000,
     .help = "an open circuit breaker half-opens after this"},
    {.name = NULL},
};

static struct { long connect_ms, timeout_ms, retries, breaker_failures, cooldown_ms; } settings;
static bool settings_read; /* else the first call reads them */

void remote_config_from_env(void) {
    config_declare(remote_config_vars);
    settings_read = true;
    settings.connect_ms = config_long("REMOTE_CONNECT_TIMEOUT_MS");
    settings.timeout_ms = config_long("REMOTE_TIMEOUT_MS");
    settings.retries = config_long("REMOTE_RETRIES");
    settings.breaker_failures = config_long("REMOTE_BREAKER_FAILURES");
    settings.cooldown_ms = config_long("REMOTE_BREAKER_COOLDOWN_MS");
}

/* ---- one-time set-up and the per-thread handle ---------------------------------------- */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static pthread_key_t handle_key;
static bool init_ok;

static void handle_destroy(void *h) { curl_easy_cleanup(h); }

/* At exit: the exiting thread's handle (key destructors do not run for it). */
static void handle_destroy_at_exit(void) {
    CURL *h = pthread_getspecific(handle_key);
    if (!h) return;
    pthread_setspecific(handle_key, NULL);
    curl_easy_cleanup(h);
}

static void remote_init(void) {
    if (!settings_read) remote_config_from_env();
    if (sodium_init() < 0) return;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return;
    if (pthread_key_create(&handle_key, handle_destroy) != 0) return;
    atexit(handle_destroy_at_exit);
    init_ok = true;
}

static bool remote_ready(void) {
    pthread_once(&init_once, remote_init);
    return init_ok;
}

/* This thread's handle, reset for a new transfer (connections stay cached), or NULL. */
static CURL *thread_handle(void) {
    if (!remote_ready()) return NULL;
    CURL *h = pthread_getspecific(handle_key);
    if (h) {
        curl_easy_reset(h);
        return h;
    }
    h = curl_easy_init();
    if (h && pthread_setspecific(handle_key, h) != 0) {
        curl_easy_cleanup(h);
        h = NULL;
    }
    return h;
}

/* ---- metrics ------------------------------------------------------------------------ */

/* Prometheus label value: backslash, quote and newline escaped. */
static void label_escape(char *out, size_t n, const char *s) {
    size_t j = 0;
    for (; *s && j + 3 < n; s++) {
        if (*s == '\\' || *s == '"') out[j++] = '\\';
        if (*s == '\n') {
            out[j++] = '\\';
            out[j++] = 'n';
            continue;
        }
        out[j++] = *s;
    }
    out[j] = '\0';
}

static void help_once(void) {
    metrics_help("tizza_remote_requests_total", "counter",
                 "Remote model calls by target, method and result");
    metrics_help("tizza_remote_request_duration_seconds", "histogram",
                 "Remote model call latency (retries included) by target and method");
    metrics_help("tizza_remote_breaker_open", "gauge",
                 "1 while the circuit breaker of a target is open or half-open");
}

static void metrics_call(const char *target, const char *method, const char *result,
                         double seconds) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, help_once);
    char t[TARGET_MAX * 2], labels[TARGET_MAX * 2 + 96];
    label_escape(t, sizeof t, target);
    textf(labels, sizeof labels, "target=\"%s\",method=\"%s\",result=\"%s\"", t, method, result);
    metrics_inc("tizza_remote_requests_total", labels, 1);
    if (seconds < 0) return; /* no request was made */
    textf(labels, sizeof labels, "target=\"%s\",method=\"%s\"", t, method);
    metrics_observe("tizza_remote_request_duration_seconds", labels, seconds);
}

static void metrics_breaker(const char *target, bool open) {
    char t[TARGET_MAX * 2], labels[TARGET_MAX * 2 + 16];
    label_escape(t, sizeof t, target);
    textf(labels, sizeof labels, "target=\"%s\"", t);
    metrics_set("tizza_remote_breaker_open", labels, open ? 1 : 0);
}

/* ---- circuit breaker ------------------------------------------------------------------ */

enum breaker_state { BREAKER_CLOSED, BREAKER_OPEN, BREAKER_HALF_OPEN };

struct breaker {
    char target[TARGET_MAX];
    enum breaker_state state;
    long failures;      /* consecutive, while closed */
    uint64_t opened_ns; /* when it last opened */
};

static struct breaker breakers[BREAKER_SLOTS];
static int nbreakers;
static pthread_mutex_t breaker_lock = PTHREAD_MUTEX_INITIALIZER;

/* The breaker of `target`, created closed on first use; NULL when there is no room. Called
 * with the lock held. */
static struct breaker *breaker_of(const char *target) {
    for (int i = 0; i < nbreakers; i++)
        if (strcmp(breakers[i].target, target) == 0) return &breakers[i];
    if (nbreakers == BREAKER_SLOTS || strlen(target) >= TARGET_MAX) return NULL;
    struct breaker *b = &breakers[nbreakers++];
    memset(b, 0, sizeof *b);
    str_copy(b->target, target, sizeof b->target);
    metrics_breaker(target, false);
    return b;
}

static void breaker_open(struct breaker *b) {
    b->state = BREAKER_OPEN;
    b->opened_ns = mono_ns();
    b->failures = 0;
    metrics_breaker(b->target, true);
}

/* May a call to `target` go out now? *trial is set when it is the half-open trial. */
static bool breaker_admit(const char *target, bool *trial) {
    *trial = false;
    if (settings.breaker_failures == 0) return true;
    pthread_mutex_lock(&breaker_lock);
    bool admit = true;
    struct breaker *b = breaker_of(target);
    if (b && b->state == BREAKER_HALF_OPEN) {
        admit = false; /* the trial is in flight */
    } else if (b && b->state == BREAKER_OPEN) {
        uint64_t cooldown_ns = (uint64_t)settings.cooldown_ms * 1000000u;
        admit = mono_ns() - b->opened_ns >= cooldown_ns;
        if (admit) {
            b->state = BREAKER_HALF_OPEN;
            *trial = true;
        }
    }
    pthread_mutex_unlock(&breaker_lock);
    return admit;
}

/* Records the outcome of an admitted call. A failure counts only while closed, or re-opens
 * the breaker when it was the trial; a success always closes it. */
static void breaker_record(const char *target, bool failed, bool trial) {
    if (settings.breaker_failures == 0 && !trial) return;
    pthread_mutex_lock(&breaker_lock);
    struct breaker *b = breaker_of(target);
    if (b && !failed) {
        if (b->state != BREAKER_CLOSED) metrics_breaker(b->target, false);
        b->state = BREAKER_CLOSED;
        b->failures = 0;
    } else if (b && trial && b->state == BREAKER_HALF_OPEN) {
        breaker_open(b);
    } else if (b && b->state == BREAKER_CLOSED && settings.breaker_failures > 0 &&
               ++b->failures >= settings.breaker_failures) {
        breaker_open(b);
    }
    pthread_mutex_unlock(&breaker_lock);
}

/* ---- context: forwarded headers and the memo ------------------------------------------ */

struct memo_entry {
    char *key;
    cJSON *value; /* NULL: known not to exist */
};

struct remote_ctx {
    char *authorization; /* full header value, or NULL */
    char request_id[72];
    char traceparent[TRACE_PARENT_LEN + 1]; /* tracing off: forwarded as it is */
    trace_ctx_t parent;                     /* tracing on: the parent of each call's client span */
    bool has_parent;
    struct memo_entry *memo;
    size_t nmemo, capmemo;
    int last_status;
    char last_error[160];
};

/* Printable ASCII only and not too long: safe to put in a request header. */
static bool header_safe(const char *s, size_t max) {
    if (!s || !*s) return false;
    size_t n = 0;
    for (; *s; s++, n++)
        if (*s < 0x20 || *s > 0x7e || n >= max) return false;
    return true;
}

remote_ctx_t *remote_ctx_new_with(const char *authorization, const char *request_id,
                                  const char *traceparent) {
    if (!remote_ready()) return NULL;
    remote_ctx_t *ctx = xcalloc(1, sizeof *ctx);
    if (header_safe(authorization, REMOTE_HEADER_MAX)) ctx->authorization = xstrdup(authorization);
    if (header_safe(request_id, sizeof ctx->request_id)) {
        str_copy(ctx->request_id, request_id, sizeof ctx->request_id);
    } else {
        unsigned char raw[16];
        randombytes_buf(raw, sizeof raw);
        sodium_bin2hex(ctx->request_id, sizeof ctx->request_id, raw, sizeof raw);
    }
    trace_ctx_t in;
    bool valid = trace_parse(traceparent, NULL, &in); /* else a trace of its own */
    if (!valid) trace_new_root(&in);
    trace_format(&in, ctx->traceparent);
    if (trace_enabled()) {
        ctx->parent = in;
        ctx->has_parent = valid;
    }
    return ctx;
}

void remote_ctx_set_trace(remote_ctx_t *ctx, const trace_ctx_t *parent) {
    if (!ctx || !parent) return;
    ctx->parent = *parent;
    ctx->has_parent = true;
}

/* Authorization comes from the header, else from the access-token cookie (the web frontend
 * authenticates with the cookie), forwarded as a bearer token. */
remote_ctx_t *remote_ctx_new(const http_req_t *inbound) {
    if (!inbound) return remote_ctx_new_with(NULL, NULL, NULL);
    const char *auth = http_header(inbound, "Authorization");
    char *bearer = NULL;
    if (!auth || !*auth) {
        const char *token = http_cookie(inbound, "tizza_access");
        if (token && *token) bearer = xasprintf("Bearer %s", token);
        auth = bearer;
    }
    remote_ctx_t *ctx =
        remote_ctx_new_with(auth, http_request_id(inbound), http_header(inbound, "traceparent"));
    remote_ctx_set_trace(ctx, http_trace(inbound));
    free(bearer);
    return ctx;
}

void remote_ctx_free(remote_ctx_t *ctx) {
    if (!ctx) return;
    for (size_t i = 0; i < ctx->nmemo; i++) {
        free(ctx->memo[i].key);
        cJSON_Delete(ctx->memo[i].value);
    }
    free(ctx->memo);
    free(ctx->authorization);
    free(ctx);
}

int remote_last_status(const remote_ctx_t *ctx) { return ctx ? ctx->last_status : 0; }

const char *remote_last_error(const remote_ctx_t *ctx) { return ctx ? ctx->last_error : ""; }

/* "{base}/api/{v}/{entity}/{id}" (malloc'd), the memo key of an entity. */
static char *memo_key(const remote_model_t *m, const char *id) {
    const char *part[] = {m->base, "/api/", m->version, "/", m->entity, "/", id};
    size_t len[7], total = 1;
    for (int i = 0; i < 7; i++) total += len[i] = strlen(part[i]);
    char *key = xmalloc(total), *at = key;
    for (int i = 0; i < 7; i++) at = mempcpy(at, part[i], len[i]);
    *at = '\0';
    return key;
}

static struct memo_entry *memo_find(remote_ctx_t *ctx, const char *key) {
    if (!ctx || !key) return NULL;
    for (size_t i = 0; i < ctx->nmemo; i++)
        if (strcmp(ctx->memo[i].key, key) == 0) return &ctx->memo[i];
    return NULL;
}

/* Remembers key -> value (takes ownership of value, copies key). */
static void memo_put(remote_ctx_t *ctx, const char *key, cJSON *value) {
    struct memo_entry *e = memo_find(ctx, key);
    if (e) {
        cJSON_Delete(e->value);
        e->value = value;
        return;
    }
    if (!ctx || !key) goto drop;
    if (ctx->nmemo == ctx->capmemo) {
        size_t cap = ctx->capmemo ? ctx->capmemo * 2 : 16;
        ctx->memo = xrealloc(ctx->memo, cap * sizeof *ctx->memo);
        ctx->capmemo = cap;
    }
    ctx->memo[ctx->nmemo++] = (struct memo_entry){xstrdup(key), value};
    return;
drop:
    cJSON_Delete(value);
}

static void memo_forget(remote_ctx_t *ctx, const remote_model_t *m, const char *id) {
    char *key = ctx ? memo_key(m, id) : NULL;
    struct memo_entry *e = memo_find(ctx, key);
    if (e) {
        free(e->key);
        cJSON_Delete(e->value);
        *e = ctx->memo[--ctx->nmemo];
    }
    free(key);
}

/* ---- one HTTP exchange ------------------------------------------------------------------ */

typedef struct {
    const char *method; /* GET POST PUT PATCH DELETE */
    const char *target; /* the model's base URL: breaker key and metrics label */
    const char *url;
    const char *payload; /* JSON text or NULL */
    bool retry;          /* idempotent: may be retried */
    bool want_body;      /* a 2xx must carry JSON (GET) */
} call_t;

typedef struct {
    char *data;
    size_t len, cap;
    bool too_big;
} body_t;

static size_t on_body(char *p, size_t size, size_t n, void *arg) {
    body_t *b = arg;
    size_t add = size * n;
    if (b->len + add > REMOTE_BODY_MAX) {
        b->too_big = true;
        return 0; /* aborts the transfer */
    }
    if (b->len + add + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + add + 1) cap *= 2;
        b->data = xrealloc(b->data, cap);
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, add);
    b->len += add;
    b->data[b->len] = '\0';
    return add;
}

static struct curl_slist *add_header(struct curl_slist *list, const char *name, const char *value) {
    if (!list || !value || !*value) return list;
    char *line = xasprintf("%s: %s", name, value);
    struct curl_slist *l = curl_slist_append(list, line);
    free(line);
    if (!l) { /* keep what we have; the caller checks the list it gets back */
        curl_slist_free_all(list);
        return NULL;
    }
    return l;
}

/* The headers every attempt of a call sends, or NULL without memory. With tracing on the
 * traceparent is the call's client span's (`span`), with the parent's tracestate. */
static struct curl_slist *call_headers(const remote_ctx_t *ctx, const call_t *c,
                                       const trace_span_t *span,
                                       char fallback_tp[TRACE_PARENT_LEN + 1]) {
    struct curl_slist *h = curl_slist_append(NULL, "Accept: application/json");
    h = curl_slist_append(h, "Expect:"); /* no 100-continue round trip */
    if (c->payload) h = add_header(h, "Content-Type", "application/json");
    if (ctx) {
        h = add_header(h, "Authorization", ctx->authorization);
        h = add_header(h, "X-Request-Id", ctx->request_id);
    }
    if (span) {
        trace_format(&span->ctx, fallback_tp);
        h = add_header(h, "traceparent", fallback_tp);
        h = add_header(h, "tracestate", span->ctx.tracestate);
    } else if (ctx) {
        h = add_header(h, "traceparent", ctx->traceparent);
    } else {
        trace_ctx_t root;
        trace_new_root(&root);
        trace_format(&root, fallback_tp);
        h = add_header(h, "traceparent", fallback_tp);
    }
    return h;
}

/* Problem "detail" (or "title") of an error answer, for the error text. */
static void problem_detail(const body_t *b, char *out, size_t n) {
    out[0] = '\0';
    cJSON *j = b->data ? cJSON_ParseWithLength(b->data, b->len) : NULL;
    const char *d = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "detail"));
    if (!d) d = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "title"));
    if (d) str_copy(out, d, n);
    cJSON_Delete(j);
}

static bool transient_curl_error(CURLcode rc) {
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE: return true;
    default: return false;
    }
}

/* Turns a finished transfer into an outcome; *transient says whether a retry may help. */
static int classify(const call_t *c, CURLcode rc, long status, body_t *b, const char *errbuf,
                    remote_result_t *res, bool *transient) {
    res->status = (int)status;
    *transient = false;
    if (b->too_big) {
        textf(res->error, sizeof res->error, "answer from %s over %u bytes", c->target,
              REMOTE_BODY_MAX);
        return REMOTE_UNAVAILABLE;
    }
    if (rc != CURLE_OK) {
        res->status = 0;
        *transient = transient_curl_error(rc);
        textf(res->error, sizeof res->error, "%s: %s", c->target,
              errbuf[0] ? errbuf : curl_easy_strerror(rc));
        return REMOTE_UNAVAILABLE;
    }
    if (status >= 200 && status < 300) {
        if (b->len == 0 && !c->want_body) return REMOTE_OK; /* 204 and friends */
        res->body = cJSON_ParseWithLength(b->data, b->len);
        if (res->body) return REMOTE_OK;
        textf(res->error, sizeof res->error, "bad JSON from %s", c->target);
        return REMOTE_UNAVAILABLE;
    }
    char detail[96];
    problem_detail(b, detail, sizeof detail);
    textf(res->error, sizeof res->error, "%ld from %s%s%s", status, c->target,
          detail[0] ? ": " : "", detail);
    if (status == 404) return REMOTE_NOT_FOUND;
    if (status == 401) return REMOTE_UNAUTHORIZED;
    if (status >= 400 && status < 500) return REMOTE_REJECTED;
    *transient = status == 502 || status == 503 || status == 504;
    return REMOTE_UNAVAILABLE;
}

/* One attempt with at most `budget_ms` to finish. */
static int perform(CURL *h, const call_t *c, struct curl_slist *headers, long budget_ms,
                   remote_result_t *res, bool *transient) {
    char errbuf[CURL_ERROR_SIZE] = "";
    body_t b = {0};
    curl_easy_setopt(h, CURLOPT_URL, c->url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    /* a scaled dependency's replicas come and go behind one name: resolve it again after 5 s
     * (curl's default keeps an address 60 s, long after its replica was removed) */
    curl_easy_setopt(h, CURLOPT_DNS_CACHE_TIMEOUT, 5L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, budget_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     settings.connect_ms < budget_ms ? settings.connect_ms : budget_ms);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "tizza-remote/" TIZZA_VERSION);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    if (strcmp(c->method, "GET") != 0) curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, c->method);
    if (c->payload) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, c->payload);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(c->payload));
    }
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL); /* errbuf dies with this frame */
    int err = classify(c, rc, status, &b, errbuf, res, transient);
    free(b.data);
    return err;
}

static long ms_left(uint64_t deadline_ns) {
    uint64_t now = mono_ns();
    return now >= deadline_ns ? 0 : (long)((deadline_ns - now) / 1000000u);
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static void log_attempt(const remote_ctx_t *ctx, const trace_span_t *span, const call_t *c,
                        const remote_result_t *res, int attempt) {
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "target", c->target);
    cJSON_AddStringToObject(f, "method", c->method);
    cJSON_AddStringToObject(f, "url", c->url);
    cJSON_AddNumberToObject(f, "status", res->status);
    cJSON_AddStringToObject(f, "error", res->error);
    cJSON_AddNumberToObject(f, "attempt", attempt);
    if (ctx) cJSON_AddStringToObject(f, "request_id", ctx->request_id);
    if (span) {
        char hex[33];
        trace_id_hex(&span->ctx, hex);
        cJSON_AddStringToObject(f, "trace_id", hex);
        trace_span_id_hex(&span->ctx, hex);
        cJSON_AddStringToObject(f, "span_id", hex);
    }
    log_fields(LOG_WARN, "remote call failed", f);
}

/* Attempts until an answer that retrying cannot change, or the retries or the budget run
 * out; all of them in one client span (`span`, may be NULL). */
static int attempts(const remote_ctx_t *ctx, trace_span_t *span, const call_t *c,
                    remote_result_t *res) {
    CURL *h = thread_handle();
    char tp[TRACE_PARENT_LEN + 1];
    struct curl_slist *headers = h ? call_headers(ctx, c, span, tp) : NULL;
    if (!headers) {
        textf(res->error, sizeof res->error, "%s: cannot set up the request", c->target);
        return REMOTE_UNAVAILABLE;
    }
    uint64_t deadline = mono_ns() + (uint64_t)settings.timeout_ms * 1000000u;
    int err;
    for (int attempt = 1;; attempt++) {
        bool transient = false;
        *res = (remote_result_t){0};
        err =
            perform(h, c, headers, ms_left(deadline) > 0 ? ms_left(deadline) : 1, res, &transient);
        if (err == REMOTE_OK || err == REMOTE_NOT_FOUND) break;
        log_attempt(ctx, span, c, res, attempt);
        if (!c->retry || !transient || attempt > settings.retries) break;
        long cap = REMOTE_BACKOFF_MS << (attempt - 1);
        long pause = (long)randombytes_uniform((uint32_t)cap + 1);
        if (ms_left(deadline) - pause < REMOTE_MIN_ATTEMPT_MS) break;
        sleep_ms(pause);
    }
    curl_slist_free_all(headers);
    return err;
}

static const char *result_label(int err) {
    switch (err) {
    case REMOTE_OK: return "ok";
    case REMOTE_NOT_FOUND: return "not_found";
    case REMOTE_REJECTED: return "rejected";
    case REMOTE_UNAUTHORIZED: return "unauthorized";
    default: return "unavailable";
    }
}

/* The client span of a call: an error when no answer came or a 4xx/5xx did. */
static void end_client_span(trace_span_t *span, const call_t *c, const remote_result_t *res) {
    if (!span) return;
    trace_span_attr_str(span, "http.request.method", c->method);
    trace_span_attr_str(span, "url.full", c->url);
    if (res->status) trace_span_attr_int(span, "http.response.status_code", res->status);
    if (res->status == 0 || res->status >= 400) trace_span_set_error(span);
    trace_span_end(span);
}

/* A whole call: breaker, attempts, metrics, the ctx's last error. *out (may be NULL) gets
 * the parsed body of a 2xx answer. */
static int call(remote_ctx_t *ctx, const call_t *c, cJSON **out) {
    remote_result_t res = {0};
    bool trial;
    int err;
    if (!breaker_admit(c->target, &trial)) {
        err = REMOTE_UNAVAILABLE;
        textf(res.error, sizeof res.error, "circuit open for %s", c->target);
        metrics_call(c->target, c->method, "breaker_open", -1);
    } else {
        uint64_t t0 = mono_ns();
        trace_span_t *span =
            trace_span_start(ctx && ctx->has_parent ? &ctx->parent : NULL, c->method, TRACE_CLIENT);
        err = attempts(ctx, span, c, &res);
        end_client_span(span, c, &res);
        breaker_record(c->target, err == REMOTE_UNAVAILABLE, trial);
        metrics_call(c->target, c->method, result_label(err), (double)(mono_ns() - t0) / 1e9);
    }
    if (err != REMOTE_OK && ctx) {
        ctx->last_status = res.status;
        str_copy(ctx->last_error, res.error, sizeof ctx->last_error);
    }
    if (out)
        *out = res.body;
    else
        cJSON_Delete(res.body);
    return err;
}

/* ---- URLs ------------------------------------------------------------------------------ */

static bool model_ok(remote_ctx_t *ctx, const remote_model_t *m) {
    if (m && m->base && *m->base && m->version && m->entity) return true;
    if (ctx) {
        ctx->last_status = 0;
        str_copy(ctx->last_error, "remote model not configured", sizeof ctx->last_error);
    }
    return false;
}

/* {base}/api/{v}/{entity}[/{escaped id}][/{path}][?{query}], malloc'd; NULL when libcurl
 * could not escape the id (its own allocation failed). */
static char *model_url(const remote_model_t *m, const char *id, const char *path,
                       const char *query) {
    char *esc = id ? curl_easy_escape(NULL, id, 0) : NULL;
    if (id && !esc) return NULL;
    char *url = xasprintf("%s/api/%s/%s%s%s%s%s%s%s", m->base, m->version, m->entity,
                          esc ? "/" : "", esc ? esc : "", path && *path ? "/" : "",
                          path ? path : "", query && *query ? "?" : "", query ? query : "");
    curl_free(esc);
    return url;
}

static int no_memory(remote_ctx_t *ctx) {
    if (ctx) {
        ctx->last_status = 0;
        str_copy(ctx->last_error, "out of memory", sizeof ctx->last_error);
    }
    return REMOTE_UNAVAILABLE;
}

/* GET/DELETE/POST/PATCH of one URL. */
static int simple_call(remote_ctx_t *ctx, const remote_model_t *m, const char *method, char *url,
                       const cJSON *body, cJSON **out) {
    if (!url) return no_memory(ctx);
    char *payload = NULL;
    if (strcmp(method, "POST") == 0 || strcmp(method, "PATCH") == 0 || strcmp(method, "PUT") == 0) {
        payload = body ? cJSON_PrintUnformatted(body) : xstrdup("{}");
    }
    bool retry =
        strcmp(method, "GET") == 0 || strcmp(method, "PUT") == 0 || strcmp(method, "DELETE") == 0;
    call_t c = {method, m->base, url, payload, retry, strcmp(method, "GET") == 0};
    int err = call(ctx, &c, out);
    free(payload);
    free(url);
    return err;
}

/* ---- the API ---------------------------------------------------------------------------- */

int remote_get(remote_ctx_t *ctx, const remote_model_t *m, const char *id, cJSON **out) {
    if (out) *out = NULL;
    if (!model_ok(ctx, m)) return REMOTE_UNAVAILABLE;
    if (!id || !*id) {
        if (ctx) {
            ctx->last_status = 404;
            str_copy(ctx->last_error, "empty id", sizeof ctx->last_error);
        }
        return REMOTE_NOT_FOUND;
    }
    char *key = ctx ? memo_key(m, id) : NULL;
    struct memo_entry *e = memo_find(ctx, key);
    if (e) {
        free(key);
        if (!e->value) {
            ctx->last_status = 404;
            textf(ctx->last_error, sizeof ctx->last_error, "404 from %s (remembered)", m->base);
            return REMOTE_NOT_FOUND;
        }
        if (out) *out = cJSON_Duplicate(e->value, 1);
        return REMOTE_OK;
    }
    cJSON *entity = NULL;
    int err = simple_call(ctx, m, "GET", model_url(m, id, NULL, NULL), NULL, &entity);
    if (err == REMOTE_OK) memo_put(ctx, key, cJSON_Duplicate(entity, 1));
    if (err == REMOTE_NOT_FOUND) memo_put(ctx, key, NULL);
    free(key);
    if (out)
        *out = entity;
    else
        cJSON_Delete(entity);
    return err;
}

/* The entity with "id" == id in array `arr`, or NULL. */
static cJSON *find_by_id(const cJSON *arr, const char *id) {
    const cJSON *it;
    cJSON_ArrayForEach(it, arr) {
        const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "id"));
        if (v && strcmp(v, id) == 0) return (cJSON *)it;
    }
    return NULL;
}

/* True when ids[i] should be looked up: a well-formed id, not a repeat of an earlier one.
 * Ids are ObjectIds (SPEC §3); a malformed one cannot exist and would only make the
 * dependency refuse the whole batch with 400. */
static bool wanted(const char *const *ids, int i) {
    if (!id_valid(ids[i])) return false;
    for (int j = 0; j < i; j++)
        if (ids[j] && strcmp(ids[j], ids[i]) == 0) return false;
    return true;
}

/* One ?ids= request for todo[0..n); the entities found are appended to `found`. */
static int fetch_batch(remote_ctx_t *ctx, const remote_model_t *m, const char *const *todo, int n,
                       cJSON *found) {
    size_t qlen = 32 + (size_t)n * (ID_LEN + 1);
    char *query = xmalloc(qlen);
    size_t len = (size_t)snprintf(query, qlen, "limit=%d&ids=", n);
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(query + len, qlen - len, "%s%s", i ? "," : "", todo[i]);
    cJSON *page = NULL;
    int err = simple_call(ctx, m, "GET", model_url(m, NULL, NULL, query), NULL, &page);
    free(query);
    if (err != REMOTE_OK) return err;

    cJSON *results = cJSON_IsArray(page) ? page : cJSON_GetObjectItemCaseSensitive(page, "results");
    if (!cJSON_IsArray(results)) {
        cJSON_Delete(page);
        if (ctx) {
            ctx->last_status = 200;
            textf(ctx->last_error, sizeof ctx->last_error, "bad JSON from %s: no results", m->base);
        }
        return REMOTE_UNAVAILABLE;
    }
    while (cJSON_GetArraySize(results) > 0)
        cJSON_AddItemToArray(found, cJSON_DetachItemFromArray(results, 0));
    cJSON_Delete(page);
    return REMOTE_OK;
}

/* Remembers every fetched entity (moved out of `found`, which ends up empty), and every
 * asked-for id the answers lacked as absent. Without a ctx nothing is remembered and
 * `found` keeps its entities. */
static void memo_fill(remote_ctx_t *ctx, const remote_model_t *m, const char *const *todo,
                      int ntodo, cJSON *found) {
    for (int i = 0; ctx && i < ntodo; i++) {
        char *key = memo_key(m, todo[i]);
        cJSON *e = find_by_id(found, todo[i]);
        memo_put(ctx, key, e ? cJSON_DetachItemViaPointer(found, e) : NULL);
        free(key);
    }
}

int remote_get_many(remote_ctx_t *ctx, const remote_model_t *m, const char *const *ids, int n,
                    cJSON **out) {
    *out = NULL;
    if (!model_ok(ctx, m)) return REMOTE_UNAVAILABLE;
    if (n < 0 || !ids) n = 0;
    const char **todo = xcalloc((size_t)n + 1, sizeof *todo);
    bool *want = xcalloc((size_t)n + 1, sizeof *want);
    cJSON *found = cJSON_CreateArray();
    int ntodo = 0, err = REMOTE_OK;

    /* want[i]: ids[i] is asked for (well-formed, not a repeat); those not remembered go
     * out, REMOTE_BATCH per request */
    for (int i = 0; err == REMOTE_OK && i < n; i++) {
        want[i] = wanted(ids, i);
        if (!want[i]) continue;
        char *key = ctx ? memo_key(m, ids[i]) : NULL;
        if (!memo_find(ctx, key)) todo[ntodo++] = ids[i];
        free(key);
    }
    for (int i = 0; err == REMOTE_OK && i < ntodo; i += REMOTE_BATCH)
        err = fetch_batch(ctx, m, todo + i, ntodo - i < REMOTE_BATCH ? ntodo - i : REMOTE_BATCH,
                          found);
    if (err == REMOTE_OK) memo_fill(ctx, m, todo, ntodo, found);

    /* the answer, in the order asked: a copy of what the memo holds now, or (without a ctx)
     * the entity fetched */
    cJSON *arr = err == REMOTE_OK ? cJSON_CreateArray() : NULL;
    for (int i = 0; arr && i < n; i++) {
        if (!want[i]) continue;
        cJSON *e = ctx ? NULL : find_by_id(found, ids[i]);
        if (e) {
            cJSON_AddItemToArray(arr, cJSON_DetachItemViaPointer(found, e));
            continue;
        }
        char *key = ctx ? memo_key(m, ids[i]) : NULL;
        struct memo_entry *me = memo_find(ctx, key);
        free(key);
        if (me && me->value) cJSON_AddItemToArray(arr, cJSON_Duplicate(me->value, 1));
    }
    free(want);
    cJSON_Delete(found);
    free(todo);
    *out = arr;
    return err;
}

int remote_filter(remote_ctx_t *ctx, const remote_model_t *m, const char *query, cJSON **out) {
    *out = NULL;
    if (!model_ok(ctx, m)) return REMOTE_UNAVAILABLE;
    return simple_call(ctx, m, "GET", model_url(m, NULL, NULL, query), NULL, out);
}

int remote_get_path(remote_ctx_t *ctx, const remote_model_t *m, const char *path, const char *query,
                    cJSON **out) {
    *out = NULL;
    if (!model_ok(ctx, m)) return REMOTE_UNAVAILABLE;
    return simple_call(ctx, m, "GET", model_url(m, NULL, path, query), NULL, out);
}

int remote_create(remote_ctx_t *ctx, const remote_model_t *m, const cJSON *body, cJSON **out) {
    if (out) *out = NULL;
    if (!model_ok(ctx, m)) return REMOTE_UNAVAILABLE;
    return simple_call(ctx, m, "POST", model_url(m, NULL, NULL, NULL), body, out);
}

int remote_update(remote_ctx_t *ctx, const remote_model_t *m, const char *id, const cJSON *body,
                  cJSON **out) {
    if (out) *out = NULL;
    if (!model_ok(ctx, m)) return REMOTE_UNAVAILABLE;
    if (!id || !*id) return remote_get(ctx, m, id, NULL); /* NOT_FOUND, same bookkeeping */
    memo_forget(ctx, m, id);
    return simple_call(ctx, m, "PATCH", model_url(m, id, NULL, NULL), body, out);
}

int remote_delete(remote_ctx_t *ctx, const remote_model_t *m, const char *id) {
    if (!model_ok(ctx, m)) return REMOTE_UNAVAILABLE;
    if (!id || !*id) return remote_get(ctx, m, id, NULL);
    memo_forget(ctx, m, id);
    return simple_call(ctx, m, "DELETE", model_url(m, id, NULL, NULL), NULL, NULL);
}

/* ---- answering the inbound request -------------------------------------------------------- */

void remote_reply_error(http_req_t *req, int err, const char *what, const char *service) {
    char detail[200];
    switch (err) {
    case REMOTE_NOT_FOUND:
        textf(detail, sizeof detail, "%s does not exist", what ? what : "the referenced entity");
        http_reply_problem(req, 422, detail);
        break;
    case REMOTE_REJECTED:
        textf(detail, sizeof detail, "%s refused the request", service ? service : "a dependency");
        http_reply_problem(req, 502, detail);
        break;
    case REMOTE_UNAUTHORIZED:
        textf(detail, sizeof detail, "%s refused the caller's credentials",
              service ? service : "a dependency");
        http_add_header(req, "WWW-Authenticate", "Bearer");
        http_reply_problem(req, 401, detail);
        break;
    case REMOTE_UNAVAILABLE:
        textf(detail, sizeof detail, "%s is unavailable", service ? service : "a dependency");
        http_add_header(req, "Retry-After", "5");
        http_reply_problem(req, 503, detail);
        break;
    default: /* REMOTE_OK or garbage: the handler should not have called us */
        http_reply_problem(req, 500, "the server could not answer this request");
        break;
    }
}
