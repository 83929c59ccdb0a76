/* metrics -- Prometheus text exposition (version 0.0.4) of counters, gauges and histograms.
 *
 * Series are identified by name plus a label string written as Prometheus labels, e.g.
 * metrics_inc("tizza_store_ops_total", "op=\"insert\",result=\"ok\"", 1). The HTTP layer
 * records tizza_http_requests_total{route,method,status} and
 * tizza_http_request_duration_seconds{route,method} histograms itself. Gauge callbacks are
 * evaluated at scrape time (e.g. outbox backlog). Thread-safe (one mutex; cheap enough for
 * the request rates here). */
#ifndef TIZZA_METRICS_H
#define TIZZA_METRICS_H

#include <stddef.h>

void metrics_inc(const char *name, const char *labels, double delta);
void metrics_set(const char *name, const char *labels, double value);
void metrics_observe(const char *name, const char *labels, double seconds);
/* HELP text for a metric family (optional). */
void metrics_help(const char *name, const char *type, const char *help);
/* A gauge computed at scrape time; fn returns the value. */
void metrics_gauge_fn(const char *name, const char *labels, double (*fn)(void *), void *ctx);

/* Renders every series; malloc'd, *len set. */
char *metrics_render(size_t *len);
/* Forget everything (tests). */
void metrics_reset(void);

#endif
