/* events -- the messaging layer of SPEC §6 on librabbitmq: topology, the transactional
 * outbox with its relay, and idempotent consumers with retries and dead-lettering.
 *
 * Topology: the system's, as data (topology.h, read from the AsyncAPI document), declared
 * idempotently by every relay and consumer connection, so an event published before its
 * consumer first started already has its queue:
 *   every exchange, a durable topic exchange;
 *   for each consumer queue Q: durable queue Q with x-dead-letter-exchange "" and
 *   x-dead-letter-routing-key its dead-letter queue D (Q.dlq unless the topology names
 *   another), durable queue D, and Q bound to its exchange by its binding key.
 * A consumer's own queue that the topology lacks is declared the same way from its spec
 * (D = Q.dlq); a relay declares an exchange the topology lacks before publishing to it.
 * Routing keys are "<type>.<version>", e.g. "user.deleted.1.0.0"; consumers bind the major
 * version ("user.deleted.1.#").
 *
 * Producing. outbox_add() writes the event into the store collection "outbox" and must be
 * called inside the caller's store transaction, so the event exists iff the change
 * committed. The relay (its own thread and AMQP connection) publishes unsent rows in
 * (created_at, id) order with publisher confirms and marks a row sent only after the broker
 * confirmed it; on any error it reconnects with capped exponential backoff and starts again
 * from the oldest unsent row. Delivery is therefore at-least-once.
 *
 * Consuming. A consumer (its own thread and AMQP connection) takes messages with manual
 * acks and prefetch. For each message it opens a store transaction, skips it when the
 * event_id is already in "processed_events" (idempotency), else calls the handler, records
 * the event_id, commits, and only then acks. A handler failure rolls back and the message is
 * re-published to the tail of its queue with header x-attempts+1 (so it never blocks the
 * queue); on the 5th failure, or at once for a malformed message (bad JSON, missing
 * event_id/type/version/occurred_at/producer, unknown major version, handler says EVENT_POISON), it
 * is rejected without requeue and so dead-lettered to D, with a log line.
 *
 * Every event body is a JSON object {"event_id","type","version","occurred_at","producer",
 * ...payload}; AMQP properties: delivery_mode 2 (persistent), message_id = event_id,
 * content_type application/json, type, timestamp, app_id = producer. */
#ifndef TIZZA_EVENTS_H
#define TIZZA_EVENTS_H

#include "store.h"
#include "topology.h"
#include <cjson/cJSON.h>
#include <stdbool.h>

#define EVENT_MAX_ATTEMPTS 5

/* AMQP_URL (the broker) and AMQP_PREFETCH (a consumer's unacknowledged messages), which
 * service_main() reads for a service that uses the broker: config.h's table. */
extern const config_var_t events_config_vars[];

/* Writes an event into the outbox inside the current transaction. `payload` (taken) gets
 * event_id, type, version, occurred_at and producer added. `exchange` e.g. "users";
 * `type` e.g. "user.deleted"; `version` e.g. "1.0.0". Returns a store rc. */
int outbox_add(store_t *s, const char *producer, const char *exchange, const char *type,
               const char *version, cJSON *payload);
/* Creates the outbox collection and its index (call from migrate). */
int outbox_migrate(store_t *s);

typedef struct outbox_relay outbox_relay_t;
/* Starts the relay thread. amqp_url like "amqp://guest:guest@127.0.0.1:5672/%2f"; topo (may
 * be NULL, must outlive the relay) is what each connection declares first. */
outbox_relay_t *outbox_relay_start(store_t *s, const char *amqp_url, const char *producer,
                                   const topology_t *topo);
/* Wake the relay now (after committing a transaction that added events). Any thread. */
void outbox_relay_notify(outbox_relay_t *r);
/* Unsent rows as last counted by the relay; also exported as tizza_outbox_backlog. */
long outbox_relay_backlog(outbox_relay_t *r);
bool outbox_relay_connected(outbox_relay_t *r);
/* Stops the thread (publishing what it can within ~1 s) and frees. NULL is fine. */
void outbox_relay_stop(outbox_relay_t *r);

enum event_result { EVENT_OK = 0, EVENT_RETRY = -1, EVENT_POISON = -2 };

/* Called inside the consumer's store transaction; returns enum event_result. The transaction
 * runs through store_transact(): when one of its operations lost a write conflict
 * (STORE_RETRY, MongoDB) it runs again within the same delivery, so a handler may run several
 * times per delivery (store_transact()'s budget) and must be re-runnable. */
typedef int (*event_handler_fn)(store_t *s, const cJSON *event, void *ctx);

/* A queue to consume. exchange and binding may be NULL for a queue of the topology given to
 * event_consumer_start, and are then the topology's; given, they must equal it. */
typedef struct {
    const char *queue;    /* "tweets.user-deleted" */
    const char *exchange; /* "users" */
    const char *binding;  /* "user.deleted.1.#" */
    int major;            /* accepted major version, e.g. 1 */
    event_handler_fn fn;
    void *ctx;
} event_consumer_spec_t;

typedef struct event_consumer event_consumer_t;
/* Starts one thread + connection consuming every spec's queue; topo as for the relay. */
event_consumer_t *event_consumer_start(store_t *s, const char *amqp_url, const topology_t *topo,
                                       const event_consumer_spec_t *specs, int nspecs,
                                       int prefetch);
bool event_consumer_connected(event_consumer_t *c);
/* Called after each committed handler run (e.g. to notify the service's relay). */
void event_consumer_on_commit(event_consumer_t *c, void (*fn)(void *), void *ctx);
void event_consumer_stop(event_consumer_t *c);

/* Creates "processed_events" (call from migrate). */
int event_consumer_migrate(store_t *s);

#endif
