/* trace -- distributed tracing: W3C Trace Context propagation, spans, an OTLP/HTTP exporter.
 *
 * A span context (trace_ctx_t) is what crosses process boundaries: a 16-byte trace id, an
 * 8-byte span id, the sampled flag, and the caller's `tracestate`, passed on unchanged. It is
 * read from and written to the `traceparent` header (version 00: "00-<32 hex>-<16 hex>-<2
 * hex>"). A value that is not valid per the spec (lengths, upper-case or non-hex digits,
 * all-zero ids, version ff, a version-00 value with anything after it) is refused, and the
 * receiver starts a new trace instead.
 *
 * A span (trace_span_t) is one timed operation of this process in a trace: a name, a kind
 * (the OTLP enum), start and end in unix nanoseconds, its parent's span id, a few string and
 * integer attributes and an error flag. trace_span_start() makes one, trace_span_end() hands
 * it to the exporter (when sampled) and frees it. Spans are owned by one thread at a time.
 *
 * The exporter is a bounded queue drained by one background thread that POSTs batches as
 * OTLP/HTTP JSON to $OTEL_EXPORTER_OTLP_ENDPOINT/v1/traces (libcurl, short timeouts, never
 * retried). A full queue drops the span; a failed POST drops its batch; both are counted in
 * tizza_trace_spans_dropped_total{reason}. Nothing that ends a span ever waits on the
 * network. With OTEL_EXPORTER_OTLP_ENDPOINT unset tracing is off: trace_span_start()
 * returns NULL and every other call accepts NULL and does nothing.
 *
 * Sampling (OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG): a root span is sampled by the
 * sampler; the parentbased_* samplers follow the parent's sampled flag when there is one.
 * traceidratio keeps a trace when the last 8 bytes of its id, big-endian, shifted right by
 * one, are below ratio * 2^63, so every service decides the same for one trace. */
#ifndef TIZZA_TRACE_H
#define TIZZA_TRACE_H

#include "config.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#define TRACE_PARENT_LEN 55  /* "00-" 32 "-" 16 "-" 2 */
#define TRACE_STATE_MAX  512 /* longer tracestate values are dropped, not cut */
#define TRACE_ATTRS_MAX  8

typedef struct {
    uint8_t trace_id[16];
    uint8_t span_id[8];
    bool sampled;
    char tracestate[TRACE_STATE_MAX + 1]; /* "" when none */
} trace_ctx_t;

/* OTLP's SpanKind numbers. */
typedef enum {
    TRACE_INTERNAL = 1,
    TRACE_SERVER = 2,
    TRACE_CLIENT = 3,
    TRACE_PRODUCER = 4,
    TRACE_CONSUMER = 5,
} trace_kind_t;

typedef enum {
    TRACE_ALWAYS_ON,
    TRACE_ALWAYS_OFF,
    TRACE_RATIO,
    TRACE_PARENT_ALWAYS_ON,
    TRACE_PARENT_ALWAYS_OFF,
    TRACE_PARENT_RATIO,
} trace_sampler_t;

typedef struct {
    char key[40];
    bool is_int;
    long long i;
    char s[128]; /* longer values are cut */
} trace_attr_t;

typedef struct trace_span {
    trace_ctx_t ctx; /* this span's: its own span id */
    uint8_t parent_id[8];
    bool has_parent;
    char name[96];
    trace_kind_t kind;
    uint64_t start_ns, end_ns; /* unix time */
    trace_attr_t attrs[TRACE_ATTRS_MAX];
    int nattrs; /* further attributes are dropped */
    bool error;
    struct trace_span *next; /* the exporter's queue */
} trace_span_t;

/* ---- context ---- */

/* Parses `traceparent` (and keeps `tracestate` when it is printable ASCII of at most
 * TRACE_STATE_MAX bytes). False, with *out untouched, when absent or malformed. */
bool trace_parse(const char *traceparent, const char *tracestate, trace_ctx_t *out);
/* A new root context: random non-zero ids, sampled, no tracestate. */
void trace_new_root(trace_ctx_t *out);
/* "00-<trace>-<span>-0<sampled>" into out (TRACE_PARENT_LEN + 1 bytes). */
void trace_format(const trace_ctx_t *c, char *out);
/* Lower-case hex of the ids (33 and 17 bytes). */
void trace_id_hex(const trace_ctx_t *c, char *out);
void trace_span_id_hex(const trace_ctx_t *c, char *out);
/* The sampler's decision for a span whose parent is `parent` (NULL: a root) in trace
 * `trace_id`. */
bool trace_should_sample(trace_sampler_t s, double ratio, const trace_ctx_t *parent,
                         const uint8_t trace_id[16]);

/* ---- spans ---- */

/* A span of `kind` named `name`, started now: a child of `parent`, or the root of a new trace
 * (random ids) when parent is NULL; sampled per the sampler. NULL when tracing is off. */
trace_span_t *trace_span_start(const trace_ctx_t *parent, const char *name, trace_kind_t kind);
void trace_span_attr_str(trace_span_t *sp, const char *key, const char *value);
void trace_span_attr_int(trace_span_t *sp, const char *key, long long value);
void trace_span_set_error(trace_span_t *sp);
/* Ends the span now: queued for export when sampled, else freed. NULL: nothing. */
void trace_span_end(trace_span_t *sp);
/* Frees a span without exporting it. */
void trace_span_free(trace_span_t *sp);

/* One span as an OTLP JSON span object (caller deletes). */
cJSON *trace_span_json(const trace_span_t *sp);
/* A whole export request body for `spans` (a list linked by next) of `service`. */
cJSON *trace_export_json(const char *service, const trace_span_t *spans);

/* ---- configuration and the exporter ---- */

/* OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER,
 * OTEL_TRACES_SAMPLER_ARG (config.h's table). */
extern const config_var_t trace_config_vars[];

typedef struct {
    const char *endpoint; /* base URL without /v1/traces; NULL or "": tracing off */
    const char *service;  /* service.name */
    trace_sampler_t sampler;
    double ratio;   /* for the ratio samplers, 0..1 */
    int queue_max;  /* spans waiting for export; 0: 2048 */
    bool no_thread; /* tests: spans stay queued, nothing is sent */
} trace_settings_t;

/* Reads trace_config_vars (a bad value exits 2) and starts tracing when an endpoint is set;
 * `service` is the default service.name. */
void trace_start_from_env(const char *service);
/* Starts tracing with `s` (copied); a second start without trace_stop() is ignored. */
void trace_start(const trace_settings_t *s);
/* Stops the exporter: what is queued is sent (one last short try), then everything is freed
 * and tracing is off. */
void trace_stop(void);
/* Whether tracing is on (an endpoint is set). */
bool trace_enabled(void);
/* Spans waiting in the queue (tests). */
int trace_queued(void);

#endif
