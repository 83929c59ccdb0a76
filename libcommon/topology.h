/* topology -- the broker topology of the system, read from its AsyncAPI 3 document
 * (proto-docs/events.asyncapi.yaml, embedded in every binary): the exchanges, every
 * consumer's queue with its binding and dead-letter queue, and who publishes what.
 *
 * What is read (everything else in the document is ignored):
 *   - exchanges: channels.*.bindings.amqp.exchange.name of the routing-key channels, and
 *     every receive operation's x-exchange;
 *   - queues: one per operation with `action: receive`: the queue name is its channel's
 *     bindings.amqp.queue.name, then x-consumer (the service), x-exchange, x-binding-key and
 *     x-dead-letter-queue (default "<queue>.dlq");
 *   - producers: the x-producer of every `action: send` operation and the names
 *     (components.messages.*.name, e.g. "user.deleted") of its channel's messages.
 * Channels and messages are named by local references ("#/channels/x").
 *
 * A topology is immutable once parsed: any thread may read it. */
#ifndef TIZZA_TOPOLOGY_H
#define TIZZA_TOPOLOGY_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    const char *queue;    /* "likes.user-deleted" */
    const char *consumer; /* "likes" */
    const char *exchange; /* "users" */
    const char *binding;  /* "user.deleted.1.#" */
    const char *dlq;      /* "likes.user-deleted.dlq" */
} topology_queue_t;

typedef struct topology topology_t;

/* Parses an AsyncAPI document (YAML or JSON text). NULL with a one-line reason in err when it
 * is not YAML, or a receive operation lacks its queue, x-consumer, x-exchange or
 * x-binding-key, or a reference points nowhere. */
topology_t *topology_parse(const char *text, char *err, size_t errlen);
void topology_free(topology_t *t);

size_t topology_exchange_count(const topology_t *t);
const char *topology_exchange(const topology_t *t, size_t i);
bool topology_has_exchange(const topology_t *t, const char *name);

size_t topology_queue_count(const topology_t *t);
const topology_queue_t *topology_queue_at(const topology_t *t, size_t i);
/* The queue called `name`, or NULL. */
const topology_queue_t *topology_queue(const topology_t *t, const char *name);

/* The services that publish the message `name` ("user.erased"), in document order, each once,
 * joined by ","; "" when none. malloc'd. */
char *topology_producers(const topology_t *t, const char *message);

#endif
