/* Unit tests for topology.c: the exchanges, queues and producers read from an AsyncAPI
 * document, the documents it refuses, and the system's own document
 * (proto-docs/events.asyncapi.yaml, read from the working directory: the repository). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testlib.h"
#include "topology.h"

static void topo_free(void *t) { topology_free(t); }

/* Parses text; fails the test when it is refused. */
static topology_t *parse(const char *text) {
    char err[256];
    topology_t *t = topology_parse(text, err, sizeof err);
    if (!t) fail_msg("refused: %s", err);
    return test_defer(topo_free, t);
}

/* The reason text is refused for; fails the test when it is accepted. */
static const char *refusal(const char *text) {
    static char err[256];
    topology_t *t = topology_parse(text, err, sizeof err);
    if (t) {
        topology_free(t);
        fail_msg("accepted: %s", text);
    }
    return err;
}

/* Two producers, two consumers, one of them with its own dead-letter queue; YAML flow and
 * block styles mixed as the real document does. */
static const char *const doc =
    "asyncapi: 3.0.0\n"
    "channels:\n"
    "  orderPlaced:\n"
    "    address: order.placed.1.0.0\n"
    "    messages: {orderPlaced: {$ref: '#/components/messages/orderPlaced'}}\n"
    "    bindings:\n"
    "      amqp: {is: routingKey, exchange: {name: orders, type: topic}}\n"
    "  billingQueue:\n"
    "    address: billing.order-placed\n"
    "    bindings:\n"
    "      amqp: {is: queue, queue: {name: billing.order-placed}}\n"
    "  shippingQueue:\n"
    "    bindings:\n"
    "      amqp:\n"
    "        is: queue\n"
    "        queue: {name: shipping.order-placed}\n"
    "operations:\n"
    "  shopPlaces:\n"
    "    action: send\n"
    "    channel: {$ref: '#/channels/orderPlaced'}\n"
    "    x-producer: shop\n"
    "  kioskPlaces:\n"
    "    action: send\n"
    "    channel: {$ref: '#/channels/orderPlaced'}\n"
    "    x-producer: kiosk\n"
    "  shopAgain:\n"
    "    action: send\n"
    "    channel: {$ref: '#/channels/orderPlaced'}\n"
    "    x-producer: shop\n"
    "  billingConsumes:\n"
    "    action: receive\n"
    "    channel: {$ref: '#/channels/billingQueue'}\n"
    "    x-consumer: billing\n"
    "    x-exchange: orders\n"
    "    x-binding-key: order.placed.1.#\n"
    "  shippingConsumes:\n"
    "    action: receive\n"
    "    channel: {$ref: '#/channels/shippingQueue'}\n"
    "    x-consumer: shipping\n"
    "    x-exchange: audit\n"
    "    x-binding-key: '#'\n"
    "    x-dead-letter-queue: shipping.parked\n"
    "components:\n"
    "  messages:\n"
    "    orderPlaced: {name: order.placed}\n";

static void test_reads_exchanges_queues_and_producers(void **state) {
    topology_t *t = parse(doc);
    assert_int_equal(topology_exchange_count(t), 2);
    assert_string_equal(topology_exchange(t, 0), "orders");
    assert_string_equal(topology_exchange(t, 1), "audit"); /* from a consumer's x-exchange */
    assert_null(topology_exchange(t, 2));
    assert_true(topology_has_exchange(t, "audit"));
    assert_false(topology_has_exchange(t, "order"));

    assert_int_equal(topology_queue_count(t), 2);
    const topology_queue_t *q = topology_queue(t, "billing.order-placed");
    assert_non_null(q);
    assert_ptr_equal(q, topology_queue_at(t, 0));
    assert_string_equal(q->consumer, "billing");
    assert_string_equal(q->exchange, "orders");
    assert_string_equal(q->binding, "order.placed.1.#");
    assert_string_equal(q->dlq, "billing.order-placed.dlq"); /* the default */
    q = topology_queue(t, "shipping.order-placed");
    assert_non_null(q);
    assert_string_equal(q->binding, "#");
    assert_string_equal(q->dlq, "shipping.parked");
    assert_null(topology_queue(t, "billing"));
    assert_null(topology_queue_at(t, 2));

    char *p = topology_producers(t, "order.placed");
    assert_string_equal(p, "shop,kiosk"); /* document order, each once */
    free(p);
    p = topology_producers(t, "order.cancelled");
    assert_string_equal(p, "");
    free(p);
}

static void test_refuses_incomplete_documents(void **state) {
    assert_non_null(strstr(refusal("channels: [\n"), "YAML"));
    assert_non_null(strstr(refusal("- a list\n"), "mapping"));
    /* a receive operation without x-binding-key */
    assert_non_null(strstr(refusal("channels:\n"
                                   "  q: {bindings: {amqp: {is: queue, queue: {name: q1}}}}\n"
                                   "operations:\n"
                                   "  c: {action: receive, channel: {$ref: '#/channels/q'},\n"
                                   "      x-consumer: s, x-exchange: e}\n"),
                           "operation c"));
    /* a channel reference that points nowhere */
    assert_non_null(strstr(refusal("operations:\n"
                                   "  c: {action: receive, channel: {$ref: '#/channels/none'},\n"
                                   "      x-consumer: s, x-exchange: e, x-binding-key: k}\n"),
                           "operation c"));
    /* one queue, two consumers */
    assert_non_null(strstr(refusal("channels:\n"
                                   "  q: {bindings: {amqp: {is: queue, queue: {name: q1}}}}\n"
                                   "operations:\n"
                                   "  a: {action: receive, channel: {$ref: '#/channels/q'},\n"
                                   "      x-consumer: s, x-exchange: e, x-binding-key: k}\n"
                                   "  b: {action: receive, channel: {$ref: '#/channels/q'},\n"
                                   "      x-consumer: t, x-exchange: e, x-binding-key: k}\n"),
                           "q1"));
    /* a send without its producer */
    assert_non_null(strstr(refusal("channels: {c: {}}\n"
                                   "operations:\n"
                                   "  s: {action: send, channel: {$ref: '#/channels/c'}}\n"),
                           "operation s"));
    /* a message that is not a named reference */
    assert_non_null(strstr(refusal("channels: {c: {messages: {m: {$ref: '#/components/x'}}}}\n"
                                   "operations:\n"
                                   "  s: {action: send, channel: {$ref: '#/channels/c'},\n"
                                   "      x-producer: p}\n"),
                           "operation s"));
    char err[8];
    assert_null(topology_parse(NULL, err, sizeof err));
    /* nothing but an empty document: no exchanges, queues or producers */
    topology_t *t = parse("asyncapi: 3.0.0\n");
    assert_int_equal(topology_exchange_count(t) + topology_queue_count(t), 0);
    topology_free(NULL);
}

/* The file's contents, NUL-terminated (fails the test when unreadable). */
static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s (run from the repository's root)", path);
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) fwrite(chunk, 1, n, m);
    fclose(f);
    fclose(m);
    return test_defer(free, buf);
}

/* The system's document: every service's user.deleted queue is bound to users, and the
 * services that confirm an erasure are the ones consuming user.deleted. */
static void test_the_systems_document(void **state) {
    topology_t *t = parse(slurp("proto-docs/events.asyncapi.yaml"));
    assert_true(topology_has_exchange(t, "users"));
    size_t consumers = 0;
    char *erasers = topology_producers(t, "user.erased");
    test_defer(free, erasers);
    for (size_t i = 0; i < topology_queue_count(t); i++) {
        const topology_queue_t *q = topology_queue_at(t, i);
        char want[128];
        snprintf(want, sizeof want, "%s.", q->consumer);
        assert_int_equal(strncmp(q->queue, want, strlen(want)), 0); /* "<consumer>.<what>" */
        snprintf(want, sizeof want, "%s.dlq", q->queue);
        assert_string_equal(q->dlq, want);
        assert_true(topology_has_exchange(t, q->exchange));
        if (strcmp(q->binding, "user.deleted.1.#") != 0) continue;
        assert_string_equal(q->exchange, "users");
        assert_non_null(strstr(erasers, q->consumer));
        consumers++;
    }
    assert_true(consumers >= 1);
    /* as many erasers as user.deleted consumers (each named once) */
    size_t commas = 0;
    for (const char *c = erasers; *c; c++) commas += *c == ',';
    assert_int_equal(commas + 1, consumers);
    assert_non_null(topology_queue(t, "auth.user-erased"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_reads_exchanges_queues_and_producers, test_cleanup),
        cmocka_unit_test_teardown(test_refuses_incomplete_documents, test_cleanup),
        cmocka_unit_test_teardown(test_the_systems_document, test_cleanup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
