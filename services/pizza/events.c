/* events.c -- what pizza publishes and consumes.
 *
 * Publishing. Every pizza deletion, whatever caused it (DELETE of the pizza, of its
 * pizzeria, or the owner's erasure), goes through pizzas_erase(): it reads the matching
 * pizzas, deletes each one (and its pictures) and writes a pizza.deleted {pizza_id, pizzeria_id}
 * into the outbox (exchange "pizzas", key pizza.deleted.1.0.0) -- inside the caller's transaction,
 * so the events are committed exactly with the deletions. The relay publishes them.
 *
 * Consuming. On user.deleted (queue pizza.user-deleted) it
 * deletes the user's pizzas (owner_id is copied onto every pizza of their pizzerias) and
 * pizzerias, remembers the id (erased_remember: writes by it are refused with 401) and
 * publishes user.erased {user_id, service:"pizza", removed:{pizzerias, pizzas}} -- all in
 * the consumer's one store transaction (events.h), so a crash redoes all or nothing. */
#include "pizza.h"

#include "erased.h"
#include "json.h"

static int publish_deleted(store_t *s, const cJSON *pizza) {
    cJSON *payload = cJSON_CreateObject();
    cJSON_AddStringToObject(payload, "pizza_id", json_str(pizza, "id"));
    cJSON_AddStringToObject(payload, "pizzeria_id", json_str(pizza, "pizzeria_id"));
    return outbox_add(s, "pizza", "pizzas", "pizza.deleted", "1.0.0", payload);
}

int pizzas_erase(store_t *s, const store_filter_t *f, long *removed) {
    cJSON *docs = NULL;
    long n = 0;
    int rc = store_find(s, PIZZAS, f, NULL, 0, 0, &docs);
    const cJSON *doc, *found = rc == STORE_OK ? docs : NULL;
    cJSON_ArrayForEach(doc, found) {
        const char *id = json_str(doc, "id");
        rc = id ? store_delete_id(s, PIZZAS, id) : STORE_ERR;
        if (rc == STORE_OK) rc = pictures_erase(s, id);
        if (rc == STORE_OK) rc = publish_deleted(s, doc);
        if (rc != STORE_OK) break;
        n++;
    }
    cJSON_Delete(docs);
    if (removed) *removed = n;
    return rc;
}

/* erased_consumer()'s erase: the user's pizzas (owner_id is on every pizza of their
 * pizzerias), each with its pizza.deleted, then their pizzerias. */
static int erase_user(store_t *s, const char *user_id, cJSON *removed, void *ctx) {
    store_filter_t *f = store_filter_new();
    store_where_str(f, "owner_id", STORE_EQ, user_id);
    long pizzas = 0, pizzerias = 0;
    int rc = pizzas_erase(s, f, &pizzas);
    if (rc == STORE_OK) rc = store_delete(s, PIZZERIAS, f, &pizzerias);
    store_filter_free(f);
    cJSON_AddNumberToObject(removed, "pizzerias", (double)pizzerias);
    cJSON_AddNumberToObject(removed, "pizzas", (double)pizzas);
    return rc;
}

/* The user.deleted consumer's registration, for the life of the process. */
static erased_consumer_t user_deleted_consumer;

void pizza_events(service_t *svc) {
    event_consumer_spec_t user_deleted =
        erased_consumer(&user_deleted_consumer, "pizza", erase_user, NULL);
    service_consume(svc, &user_deleted);
}
