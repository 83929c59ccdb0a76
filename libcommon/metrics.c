/* metrics.c -- an in-process Prometheus registry rendered as text format 0.0.4.
 *
 * Data: an array of families (one per metric name, in first-use order), each holding an
 * array of series (one per label string, in first-use order). Every series is its own
 * allocation so a pointer to it stays valid until metrics_reset(). Lookups are linear
 * strcmp scans: a service has tens of series, and one mutex guards everything.
 *
 * A series has one kind, fixed when it is created:
 *   value      metrics_inc / metrics_set (counter or gauge)
 *   histogram  metrics_observe; fixed buckets 1ms..10s plus +Inf, stored per bucket and
 *              made cumulative when rendered, with _sum and _count
 *   callback   metrics_gauge_fn; fn(ctx) is called at render time
 * An update of a different kind to an existing series is ignored. NaN observations are
 * ignored (they would poison _sum).
 *
 * Rendering: "# HELP" (only when metrics_help gave text) and "# TYPE" once per family, then
 * its series. The TYPE is the one given to metrics_help, otherwise "histogram" for a family
 * with observations, "counter" for a name ending in _total, else "gauge". Callbacks run
 * without the mutex held (a callback may well query a store that bumps a counter): the
 * render snapshots the callback list, unlocks, calls them, relocks and, unless a reset
 * happened meanwhile (generation counter), stores the results before printing.
 *
 * metrics_reset() frees everything; it is also registered with atexit() on first use so
 * LeakSanitizer sees no leftovers. The registry stays usable after a reset. */
#include "metrics.h"

#include "alloc.h"

#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NBUCKETS 13 /* finite buckets; +Inf is the total count */

static const double bucket_bounds[NBUCKETS] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                               0.25,  0.5,    1,     2.5,  5,     10};
static const char *const bucket_labels[NBUCKETS] = {"0.001", "0.0025", "0.005", "0.01", "0.025",
                                                    "0.05",  "0.1",    "0.25",  "0.5",  "1",
                                                    "2.5",   "5",      "10"};

enum series_kind { SERIES_VALUE, SERIES_HISTOGRAM, SERIES_CALLBACK };

struct series {
    char *labels; /* "" when none */
    enum series_kind kind;
    double value; /* value series; last result for callbacks */
    double sum;
    uint64_t count;
    uint64_t buckets[NBUCKETS]; /* per bucket, not cumulative */
    double (*fn)(void *);
    void *ctx;
};

struct family {
    char *name;
    char *type; /* from metrics_help, or NULL */
    char *help; /* from metrics_help, or NULL */
    bool has_histogram;
    struct series **series;
    size_t nseries, cap;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct family **families;
static size_t nfamilies, cap_families;
static uint64_t generation; /* bumped by every reset */
static bool atexit_done;

/* --- registry (all called with the lock held) ------------------------------------------ */

/* Room for element n of an array of `cap` elements: the (maybe moved) array. */
static void *grow(void *arr, size_t *cap, size_t n, size_t elem) {
    if (n < *cap) return arr;
    *cap = *cap ? *cap * 2 : 8;
    return xrealloc(arr, *cap * elem);
}

static struct family *family_get(const char *name) {
    for (size_t i = 0; i < nfamilies; i++)
        if (strcmp(families[i]->name, name) == 0) return families[i];

    if (!atexit_done) atexit_done = atexit(metrics_reset) == 0;
    families = grow(families, &cap_families, nfamilies, sizeof *families);
    struct family *f = xcalloc(1, sizeof *f);
    f->name = xstrdup(name);
    families[nfamilies++] = f;
    return f;
}

static struct series *series_get(const char *name, const char *labels, enum series_kind kind) {
    if (!name) return NULL;
    if (!labels) labels = "";
    struct family *f = family_get(name);
    for (size_t i = 0; i < f->nseries; i++)
        if (strcmp(f->series[i]->labels, labels) == 0) return f->series[i];

    f->series = grow(f->series, &f->cap, f->nseries, sizeof *f->series);
    struct series *s = xcalloc(1, sizeof *s);
    s->labels = xstrdup(labels);
    s->kind = kind;
    f->series[f->nseries++] = s;
    if (kind == SERIES_HISTOGRAM) f->has_histogram = true;
    return s;
}

static void family_free(struct family *f) {
    for (size_t i = 0; i < f->nseries; i++) {
        free(f->series[i]->labels);
        free(f->series[i]);
    }
    free(f->series);
    free(f->name);
    free(f->type);
    free(f->help);
    free(f);
}

/* --- updates ------------------------------------------------------------------------------ */

void metrics_inc(const char *name, const char *labels, double delta) {
    pthread_mutex_lock(&lock);
    struct series *s = series_get(name, labels, SERIES_VALUE);
    if (s && s->kind == SERIES_VALUE) s->value += delta;
    pthread_mutex_unlock(&lock);
}

void metrics_set(const char *name, const char *labels, double value) {
    pthread_mutex_lock(&lock);
    struct series *s = series_get(name, labels, SERIES_VALUE);
    if (s && s->kind == SERIES_VALUE) s->value = value;
    pthread_mutex_unlock(&lock);
}

void metrics_observe(const char *name, const char *labels, double seconds) {
    if (isnan(seconds)) return;
    pthread_mutex_lock(&lock);
    struct series *s = series_get(name, labels, SERIES_HISTOGRAM);
    if (s && s->kind == SERIES_HISTOGRAM) {
        for (int i = 0; i < NBUCKETS; i++) {
            if (seconds <= bucket_bounds[i]) {
                s->buckets[i]++;
                break;
            }
        }
        s->sum += seconds;
        s->count++;
    }
    pthread_mutex_unlock(&lock);
}

void metrics_help(const char *name, const char *type, const char *help) {
    if (!name) return;
    pthread_mutex_lock(&lock);
    struct family *f = family_get(name);
    if (type) {
        free(f->type);
        f->type = xstrdup(type);
    }
    if (help) {
        free(f->help);
        f->help = xstrdup(help);
    }
    pthread_mutex_unlock(&lock);
}

void metrics_gauge_fn(const char *name, const char *labels, double (*fn)(void *), void *ctx) {
    pthread_mutex_lock(&lock);
    struct series *s = series_get(name, labels, SERIES_CALLBACK);
    if (s && s->kind != SERIES_HISTOGRAM) {
        s->kind = SERIES_CALLBACK;
        s->fn = fn;
        s->ctx = ctx;
    }
    pthread_mutex_unlock(&lock);
}

void metrics_reset(void) {
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < nfamilies; i++) family_free(families[i]);
    free(families);
    families = NULL;
    nfamilies = cap_families = 0;
    generation++;
    pthread_mutex_unlock(&lock);
}

/* --- rendering ---------------------------------------------------------------------------- */

/* Shortest of %.15g / %.17g that reads back exactly; Prometheus spellings for Inf/NaN. */
static void put_value(FILE *out, double v) {
    if (isnan(v)) {
        fputs("NaN", out);
    } else if (isinf(v)) {
        fputs(v > 0 ? "+Inf" : "-Inf", out);
    } else {
        char buf[32];
        snprintf(buf, sizeof buf, "%.15g", v);
        if (strtod(buf, NULL) != v) snprintf(buf, sizeof buf, "%.17g", v);
        fputs(buf, out);
    }
}

static void put_help(FILE *out, const char *help) {
    for (; *help; help++) {
        if (*help == '\\')
            fputs("\\\\", out);
        else if (*help == '\n')
            fputs("\\n", out);
        else
            fputc(*help, out);
    }
}

static const char *family_type(const struct family *f) {
    if (f->type) return f->type;
    if (f->has_histogram) return "histogram";
    size_t n = strlen(f->name);
    if (n >= 6 && strcmp(f->name + n - 6, "_total") == 0) return "counter";
    return "gauge";
}

static void put_sample(FILE *out, const char *name, const char *suffix, const char *labels,
                       const char *le, double v) {
    fprintf(out, "%s%s", name, suffix);
    if (*labels || le) {
        fprintf(out, "{%s", labels);
        if (le) fprintf(out, "%sle=\"%s\"", *labels ? "," : "", le);
        fputc('}', out);
    }
    fputc(' ', out);
    put_value(out, v);
    fputc('\n', out);
}

static void put_histogram(FILE *out, const char *name, const struct series *s) {
    uint64_t cum = 0;
    for (int i = 0; i < NBUCKETS; i++) {
        cum += s->buckets[i];
        put_sample(out, name, "_bucket", s->labels, bucket_labels[i], (double)cum);
    }
    put_sample(out, name, "_bucket", s->labels, "+Inf", (double)s->count);
    put_sample(out, name, "_sum", s->labels, NULL, s->sum);
    put_sample(out, name, "_count", s->labels, NULL, (double)s->count);
}

static void put_family(FILE *out, const struct family *f) {
    if (f->help) {
        fprintf(out, "# HELP %s ", f->name);
        put_help(out, f->help);
        fputc('\n', out);
    }
    fprintf(out, "# TYPE %s %s\n", f->name, family_type(f));
    for (size_t i = 0; i < f->nseries; i++) {
        const struct series *s = f->series[i];
        if (s->kind == SERIES_HISTOGRAM)
            put_histogram(out, f->name, s);
        else
            put_sample(out, f->name, "", s->labels, NULL, s->value);
    }
}

struct callback {
    struct series *s;
    double (*fn)(void *);
    void *ctx;
    double value;
};

/* Snapshot of every callback series; caller frees. Lock held. */
static struct callback *callbacks_snapshot(size_t *n) {
    struct callback *cbs = NULL;
    size_t count = 0, cap = 0;
    for (size_t i = 0; i < nfamilies; i++) {
        for (size_t j = 0; j < families[i]->nseries; j++) {
            struct series *s = families[i]->series[j];
            if (s->kind != SERIES_CALLBACK || !s->fn) continue;
            struct callback *arr = grow(cbs, &cap, count, sizeof *cbs);
            if (!arr) goto out;
            cbs = arr;
            cbs[count++] = (struct callback){s, s->fn, s->ctx, 0};
        }
    }
out:
    *n = count;
    return cbs;
}

char *metrics_render(size_t *len) {
    size_t ncb = 0, size = 0;
    char *buf = NULL;

    pthread_mutex_lock(&lock);
    uint64_t gen = generation;
    struct callback *cbs = callbacks_snapshot(&ncb);
    pthread_mutex_unlock(&lock);

    for (size_t i = 0; i < ncb; i++) cbs[i].value = cbs[i].fn(cbs[i].ctx);

    FILE *out = open_memstream(&buf, &size);
    pthread_mutex_lock(&lock);
    if (gen == generation)
        for (size_t i = 0; i < ncb; i++)
            if (cbs[i].s->fn == cbs[i].fn && cbs[i].s->ctx == cbs[i].ctx)
                cbs[i].s->value = cbs[i].value;
    if (out)
        for (size_t i = 0; i < nfamilies; i++) put_family(out, families[i]);
    pthread_mutex_unlock(&lock);
    free(cbs);

    if (!out || fclose(out) != 0) {
        free(buf);
        if (len) *len = 0;
        return NULL;
    }
    if (len) *len = size;
    return buf;
}
