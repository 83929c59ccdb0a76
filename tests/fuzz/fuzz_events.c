/* fuzz_events -- a delivered event body through the public consumer path of events.h.
 *
 * What a consumer does with a delivery's body first -- parse it, then event_malformed():
 * event_id, type, version, occurred_at, producer, major version -- is static in events.c and
 * runs only inside the consumer thread on a message from a broker, so it is not reached
 * here. The public part is the handler a consumer spec names, called in the consumer's
 * store transaction with the parsed event. libcommon's own handler is the user.deleted
 * consumer of erased.h, every service's (erased_consumer()); this target runs it as the
 * consumer does, on an SQLite store in memory that holds the collections the services
 * migrate, with an erase function like the services' (delete the user's rows, count them).
 *
 * Input: a message body. cJSON_ParseWithLength; a JSON object is passed to the handler
 * inside store_begin() .. store_rollback() (so every input meets the same store).
 * Checked (abort when broken), against erased.h: the result is EVENT_POISON exactly when
 * "user_id" is missing or not an id (util.h id_valid), else EVENT_OK on this store; after
 * EVENT_OK, inside the transaction, the user is in deleted_users, the user's rows are gone,
 * one user.erased event is in the outbox, and authn_is_deleted() knows the user. */
#include "fuzz.h"
#include "authn.h"
#include "erased.h"
#include "events.h"
#include "json.h"
#include "log.h"
#include "store.h"
#include "util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROWS "things"

static store_t *store;
static erased_consumer_t consumer;
static event_consumer_spec_t spec;

/* Like the services' erase functions: the user's rows, counted into `removed`. */
static int erase_rows(store_t *s, const char *user_id, cJSON *removed, void *ctx) {
    store_filter_t *f = store_filter_new();
    store_where_str(f, "user_id", STORE_EQ, user_id);
    long n = 0;
    int rc = store_delete(s, ROWS, f, &n);
    store_filter_free(f);
    cJSON_AddNumberToObject(removed, ROWS, (double)n);
    return rc;
}

static long count(const char *coll, const char *field, const char *v) {
    store_filter_t *f = store_filter_new();
    if (field) store_where_str(f, field, STORE_EQ, v);
    long n = -1;
    check(store_count(store, coll, f, &n) == STORE_OK);
    store_filter_free(f);
    return n;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    setenv("LOG_LEVEL", "error", 1); /* the handler logs every erasure at info */
    char err[256];
    log_init("fuzz_events");
    store = store_open("sqlite://:memory:", "fuzz", err, sizeof err);
    if (!store || outbox_migrate(store) != STORE_OK || event_consumer_migrate(store) != STORE_OK ||
        erased_migrate(store) != STORE_OK || store_ensure_collection(store, ROWS) != STORE_OK ||
        store_ensure_index(store, ROWS, "user_id", false) != STORE_OK) {
        fprintf(stderr, "fuzz_events: store: %s %s\n", err, store_errmsg());
        abort();
    }
    /* rows of two users, one of them the id of the seed corpus */
    static const char *const owners[] = {"65f1c0ffee0000000000beef", "65f1c0ffee0000000000cafe"};
    for (int i = 0; i < 6; i++) {
        char id[ID_LEN + 1];
        id_new(id);
        cJSON *row = cJSON_CreateObject();
        cJSON_AddStringToObject(row, "id", id);
        cJSON_AddStringToObject(row, "user_id", owners[i % 2]);
        if (store_insert(store, ROWS, row) != STORE_OK) abort();
        cJSON_Delete(row);
    }
    spec = erased_consumer(&consumer, "fuzz", erase_rows, NULL);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    cJSON *ev = cJSON_ParseWithLength((const char *)data, size);
    if (!cJSON_IsObject(ev)) { /* the consumer dead-letters it before any handler */
        cJSON_Delete(ev);
        return 0;
    }
    const char *user_id = json_str(ev, "user_id");
    long outbox_before = count("outbox", NULL, NULL);

    check(store_begin(store) == STORE_OK);
    int rc = spec.fn(store, ev, spec.ctx);
    if (!id_valid(user_id)) {
        check(rc == EVENT_POISON);
    } else {
        if (rc != EVENT_OK) fprintf(stderr, "events: handler %d: %s\n", rc, store_errmsg());
        check(rc == EVENT_OK);
        cJSON *gone = NULL;
        check(store_get(store, "deleted_users", user_id, &gone) == STORE_OK);
        cJSON_Delete(gone);
        check(count(ROWS, "user_id", user_id) == 0);
        check(count("outbox", NULL, NULL) == outbox_before + 1);
        check(authn_is_deleted(user_id));
    }
    check(store_rollback(store) == STORE_OK);
    check(count("outbox", NULL, NULL) == outbox_before);
    cJSON_Delete(ev);
    return 0;
}
