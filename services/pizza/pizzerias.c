/* pizzerias.c -- the /api/v1/pizzerias resource.
 *
 * A pizzeria is {id, owner_id, name, address, phone, created_at, updated_at}, stored as is.
 * Reading is public; creating needs a signed-in caller (who becomes owner_id, never taken
 * from the body); PUT (every field), PATCH (any subset) and DELETE need the owner or an
 * admin. Every write refuses a deleted account (erased_require_writer); creating goes
 * through erased_create() (the race with an erasure: erased.h). Deleting a pizzeria deletes
 * its pizzas and writes one pizza.deleted event per pizza, all in one store transaction, so
 * the events exist iff the deletion happened.
 *
 * Request bodies are checked whole before anything is written: every problem is reported
 * at once as a 400 with one entry per field in "errors". */
#include "pizza.h"

#include "erased.h"
#include "etag.h"
#include "http_store.h"
#include "json.h"
#include "problem.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#define PREFIX      "/api/v1/pizzerias"
#define PHONE_CHARS "0123456789 +()-"

enum mode { CREATE, REPLACE, PATCH };

static const char *const fields[] = {"name", "address", "phone", NULL};

/* Checks a body for `mode`; returns the problem (empty when valid) and sets `set` to the
 * members to store (a new object, caller frees). */
static cJSON *validate(const cJSON *body, enum mode mode, cJSON **set) {
    cJSON *p = problem_new(400, "invalid pizzeria");
    const char *name = NULL, *address = NULL, *phone = NULL;
    bool all = mode == REPLACE;
    json_reject_unknown(body, fields, p);
    json_field_text(body, "name", mode != PATCH, 1, 120, JSON_NONBLANK, &name, p);
    json_field_text(body, "address", mode != PATCH, 1, 512, JSON_NONBLANK, &address, p);
    if (json_field_string(body, "phone", all, 0, 40, true, &phone, p) == JSON_OK &&
        strspn(phone, PHONE_CHARS) != strlen(phone))
        problem_add_error(p, "phone", "may contain only digits, spaces and + ( ) -");
    if (mode == CREATE && !phone) phone = "";

    *set = cJSON_CreateObject();
    if (name) cJSON_AddStringToObject(*set, "name", name);
    if (address) cJSON_AddStringToObject(*set, "address", address);
    if (phone) cJSON_AddStringToObject(*set, "phone", phone);
    return p;
}

/* The pizzeria named by the path, or NULL when answered (404/503). Caller frees. */
static cJSON *load(http_req_t *req, store_t *s) {
    const char *id = http_param(req, "id");
    cJSON *doc = NULL;
    int rc = id_valid(id) ? store_get(s, PIZZERIAS, id, &doc) : STORE_NOTFOUND;
    if (rc == STORE_NOTFOUND)
        http_reply_problem(req, 404, "no such pizzeria");
    else if (rc != STORE_OK)
        http_reply_store_error(req, rc, "get pizzeria");
    return rc == STORE_OK ? doc : NULL;
}

/* As load(), and the caller must own it or be an admin (else 403). */
static cJSON *load_for_write(http_req_t *req, store_t *s, const authn_user_t *u) {
    cJSON *doc = load(req, s);
    if (doc && !pizza_may_write(u, json_str(doc, "owner_id"))) {
        http_reply_problem(req, 403, "only the pizzeria's owner or an admin may change it");
        cJSON_Delete(doc);
        return NULL;
    }
    return doc;
}

/* The public representation of a stored pizzeria: its version is the ETag, not a member. */
static cJSON *pizzeria_view(cJSON *doc) {
    cJSON_DeleteItemFromObjectCaseSensitive(doc, ETAG_FIELD);
    return doc;
}

static void list_pizzerias(http_req_t *req, void *ctx) {
    store_t *s = service_store(ctx);
    http_page_t page;
    if (http_page_params(req, &page) != 0) return;
    store_filter_t *f = store_filter_new();
    cJSON *p = problem_new(400, "invalid query parameter");
    const char *owner = http_query(req, "owner_id");
    if (owner && !id_valid(owner))
        problem_add_error(p, "owner_id", "must be a 24-hex id");
    else if (owner)
        store_where_str(f, "owner_id", STORE_EQ, owner);
    if (http_reply_if_invalid(req, p) != 0) {
        store_filter_free(f);
        return;
    }
    long count = 0;
    cJSON *docs = NULL;
    int rc = store_page(s, PIZZERIAS, f, "-created_at,-id", page.limit, page.offset, &count, &docs);
    store_filter_free(f);
    if (rc != STORE_OK) {
        http_reply_store_error(req, rc, "list pizzerias");
        return;
    }
    cJSON *d;
    cJSON_ArrayForEach(d, docs) pizzeria_view(d);
    http_reply_page(req, &page, count, docs);
}

static void get_pizzeria(http_req_t *req, void *ctx) {
    cJSON *doc = load(req, service_store(ctx));
    if (!doc) return;
    if (etag_not_modified(req, doc)) {
        cJSON_Delete(doc);
        return;
    }
    etag_add(req, doc);
    http_reply_json(req, 200, pizzeria_view(doc));
}

/* erased_create()'s write: the pizzeria `doc`. */
static store_rc_t insert_pizzeria(store_t *s, void *doc) { return store_insert(s, PIZZERIAS, doc); }

static void create_pizzeria(http_req_t *req, void *ctx) {
    store_t *s = service_store(ctx);
    authn_user_t u;
    /* signed in before the body is looked at (401 before 400); the deleted-account check
     * that counts is the one inside erased_create()'s transaction */
    if (authn_require(req, &u) != 0) return;
    cJSON *body = json_body(req);
    if (!body) return;
    cJSON *set = NULL;
    if (http_reply_if_invalid(req, validate(body, CREATE, &set)) != 0) {
        cJSON_Delete(set);
        return;
    }
    char id[ID_LEN + 1], now[32];
    id_new(id);
    iso_now(now);
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "id", id);
    cJSON_AddStringToObject(doc, "owner_id", u.id);
    cJSON_AddStringToObject(doc, "name", json_str(set, "name"));
    cJSON_AddStringToObject(doc, "address", json_str(set, "address"));
    cJSON_AddStringToObject(doc, "phone", json_str(set, "phone"));
    cJSON_AddStringToObject(doc, "created_at", now);
    cJSON_AddStringToObject(doc, "updated_at", now);
    cJSON_AddNumberToObject(doc, ETAG_FIELD, 1);
    cJSON_Delete(set);
    int rc = erased_create(req, s, &u, insert_pizzeria, doc);
    if (rc != STORE_OK) {
        if (!http_replied(req)) http_reply_store_error(req, rc, "insert pizzeria");
        cJSON_Delete(doc);
        return;
    }
    http_add_location(req, PREFIX "/%s", id);
    etag_add(req, doc);
    http_reply_json(req, 201, pizzeria_view(doc));
}

/* PUT and PATCH: validate, store the changed members, answer the updated pizzeria. */
static void update_pizzeria(http_req_t *req, service_t *svc, enum mode mode) {
    store_t *s = service_store(svc);
    authn_user_t u;
    if (erased_require_writer(req, s, &u) != 0) return;
    cJSON *doc = load_for_write(req, s, &u), *set = NULL;
    if (!doc) return;
    cJSON *body = json_body(req);
    if (!body) goto out;
    if (http_reply_if_invalid(req, validate(body, mode, &set)) != 0) goto out;
    if (!etag_if_match(req, doc)) { /* checked again with the write (pizza_update) */
        etag_reply_stale(req, doc);
        goto out;
    }
    if (cJSON_GetArraySize(set) > 0 && pizza_update(req, s, PIZZERIAS, "pizzeria", doc, set) != 0)
        goto out;
    etag_add(req, doc);
    http_reply_json(req, 200, pizzeria_view(doc));
    doc = NULL;
out:
    cJSON_Delete(set);
    cJSON_Delete(doc);
}

static void replace_pizzeria(http_req_t *req, void *ctx) { update_pizzeria(req, ctx, REPLACE); }
static void patch_pizzeria(http_req_t *req, void *ctx) { update_pizzeria(req, ctx, PATCH); }

/* The pizzeria, its pizzas and their pizza.deleted events, in one transaction (run by
 * store_transact), after the owner's guard (erased.h: no orphan pizza). */
struct pizzeria_delete {
    http_req_t *req;
    const char *id, *owner;
    long pizzas;
    cJSON *fresh; /* the pizzeria as read in the transaction: If-Match is checked on it */
    bool stale;
};

static store_rc_t delete_txn(store_t *s, void *arg) {
    struct pizzeria_delete *d = arg;
    d->pizzas = 0;
    /* the guard first ("Who wins" in erased.h) */
    int rc = d->owner ? erased_guard(s, d->owner) : STORE_OK;
    if (rc == STORE_OK) rc = etag_read_id(s, d->req, PIZZERIAS, d->id, &d->fresh, &d->stale);
    if (rc != STORE_OK) return rc;
    store_filter_t *f = store_filter_new();
    store_where_str(f, "pizzeria_id", STORE_EQ, d->id);
    if (rc == STORE_OK) rc = pizzas_erase(s, f, &d->pizzas);
    store_filter_free(f);
    if (rc == STORE_OK) rc = store_delete_id(s, PIZZERIAS, d->id);
    return rc;
}

static void delete_pizzeria(http_req_t *req, void *ctx) {
    service_t *svc = ctx;
    store_t *s = service_store(svc);
    authn_user_t u;
    if (erased_require_writer(req, s, &u) != 0) return;
    cJSON *doc = load_for_write(req, s, &u);
    if (!doc) return;
    struct pizzeria_delete d = {req,  json_str(doc, "id"), json_str(doc, "owner_id"), 0, NULL,
                                false};
    int rc = store_transact(s, delete_txn, &d);
    long pizzas = d.pizzas;
    if (rc == STORE_ABORTED && d.stale) etag_reply_stale(req, d.fresh);
    cJSON_Delete(d.fresh);
    cJSON_Delete(doc);
    if (http_replied(req)) return;
    if (rc == STORE_NOTFOUND) {
        http_reply_problem(req, 404, "no such pizzeria");
        return;
    }
    if (rc != STORE_OK) {
        http_reply_store_error(req, rc, "delete pizzeria");
        return;
    }
    if (pizzas > 0) service_events_committed(svc);
    http_reply_empty(req, 204);
}

void pizzerias_routes(service_t *svc) {
    http_server_t *srv = service_http(svc);
    int fl = service_store_flags(svc);
    http_route(srv, "GET", PREFIX, list_pizzerias, svc, fl);
    http_route(srv, "POST", PREFIX, create_pizzeria, svc, fl);
    http_route(srv, "GET", PREFIX "/{id}", get_pizzeria, svc, fl);
    http_route(srv, "PUT", PREFIX "/{id}", replace_pizzeria, svc, fl);
    http_route(srv, "PATCH", PREFIX "/{id}", patch_pizzeria, svc, fl);
    http_route(srv, "DELETE", PREFIX "/{id}", delete_pizzeria, svc, fl);
}
