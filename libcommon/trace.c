/* trace.c -- W3C trace context, spans and the OTLP/HTTP JSON exporter (see trace.h).
 *
 * State: the settings and the queue live in one static struct under one mutex; `on` is read
 * without it (set before the server's threads start, cleared after they stopped). The
 * exporter thread waits on a condition variable for spans, takes the whole queue (at most
 * BATCH_MAX spans), encodes it and POSTs it with its own curl handle; a batch that fails is
 * dropped and counted. trace_stop() wakes it one last time to send what is left, until the
 * first failure: what is still queued then is dropped, so a stop waits at most a few
 * EXPORT_TIMEOUT_MS. */
#include "trace.h"

#include "alloc.h"
#include "config.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define QUEUE_DEFAULT     2048
#define BATCH_MAX         512
#define EXPORT_TIMEOUT_MS 2000
#define CONNECT_MS        500

#ifndef TIZZA_VERSION
#define TIZZA_VERSION "dev"
#endif

/* ---- configuration ---- */

static const char *const sampler_choices[] = {"always_on",
                                              "always_off",
                                              "traceidratio",
                                              "parentbased_always_on",
                                              "parentbased_always_off",
                                              "parentbased_traceidratio",
                                              NULL};

const config_var_t trace_config_vars[] = {
    {.name = "OTEL_EXPORTER_OTLP_ENDPOINT",
     .type = CONFIG_URL,
     .def_doc = "none: tracing off",
     .help = "OTLP/HTTP collector base URL; spans are POSTed as JSON to <it>/v1/traces"},
    {.name = "OTEL_SERVICE_NAME",
     .type = CONFIG_STR,
     .def_doc = "the service's name",
     .help = "service.name of the exported spans"},
    {.name = "OTEL_TRACES_SAMPLER",
     .type = CONFIG_ENUM,
     .def = "parentbased_traceidratio",
     .choices = sampler_choices,
     .help = "which new traces are recorded; parentbased_* follow the caller's sampled flag"},
    {.name = "OTEL_TRACES_SAMPLER_ARG",
     .type = CONFIG_STR,
     .def = "1.0",
     .help = "the ratio of the traceidratio samplers, 0 to 1"},
    {.name = NULL},
};

/* ---- context ---- */

static bool lower_hex(const char *s, size_t n, bool *all_zero) {
    *all_zero = true;
    for (size_t i = 0; i < n; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
        if (s[i] != '0') *all_zero = false;
    }
    return true;
}

static int hexval(char c) { return c <= '9' ? c - '0' : c - 'a' + 10; }

static void unhex(const char *s, uint8_t *out, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = (uint8_t)(hexval(s[2 * i]) << 4 | hexval(s[2 * i + 1]));
}

static bool printable(const char *s, size_t max) {
    size_t n = 0;
    for (; *s; s++, n++)
        if (*s < 0x20 || *s > 0x7e || n >= max) return false;
    return true;
}

bool trace_parse(const char *tp, const char *tracestate, trace_ctx_t *out) {
    bool zero;
    if (!tp) return false;
    size_t len = strlen(tp);
    if (len < TRACE_PARENT_LEN) return false;
    if (tp[2] != '-' || tp[35] != '-' || tp[52] != '-') return false;
    if (!lower_hex(tp, 2, &zero) || strncmp(tp, "ff", 2) == 0) return false;
    /* version 00 is exactly this long; a later version may add fields after a '-' */
    if (strncmp(tp, "00", 2) == 0 ? len != TRACE_PARENT_LEN
                                  : len > TRACE_PARENT_LEN && tp[TRACE_PARENT_LEN] != '-')
        return false;
    if (!lower_hex(tp + 3, 32, &zero) || zero) return false;
    if (!lower_hex(tp + 36, 16, &zero) || zero) return false;
    if (!lower_hex(tp + 53, 2, &zero)) return false;
    unhex(tp + 3, out->trace_id, 16);
    unhex(tp + 36, out->span_id, 8);
    out->sampled = hexval(tp[54]) & 1;
    out->tracestate[0] = '\0';
    if (tracestate && printable(tracestate, TRACE_STATE_MAX))
        str_copy(out->tracestate, tracestate, sizeof out->tracestate);
    return true;
}

void trace_id_hex(const trace_ctx_t *c, char *out) {
    sodium_bin2hex(out, 33, c->trace_id, sizeof c->trace_id);
}

void trace_span_id_hex(const trace_ctx_t *c, char *out) {
    sodium_bin2hex(out, 17, c->span_id, sizeof c->span_id);
}

void trace_format(const trace_ctx_t *c, char *out) {
    char t[33], s[17];
    trace_id_hex(c, t);
    trace_span_id_hex(c, s);
    snprintf(out, TRACE_PARENT_LEN + 1, "00-%s-%s-%s", t, s, c->sampled ? "01" : "00");
}

static bool ratio_keeps(double ratio, const uint8_t id[16]) {
    if (ratio >= 1.0) return true;
    if (!(ratio > 0.0)) return false;
    uint64_t x = 0;
    for (int i = 8; i < 16; i++) x = x << 8 | id[i];
    uint64_t bound = (uint64_t)(ratio * 9223372036854775808.0); /* ratio * 2^63 */
    return (x >> 1) < bound;
}

bool trace_should_sample(trace_sampler_t s, double ratio, const trace_ctx_t *parent,
                         const uint8_t trace_id[16]) {
    switch (s) {
    case TRACE_ALWAYS_ON: return true;
    case TRACE_ALWAYS_OFF: return false;
    case TRACE_RATIO: return ratio_keeps(ratio, trace_id);
    case TRACE_PARENT_ALWAYS_ON: return parent ? parent->sampled : true;
    case TRACE_PARENT_ALWAYS_OFF: return parent ? parent->sampled : false;
    case TRACE_PARENT_RATIO: return parent ? parent->sampled : ratio_keeps(ratio, trace_id);
    }
    return false;
}

/* ---- exporter state ---- */

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    trace_settings_t set;
    char *endpoint, *service, *url;
    trace_span_t *head, *tail;
    int queued;
    bool stop, thread_on;
    pthread_t thread;
} ex = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static atomic_bool on;

bool trace_enabled(void) { return atomic_load_explicit(&on, memory_order_relaxed); }

/* ---- spans ---- */

static uint64_t unix_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void random_nonzero(uint8_t *p, size_t n) {
    do randombytes_buf(p, n);
    while (sodium_is_zero(p, n));
}

void trace_new_root(trace_ctx_t *out) {
    memset(out, 0, sizeof *out);
    random_nonzero(out->trace_id, sizeof out->trace_id);
    random_nonzero(out->span_id, sizeof out->span_id);
    out->sampled = true;
}

trace_span_t *trace_span_start(const trace_ctx_t *parent, const char *name, trace_kind_t kind) {
    if (!trace_enabled()) return NULL;
    trace_span_t *sp = xcalloc(1, sizeof *sp);
    if (parent) {
        memcpy(sp->ctx.trace_id, parent->trace_id, sizeof sp->ctx.trace_id);
        memcpy(sp->parent_id, parent->span_id, sizeof sp->parent_id);
        memcpy(sp->ctx.tracestate, parent->tracestate, sizeof sp->ctx.tracestate);
        sp->has_parent = true;
    } else {
        random_nonzero(sp->ctx.trace_id, sizeof sp->ctx.trace_id);
    }
    random_nonzero(sp->ctx.span_id, sizeof sp->ctx.span_id);
    sp->ctx.sampled = trace_should_sample(ex.set.sampler, ex.set.ratio, parent, sp->ctx.trace_id);
    str_copy(sp->name, name ? name : "", sizeof sp->name);
    sp->kind = kind;
    sp->start_ns = unix_ns();
    return sp;
}

static trace_attr_t *attr_slot(trace_span_t *sp, const char *key) {
    if (!sp || !sp->ctx.sampled || sp->nattrs >= TRACE_ATTRS_MAX) return NULL;
    trace_attr_t *a = &sp->attrs[sp->nattrs++];
    str_copy(a->key, key, sizeof a->key);
    return a;
}

void trace_span_attr_str(trace_span_t *sp, const char *key, const char *value) {
    trace_attr_t *a = attr_slot(sp, key);
    if (a) str_copy(a->s, value ? value : "", sizeof a->s);
}

void trace_span_attr_int(trace_span_t *sp, const char *key, long long value) {
    trace_attr_t *a = attr_slot(sp, key);
    if (!a) return;
    a->is_int = true;
    a->i = value;
}

void trace_span_set_error(trace_span_t *sp) {
    if (sp) sp->error = true;
}

void trace_span_free(trace_span_t *sp) { free(sp); }

static void count_dropped(const char *reason, int n) {
    char labels[64];
    snprintf(labels, sizeof labels, "reason=\"%s\"", reason);
    metrics_inc("tizza_trace_spans_dropped_total", labels, n);
}

void trace_span_end(trace_span_t *sp) {
    if (!sp) return;
    sp->end_ns = unix_ns();
    if (!sp->ctx.sampled) {
        free(sp);
        return;
    }
    sp->next = NULL;
    pthread_mutex_lock(&ex.mu);
    bool full = !trace_enabled() || ex.queued >= ex.set.queue_max;
    if (!full) {
        if (ex.tail)
            ex.tail->next = sp;
        else
            ex.head = sp;
        ex.tail = sp;
        ex.queued++;
        pthread_cond_signal(&ex.cv);
    }
    pthread_mutex_unlock(&ex.mu);
    if (full) {
        count_dropped("queue_full", 1);
        free(sp);
    }
}

int trace_queued(void) {
    pthread_mutex_lock(&ex.mu);
    int n = ex.queued;
    pthread_mutex_unlock(&ex.mu);
    return n;
}

/* ---- OTLP JSON ---- */

static void add_attr_str(cJSON *arr, const char *key, const char *value) {
    cJSON *a = cJSON_CreateObject(), *v = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "key", key);
    cJSON_AddStringToObject(v, "stringValue", value);
    cJSON_AddItemToObject(a, "value", v);
    cJSON_AddItemToArray(arr, a);
}

static void add_nanos(cJSON *o, const char *key, uint64_t ns) {
    char text[24];
    snprintf(text, sizeof text, "%llu", (unsigned long long)ns);
    cJSON_AddStringToObject(o, key, text); /* a string: JSON numbers lose precision */
}

cJSON *trace_span_json(const trace_span_t *sp) {
    char hex[33];
    cJSON *o = cJSON_CreateObject();
    trace_id_hex(&sp->ctx, hex);
    cJSON_AddStringToObject(o, "traceId", hex);
    trace_span_id_hex(&sp->ctx, hex);
    cJSON_AddStringToObject(o, "spanId", hex);
    if (sp->has_parent) {
        sodium_bin2hex(hex, sizeof hex, sp->parent_id, sizeof sp->parent_id);
        cJSON_AddStringToObject(o, "parentSpanId", hex);
    }
    if (sp->ctx.tracestate[0]) cJSON_AddStringToObject(o, "traceState", sp->ctx.tracestate);
    cJSON_AddStringToObject(o, "name", sp->name);
    cJSON_AddNumberToObject(o, "kind", sp->kind);
    add_nanos(o, "startTimeUnixNano", sp->start_ns);
    add_nanos(o, "endTimeUnixNano", sp->end_ns);
    cJSON *attrs = cJSON_AddArrayToObject(o, "attributes");
    for (int i = 0; i < sp->nattrs; i++) {
        const trace_attr_t *a = &sp->attrs[i];
        if (!a->is_int) {
            add_attr_str(attrs, a->key, a->s);
            continue;
        }
        cJSON *item = cJSON_CreateObject(), *v = cJSON_CreateObject();
        char text[24];
        snprintf(text, sizeof text, "%lld", a->i);
        cJSON_AddStringToObject(item, "key", a->key);
        cJSON_AddStringToObject(v, "intValue", text); /* int64 is a string in OTLP JSON */
        cJSON_AddItemToObject(item, "value", v);
        cJSON_AddItemToArray(attrs, item);
    }
    cJSON *status = cJSON_AddObjectToObject(o, "status");
    if (sp->error) cJSON_AddNumberToObject(status, "code", 2); /* STATUS_CODE_ERROR */
    return o;
}

cJSON *trace_export_json(const char *service, const trace_span_t *spans) {
    cJSON *root = cJSON_CreateObject();
    cJSON *rs = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(root, "resourceSpans"), rs);
    cJSON *res = cJSON_AddObjectToObject(rs, "resource");
    cJSON *attrs = cJSON_AddArrayToObject(res, "attributes");
    add_attr_str(attrs, "service.name", service ? service : "tizza");
    add_attr_str(attrs, "service.version", TIZZA_VERSION);
    cJSON *ss = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(rs, "scopeSpans"), ss);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(ss, "scope"), "name", "tizza");
    cJSON *arr = cJSON_AddArrayToObject(ss, "spans");
    for (const trace_span_t *sp = spans; sp; sp = sp->next)
        cJSON_AddItemToArray(arr, trace_span_json(sp));
    return root;
}

/* ---- the exporter thread ---- */

static size_t discard(char *p, size_t size, size_t n, void *arg) { return size * n; }

static void free_list(trace_span_t *sp) {
    while (sp) {
        trace_span_t *next = sp->next;
        free(sp);
        sp = next;
    }
}

/* POSTs one batch; false when it was not accepted (dropped and counted). */
static bool send_batch(CURL *h, trace_span_t *batch, int n) {
    cJSON *doc = trace_export_json(ex.service, batch);
    char *body = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    long status = 0;
    CURLcode rc = CURLE_OUT_OF_MEMORY;
    if (h && body && hdr) {
        curl_easy_reset(h);
        curl_easy_setopt(h, CURLOPT_URL, ex.url);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)EXPORT_TIMEOUT_MS);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_MS);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(h, CURLOPT_USERAGENT, "tizza-trace/" TIZZA_VERSION);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
        rc = curl_easy_perform(h);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    }
    bool ok = rc == CURLE_OK && status >= 200 && status < 300;
    if (!ok) {
        count_dropped("export_failed", n);
        log_msg(LOG_DEBUG, "trace export to %s failed: %s (status %ld)", ex.url,
                rc != CURLE_OK ? curl_easy_strerror(rc) : "answer", status);
    } else {
        metrics_inc("tizza_trace_spans_exported_total", "", n);
    }
    curl_slist_free_all(hdr);
    cJSON_free(body);
    return ok;
}

static void *exporter_main(void *arg) {
    CURL *h = curl_easy_init();
    pthread_mutex_lock(&ex.mu);
    for (;;) {
        while (!ex.head && !ex.stop) pthread_cond_wait(&ex.cv, &ex.mu);
        if (!ex.head) break; /* stopping, nothing left */
        trace_span_t *batch = ex.head, *last = batch;
        int n = 1;
        while (last->next && n < BATCH_MAX) {
            last = last->next;
            n++;
        }
        ex.head = last->next;
        if (!ex.head) ex.tail = NULL;
        last->next = NULL;
        ex.queued -= n;
        pthread_mutex_unlock(&ex.mu);
        bool sent = send_batch(h, batch, n);
        free_list(batch);
        pthread_mutex_lock(&ex.mu);
        if (!sent && ex.stop) break; /* stopping: no more waits on a collector that fails */
    }
    pthread_mutex_unlock(&ex.mu);
    curl_easy_cleanup(h);
    return NULL;
}

/* ---- start and stop ---- */

void trace_start(const trace_settings_t *s) {
    if (trace_enabled() || !s->endpoint || !*s->endpoint) return;
    metrics_help("tizza_trace_spans_dropped_total", "counter",
                 "spans not exported: queue_full or export_failed");
    metrics_help("tizza_trace_spans_exported_total", "counter", "spans accepted by the collector");
    pthread_mutex_lock(&ex.mu);
    ex.set = *s;
    if (ex.set.queue_max <= 0) ex.set.queue_max = QUEUE_DEFAULT;
    ex.endpoint = xstrdup(s->endpoint);
    ex.service = xstrdup(s->service && *s->service ? s->service : "tizza");
    ex.url = xasprintf("%s/v1/traces", ex.endpoint);
    ex.set.endpoint = ex.endpoint;
    ex.set.service = ex.service;
    ex.stop = false;
    pthread_mutex_unlock(&ex.mu);
    if (!s->no_thread) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        int e = pthread_create(&ex.thread, NULL, exporter_main, NULL);
        ex.thread_on = e == 0;
        if (e) log_msg(LOG_ERROR, "trace exporter thread: %s", strerror(e));
    }
    atomic_store(&on, true);
}

void trace_stop(void) {
    if (!trace_enabled()) return;
    atomic_store(&on, false);
    pthread_mutex_lock(&ex.mu);
    ex.stop = true;
    pthread_cond_broadcast(&ex.cv);
    pthread_mutex_unlock(&ex.mu);
    bool exporting = ex.thread_on;
    if (exporting) pthread_join(ex.thread, NULL);
    ex.thread_on = false;
    pthread_mutex_lock(&ex.mu);
    if (ex.queued && exporting) count_dropped("export_failed", ex.queued);
    free_list(ex.head);
    ex.head = ex.tail = NULL;
    ex.queued = 0;
    free(ex.endpoint);
    free(ex.service);
    free(ex.url);
    ex.endpoint = ex.service = ex.url = NULL;
    pthread_mutex_unlock(&ex.mu);
}

static trace_sampler_t sampler_of(const char *name) {
    for (int i = 0; sampler_choices[i]; i++)
        if (name == sampler_choices[i] || strcmp(name, sampler_choices[i]) == 0) return i;
    return TRACE_PARENT_RATIO;
}

void trace_start_from_env(const char *service) {
    config_declare(trace_config_vars);
    const char *endpoint = config_url("OTEL_EXPORTER_OTLP_ENDPOINT");
    const char *name = config_str("OTEL_SERVICE_NAME");
    const char *arg = config_str("OTEL_TRACES_SAMPLER_ARG");
    char *end = NULL;
    errno = 0;
    double ratio = strtod(arg, &end);
    if (errno || end == arg || *end || !isfinite(ratio) || ratio < 0.0 || ratio > 1.0)
        config_fail("OTEL_TRACES_SAMPLER_ARG", "must be a number from 0 to 1");
    trace_settings_t s = {.endpoint = endpoint,
                          .service = name && *name ? name : service,
                          .sampler = sampler_of(config_enum("OTEL_TRACES_SAMPLER")),
                          .ratio = ratio};
    trace_start(&s);
}
