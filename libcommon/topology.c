/* topology.c -- the broker topology out of an AsyncAPI document (see topology.h), read with
 * libyaml's document API: the whole document is loaded as a node graph, then walked. */
#include "topology.h"

#include "alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

struct producer {
    char *service, *message;
};

struct topology {
    char **exchanges;
    size_t nexchanges;
    topology_queue_t *queues;
    size_t nqueues;
    struct producer *producers;
    size_t nproducers;
};

typedef struct {
    yaml_document_t doc;
    topology_t *t;
    char *err;
    size_t errlen;
    bool failed;
} walk_t;

static void fail(walk_t *w, const char *fmt, ...) {
    if (w->failed) return;
    w->failed = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->err, w->errlen, fmt, ap);
    va_end(ap);
}

static yaml_node_t *node(walk_t *w, int id) { return yaml_document_get_node(&w->doc, id); }

static const char *scalar(const yaml_node_t *n) {
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* The value of `key` in mapping m, or NULL. */
static yaml_node_t *get(walk_t *w, const yaml_node_t *m, const char *key) {
    if (!m || m->type != YAML_MAPPING_NODE) return NULL;
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        const char *k = scalar(node(w, p->key));
        if (k && strcmp(k, key) == 0) return node(w, p->value);
    }
    return NULL;
}

/* get() along a path of keys (a NULL-terminated array). */
static yaml_node_t *dig(walk_t *w, yaml_node_t *n, const char *const *path) {
    for (; n && *path; path++) n = get(w, n, *path);
    return n;
}
#define DIG(w, n, ...) dig((w), (n), (const char *const[]){__VA_ARGS__, NULL})

/* The node a local reference {$ref: "#/<section>/<name>"} names (section may have several
 * segments, "components/messages"), or NULL. Names with '~' (JSON pointer escapes) are not
 * used by the document and not resolved. */
static yaml_node_t *deref(walk_t *w, const yaml_node_t *ref, const char *section) {
    const char *r = scalar(get(w, ref, "$ref"));
    size_t n = strlen(section);
    if (!r || strncmp(r, "#/", 2) != 0 || strncmp(r + 2, section, n) != 0 || r[2 + n] != '/' ||
        strchr(r, '~'))
        return NULL;
    yaml_node_t *at = yaml_document_get_root_node(&w->doc);
    char seg[128];
    for (const char *p = r + 2; at && *p;) {
        size_t len = strcspn(p, "/");
        if (len == 0 || len >= sizeof seg) return NULL;
        memcpy(seg, p, len);
        seg[len] = '\0';
        at = get(w, at, seg);
        p += len + (p[len] == '/');
    }
    return at;
}

static void add_exchange(walk_t *w, const char *name) {
    topology_t *t = w->t;
    if (!name || topology_has_exchange(t, name)) return;
    t->exchanges = xrealloc(t->exchanges, (t->nexchanges + 1) * sizeof *t->exchanges);
    t->exchanges[t->nexchanges++] = xstrdup(name);
}

static void add_queue(walk_t *w, const char *opname, const yaml_node_t *op) {
    topology_t *t = w->t;
    const yaml_node_t *ch = deref(w, get(w, op, "channel"), "channels");
    const char *queue = scalar(DIG(w, (yaml_node_t *)ch, "bindings", "amqp", "queue", "name"));
    const char *consumer = scalar(get(w, op, "x-consumer"));
    const char *exchange = scalar(get(w, op, "x-exchange"));
    const char *binding = scalar(get(w, op, "x-binding-key"));
    const char *dlq = scalar(get(w, op, "x-dead-letter-queue"));
    if (!ch) return fail(w, "operation %s: its channel is not a #/channels/ reference", opname);
    if (!queue || !consumer || !exchange || !binding)
        return fail(w,
                    "operation %s: receive without a queue channel, x-consumer, x-exchange "
                    "or x-binding-key",
                    opname);
    if (topology_queue(t, queue)) return fail(w, "queue %s: consumed by two operations", queue);
    topology_queue_t *q = t->queues = xrealloc(t->queues, (t->nqueues + 1) * sizeof *q);
    char dflt[256];
    snprintf(dflt, sizeof dflt, "%s.dlq", queue);
    q[t->nqueues++] = (topology_queue_t){xstrdup(queue), xstrdup(consumer), xstrdup(exchange),
                                         xstrdup(binding), xstrdup(dlq ? dlq : dflt)};
    add_exchange(w, exchange);
}

static void add_producers(walk_t *w, const char *opname, const yaml_node_t *op) {
    topology_t *t = w->t;
    const char *service = scalar(get(w, op, "x-producer"));
    yaml_node_t *ch = deref(w, get(w, op, "channel"), "channels");
    if (!service || !ch)
        return fail(w, "operation %s: send without x-producer or a #/channels/ reference", opname);
    yaml_node_t *msgs = get(w, ch, "messages");
    if (!msgs || msgs->type != YAML_MAPPING_NODE) return;
    for (yaml_node_pair_t *p = msgs->data.mapping.pairs.start; p < msgs->data.mapping.pairs.top;
         p++) {
        const char *name =
            scalar(get(w, deref(w, node(w, p->value), "components/messages"), "name"));
        if (!name)
            return fail(w,
                        "operation %s: a message is not a named #/components/messages/ "
                        "reference",
                        opname);
        struct producer *pr = t->producers =
            xrealloc(t->producers, (t->nproducers + 1) * sizeof *pr);
        pr[t->nproducers++] = (struct producer){xstrdup(service), xstrdup(name)};
    }
}

static void walk(walk_t *w) {
    yaml_node_t *root = yaml_document_get_root_node(&w->doc);
    yaml_node_t *channels = get(w, root, "channels"), *ops = get(w, root, "operations");
    if (!root || root->type != YAML_MAPPING_NODE) return fail(w, "not a YAML mapping");
    if (channels && channels->type == YAML_MAPPING_NODE)
        for (yaml_node_pair_t *p = channels->data.mapping.pairs.start;
             p < channels->data.mapping.pairs.top; p++) {
            yaml_node_t *amqp = DIG(w, node(w, p->value), "bindings", "amqp");
            const char *is = scalar(get(w, amqp, "is"));
            if (is && strcmp(is, "routingKey") == 0)
                add_exchange(w, scalar(DIG(w, amqp, "exchange", "name")));
        }
    if (!ops || ops->type != YAML_MAPPING_NODE) return;
    for (yaml_node_pair_t *p = ops->data.mapping.pairs.start;
         !w->failed && p < ops->data.mapping.pairs.top; p++) {
        const char *name = scalar(node(w, p->key));
        const yaml_node_t *op = node(w, p->value);
        const char *action = scalar(get(w, op, "action"));
        if (action && strcmp(action, "receive") == 0)
            add_queue(w, name, op);
        else if (action && strcmp(action, "send") == 0)
            add_producers(w, name, op);
    }
}

topology_t *topology_parse(const char *text, char *err, size_t errlen) {
    walk_t w = {.err = err, .errlen = errlen, .t = xcalloc(1, sizeof(topology_t))};
    if (errlen) err[0] = '\0';
    yaml_parser_t parser;
    if (!text || !yaml_parser_initialize(&parser)) {
        free(w.t);
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
    if (!yaml_parser_load(&parser, &w.doc)) {
        fail(&w, "YAML: %s at line %zu", parser.problem ? parser.problem : "unreadable",
             parser.problem_mark.line + 1);
        yaml_parser_delete(&parser);
        topology_free(w.t);
        return NULL;
    }
    walk(&w);
    yaml_document_delete(&w.doc);
    yaml_parser_delete(&parser);
    if (w.failed) {
        topology_free(w.t);
        return NULL;
    }
    return w.t;
}

void topology_free(topology_t *t) {
    if (!t) return;
    for (size_t i = 0; i < t->nexchanges; i++) free(t->exchanges[i]);
    for (size_t i = 0; i < t->nqueues; i++) {
        topology_queue_t *q = &t->queues[i];
        free((char *)q->queue);
        free((char *)q->consumer);
        free((char *)q->exchange);
        free((char *)q->binding);
        free((char *)q->dlq);
    }
    for (size_t i = 0; i < t->nproducers; i++) {
        free(t->producers[i].service);
        free(t->producers[i].message);
    }
    free(t->exchanges);
    free(t->queues);
    free(t->producers);
    free(t);
}

size_t topology_exchange_count(const topology_t *t) { return t ? t->nexchanges : 0; }

const char *topology_exchange(const topology_t *t, size_t i) {
    return t && i < t->nexchanges ? t->exchanges[i] : NULL;
}

bool topology_has_exchange(const topology_t *t, const char *name) {
    for (size_t i = 0; name && i < topology_exchange_count(t); i++)
        if (strcmp(t->exchanges[i], name) == 0) return true;
    return false;
}

size_t topology_queue_count(const topology_t *t) { return t ? t->nqueues : 0; }

const topology_queue_t *topology_queue_at(const topology_t *t, size_t i) {
    return t && i < t->nqueues ? &t->queues[i] : NULL;
}

const topology_queue_t *topology_queue(const topology_t *t, const char *name) {
    for (size_t i = 0; name && i < topology_queue_count(t); i++)
        if (strcmp(t->queues[i].queue, name) == 0) return &t->queues[i];
    return NULL;
}

char *topology_producers(const topology_t *t, const char *message) {
    size_t cap = 1;
    for (size_t i = 0; t && i < t->nproducers; i++) cap += strlen(t->producers[i].service) + 1;
    char *out = xcalloc(1, cap);
    for (size_t i = 0; t && message && i < t->nproducers; i++) {
        const struct producer *p = &t->producers[i];
        if (strcmp(p->message, message) != 0) continue;
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = !strcmp(t->producers[j].message, message) &&
                   !strcmp(t->producers[j].service, p->service);
        if (seen) continue;
        if (*out) strcat(out, ",");
        strcat(out, p->service);
    }
    return out;
}
