/* pizzas.c -- the /api/v1/pizzas resource and /api/v1/pizzas/random.
 *
 * A pizza is {id, pizzeria_id, owner_id, title, description, thumbnail_url, kind, approved,
 * created_at, updated_at, picture} (picture: null or the uploaded one's, pictures.c). Stored
 * beside the title, never shown: title_search, its folded form (fold.h), which
 * ?title__icontains= searches (case- and accent-insensitive, anywhere in the title). owner_id is
 * copied from the pizzeria at creation (a pizzeria never changes hands), so ownership checks and
 * erasure need no join.
 *
 * Visibility. Everyone sees approved pizzas; a signed-in caller also sees their own
 * unapproved ones; an admin sees everything. The store filters are ANDs only, so each
 * stored pizza keeps an internal field visible_to: "public" once approved, else its
 * owner's id. "What may this caller see" is then one condition: visible_to IN ("public",
 * caller) -- cheap, indexed and exact, and it combines with every other filter and with
 * limit/offset. visible_to is recomputed whenever `approved` changes and never shown.
 * An invisible pizza answers 404, as if it did not exist.
 *
 * random asks likes (remote model GET /api/v1/likes/seen, forwarding the caller's
 * Authorization) which pizzas the caller already judged and samples among the others; when
 * likes cannot answer, it samples among every approved pizza and says excluded_seen false.
 * That handler is the only one making a network call, so it always runs on the worker pool.
 *
 * Review. A pizza is "pending" until an admin approves it (`approved` true) or rejects it
 * (`approved` false with a `rejection_reason`); only an admin may send either (403). When
 * its owner changes the title, description or picture of an approved or rejected pizza, it
 * goes back to "pending" (and out of public view) until reviewed again; an admin's own edits
 * do not. The view shows `status` and, when rejected, the reason. Stored: `approved`,
 * `review_status` ("approved", "pending", "rejected"; absent on rows older than reviews, which
 * read from `approved`) and `rejection_reason` ("" unless rejected). ?status= lists one state:
 * an admin's review queue is ?status=pending.
 *
 * pizzeria_id is given at creation only; an update may repeat the current value but not
 * change it.
 *
 * Every write refuses a deleted account (erased_require_writer); creating goes through
 * erased_create() (the race with an erasure: erased.h). */
#include "alloc.h"
#include "pizza.h"

#include "erased.h"
#include "etag.h"
#include "fold.h"
#include "http_store.h"
#include "json.h"
#include "log.h"
#include "problem.h"
#include "query.h"
#include "remote.h"
#include "util.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#define PREFIX     "/api/v1/pizzas"
#define PUBLIC     "public"
#define RANDOM_MAX 15

enum mode { CREATE, REPLACE, PATCH };

static const char *const fields[] = {"pizzeria_id", "title",    "description",      "thumbnail_url",
                                     "kind",        "approved", "rejection_reason", NULL};
/* what an owner's change sends an approved or rejected pizza back to review for */
static const char *const reviewed[] = {"title", "description", "thumbnail_url", NULL};
static const char *const statuses[] = {"pending", "approved", "rejected", NULL};
static const char *const kinds[] = {"meat", "vegetarian", "vegan", NULL};

/* The service's data (service_data): the likes remote model, made by pizzas_routes() with
 * base LIKES_URL and freed by pizzas_free(). */
static const remote_model_t *likes_model(void *svc) { return service_data(svc); }

const char *pizza_review_of(const cJSON *doc) {
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "approved"))) return "approved";
    const char *r = json_str(doc, "review_status");
    return r && strcmp(r, "rejected") == 0 ? "rejected" : "pending";
}

static void replace_item(cJSON *obj, const char *name, cJSON *item) {
    cJSON_DeleteItemFromObjectCaseSensitive(obj, name);
    cJSON_AddItemToObject(obj, name, item);
}

cJSON *pizza_view(cJSON *doc) {
    const char *status = pizza_review_of(doc);
    const char *reason = json_str(doc, "rejection_reason");
    cJSON *why = strcmp(status, "rejected") == 0 && reason && *reason ? cJSON_CreateString(reason)
                                                                      : cJSON_CreateNull();
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "visible_to");
    cJSON_DeleteItemFromObjectCaseSensitive(doc, TITLE_SEARCH);
    cJSON_DeleteItemFromObjectCaseSensitive(doc, ETAG_FIELD); /* the ETag carries it */
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "review_status");
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "rejection_reason");
    cJSON_AddStringToObject(doc, "status", status);
    cJSON_AddItemToObject(doc, "rejection_reason", why);
    if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(doc, "picture"))) /* pictures.c */
        replace_item(doc, "picture", cJSON_CreateNull());
    return doc;
}

static const char *visible_to(bool approved, const char *owner_id) {
    return approved ? PUBLIC : owner_id;
}

/* What `u` (NULL: anonymous) may see. */
static void where_visible(store_filter_t *f, const authn_user_t *u) {
    if (u && authn_is_admin(u)) return;
    if (!u) {
        store_where_str(f, "visible_to", STORE_EQ, PUBLIC);
        return;
    }
    const char *const who[] = {PUBLIC, u->id};
    store_where_in(f, "visible_to", STORE_IN, who, 2);
}

static bool may_see(const cJSON *doc, const authn_user_t *u) {
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "approved"))) return true;
    return u && pizza_may_write(u, json_str(doc, "owner_id"));
}

static bool one_of(const char *s, const char *const *choices) {
    for (int i = 0; choices[i]; i++)
        if (strcmp(s, choices[i]) == 0) return true;
    return false;
}

void pizza_review_set(cJSON *obj, const char *status, const char *reason, const char *owner_id) {
    bool approved = strcmp(status, "approved") == 0;
    replace_item(obj, "approved", cJSON_CreateBool(approved));
    replace_item(obj, "visible_to", cJSON_CreateString(visible_to(approved, owner_id)));
    replace_item(obj, "review_status", cJSON_CreateString(status));
    replace_item(obj, "rejection_reason", cJSON_CreateString(reason ? reason : ""));
}

/* True when `set` changes one of the reviewed members of the stored `doc`. */
static bool changes_reviewed(const cJSON *doc, const cJSON *set) {
    for (int i = 0; reviewed[i]; i++) {
        const char *now = json_str(set, reviewed[i]), *was = json_str(doc, reviewed[i]);
        if (now && (!was || strcmp(now, was) != 0)) return true;
    }
    return false;
}

/* An absolute http(s) URL with a host, as libcurl's URL parser reads it. */
static bool http_url(const char *s) {
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        if (*c <= 0x20 || *c == 0x7f) return false;
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    bool ok = u && curl_url_set(u, CURLUPART_URL, s, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
              (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0) && host[0];
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return ok;
}

/* What a request body asks for, once validated. */
typedef struct {
    cJSON *set;              /* members to store (new object, caller frees) */
    const char *pizzeria_id; /* NULL when absent */
    const char *reason;      /* rejection_reason, NULL when absent */
    bool has_approved;
} pizza_in_t;

/* Checks a body for `mode`; returns the problem (empty when valid) and fills `in`. */
static cJSON *validate(const cJSON *body, enum mode mode, pizza_in_t *in) {
    cJSON *p = problem_new(400, "invalid pizza");
    const char *title = NULL, *desc = NULL, *thumb = NULL, *kind = NULL;
    bool approved = false, all = mode == REPLACE;
    json_reject_unknown(body, fields, p);
    if (json_field_string(body, "pizzeria_id", mode == CREATE, 0, -1, true, &in->pizzeria_id, p) ==
            JSON_OK &&
        !id_valid(in->pizzeria_id))
        problem_add_error(p, "pizzeria_id", "must be a 24-hex id");
    json_field_text(body, "title", mode != PATCH, 1, 120, JSON_NONBLANK, &title, p);
    json_field_text(body, "description", all, 0, 240, JSON_MULTILINE, &desc, p);
    if (json_field_string(body, "thumbnail_url", all, 0, 2048, true, &thumb, p) == JSON_OK &&
        thumb[0] && !http_url(thumb))
        problem_add_error(p, "thumbnail_url", "must be empty or an http(s) URL");
    if (json_field_string(body, "kind", mode != PATCH, 1, 16, true, &kind, p) == JSON_OK &&
        !one_of(kind, kinds))
        problem_add_error(p, "kind", "must be one of meat, vegetarian, vegan");
    in->has_approved = json_field_bool(body, "approved", false, &approved, p) == JSON_OK;
    if (json_field_text(body, "rejection_reason", false, 1, 240, JSON_MULTILINE | JSON_NONBLANK,
                        &in->reason, p) == JSON_OK &&
        (mode == CREATE || !in->has_approved || approved))
        problem_add_error(p, "rejection_reason", "goes with approved false (a rejection)");
    if (mode == CREATE) {
        if (!desc) desc = "";
        if (!thumb) thumb = "";
    }

    in->set = cJSON_CreateObject();
    if (title) cJSON_AddStringToObject(in->set, "title", title);
    char *folded = title ? text_fold(title) : NULL;
    if (folded) cJSON_AddStringToObject(in->set, TITLE_SEARCH, folded);
    free(folded);
    if (desc) cJSON_AddStringToObject(in->set, "description", desc);
    if (thumb) cJSON_AddStringToObject(in->set, "thumbnail_url", thumb);
    if (kind) cJSON_AddStringToObject(in->set, "kind", kind);
    if (in->has_approved) cJSON_AddBoolToObject(in->set, "approved", approved);
    return p;
}

/* 403 for a non-admin who sent `approved` or `rejection_reason`: 0 when fine, else answered
 * and -1. */
static int check_approver(http_req_t *req, const pizza_in_t *in, const authn_user_t *u) {
    if ((!in->has_approved && !in->reason) || authn_is_admin(u)) return 0;
    http_reply_problem(req, 403, "only an admin may set approved");
    return -1;
}

/* The pizza named by the path if `u` (NULL: anonymous) may see it, else NULL when answered
 * (404/503). Caller frees. */
static cJSON *load(http_req_t *req, store_t *s, const authn_user_t *u) {
    const char *id = http_param(req, "id");
    cJSON *doc = NULL;
    int rc = id_valid(id) ? store_get(s, PIZZAS, id, &doc) : STORE_NOTFOUND;
    if (rc == STORE_OK && !may_see(doc, u)) rc = STORE_NOTFOUND;
    if (rc == STORE_NOTFOUND)
        http_reply_problem(req, 404, "no such pizza");
    else if (rc != STORE_OK)
        http_reply_store_error(req, rc, "get pizza");
    if (rc == STORE_OK) return doc;
    cJSON_Delete(doc);
    return NULL;
}

cJSON *pizza_load_for_write(http_req_t *req, store_t *s, const authn_user_t *u) {
    cJSON *doc = load(req, s, u);
    if (doc && !pizza_may_write(u, json_str(doc, "owner_id"))) {
        http_reply_problem(req, 403, "only the pizzeria's owner or an admin may change its pizzas");
        cJSON_Delete(doc);
        return NULL;
    }
    return doc;
}

/* ---------------------------------------------------------------- list & get */

/* ?status=: the rows of one review state (see the top of this file). */
static void where_status(store_filter_t *f, const char *status) {
    if (strcmp(status, "approved") == 0) {
        store_where_bool(f, "approved", true);
    } else if (strcmp(status, "rejected") == 0) {
        store_where_str(f, "review_status", STORE_EQ, "rejected");
    } else {
        store_where_bool(f, "approved", false);
        store_where_str(f, "review_status", STORE_NE, "rejected"); /* or absent */
    }
}

/* Adds the ?pizzeria_id= ?kind= ?approved= ?status= ?title__startswith= ?title__icontains=
 * ?ids= filters; errors go into `p`. Sets *has_ids when ?ids= was given. */
static void list_filters(http_req_t *req, store_filter_t *f, cJSON *p, bool *has_ids) {
    const char *pizzeria = http_query(req, "pizzeria_id"), *kind = http_query(req, "kind");
    const char *approved = http_query(req, "approved"), *ids = http_query(req, "ids");
    const char *prefix = http_query(req, "title__startswith"), *status = http_query(req, "status");
    if (status && !one_of(status, statuses))
        problem_add_error(p, "status", "must be one of pending, approved, rejected");
    else if (status)
        where_status(f, status);
    if (pizzeria && !id_valid(pizzeria))
        problem_add_error(p, "pizzeria_id", "must be a 24-hex id");
    else if (pizzeria)
        store_where_str(f, "pizzeria_id", STORE_EQ, pizzeria);
    if (kind && !one_of(kind, kinds))
        problem_add_error(p, "kind", "must be one of meat, vegetarian, vegan");
    else if (kind)
        store_where_str(f, "kind", STORE_EQ, kind);
    if (approved && strcmp(approved, "true") != 0 && strcmp(approved, "false") != 0)
        problem_add_error(p, "approved", "must be true or false");
    else if (approved)
        store_where_bool(f, "approved", strcmp(approved, "true") == 0);
    if (prefix && utf8_len(prefix, strlen(prefix)) < 0)
        problem_add_error(p, "title__startswith", "must be valid UTF-8");
    else if (prefix)
        store_where_str(f, "title", STORE_PREFIX, prefix);
    const char *words = http_query(req, "title__icontains");
    char *folded = words ? text_fold(words) : NULL;
    if (words && (!folded || utf8_len(words, strlen(words)) > 120))
        problem_add_error(p, "title__icontains", "must be valid UTF-8, at most 120 characters");
    else if (folded)
        store_where_str(f, TITLE_SEARCH, STORE_CONTAINS, folded);
    free(folded);
    *has_ids = ids != NULL;
    query_ids_t list;
    const char *why = NULL;
    if (ids && query_ids(ids, &list, &why) != 0)
        problem_add_error(p, "ids", why);
    else if (ids)
        store_where_in(f, "id", STORE_IN, list.id, list.n);
}

static void list_pizzas(http_req_t *req, void *ctx) {
    store_t *s = service_store(ctx);
    authn_user_t u;
    int a = authn_optional(req, &u);
    if (a < 0) return;
    store_filter_t *f = store_filter_new();
    cJSON *p = problem_new(400, "invalid query parameter"), *docs = NULL;
    bool has_ids = false;
    list_filters(req, f, p, &has_ids);
    where_visible(f, a == 0 ? &u : NULL);
    /* with ?ids= the page holds every match: the limit is ignored */
    http_page_t page = {.limit = QUERY_IDS_MAX, .offset = 0};
    if (http_reply_if_invalid(req, p) != 0) goto out;
    if (!has_ids && http_page_params(req, &page) != 0) goto out;
    long count = 0;
    int rc = store_page(s, PIZZAS, f, "-created_at,-id", page.limit, page.offset,
                        has_ids ? NULL : &count, &docs);
    if (rc != STORE_OK) {
        http_reply_store_error(req, rc, "list pizzas");
        goto out;
    }
    if (has_ids) count = cJSON_GetArraySize(docs); /* every match is on the page */
    cJSON *results = cJSON_CreateArray(), *d;
    while ((d = cJSON_DetachItemFromArray(docs, 0))) cJSON_AddItemToArray(results, pizza_view(d));
    http_reply_page(req, &page, count, results);
out:
    cJSON_Delete(docs);
    store_filter_free(f);
}

static void get_pizza(http_req_t *req, void *ctx) {
    authn_user_t u;
    int a = authn_optional(req, &u);
    if (a < 0) return;
    cJSON *doc = load(req, service_store(ctx), a == 0 ? &u : NULL);
    if (!doc) return;
    if (etag_not_modified(req, doc)) {
        cJSON_Delete(doc);
        return;
    }
    etag_add(req, doc);
    http_reply_json(req, 200, pizza_view(doc));
}

/* ---------------------------------------------------------------- create */

struct new_pizza {
    cJSON *doc;
    const authn_user_t *u;
    bool not_owner; /* the pizzeria is not the caller's (STORE_ABORTED) */
};

/* erased_create()'s write: the pizza, after checking its pizzeria, in the writer check's
 * transaction. STORE_NOTFOUND: no such pizzeria; STORE_ABORTED: not the caller's. (Re)sets
 * owner_id and visible_to of the doc from the pizzeria: it may run several times. */
static store_rc_t insert_pizza(store_t *s, void *arg) {
    struct new_pizza *p = arg;
    cJSON *pizzeria = NULL;
    int rc = store_get(s, PIZZERIAS, json_str(p->doc, "pizzeria_id"), &pizzeria);
    p->not_owner = rc == STORE_OK && !pizza_may_write(p->u, json_str(pizzeria, "owner_id"));
    if (p->not_owner) rc = STORE_ABORTED;
    if (rc == STORE_OK) {
        const char *owner = json_str(pizzeria, "owner_id");
        bool approved = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p->doc, "approved"));
        cJSON_DeleteItemFromObjectCaseSensitive(p->doc, "owner_id");
        cJSON_DeleteItemFromObjectCaseSensitive(p->doc, "visible_to");
        cJSON_AddStringToObject(p->doc, "owner_id", owner);
        cJSON_AddStringToObject(p->doc, "visible_to", visible_to(approved, owner));
        rc = store_insert(s, PIZZAS, p->doc);
        /* an admin's pizza in someone's pizzeria: the owner's guard too (erased.h) */
        if (rc == STORE_OK && owner && strcmp(owner, p->u->id) != 0) rc = erased_guard(s, owner);
    }
    cJSON_Delete(pizzeria);
    return rc;
}

static void create_pizza(http_req_t *req, void *ctx) {
    store_t *s = service_store(ctx);
    authn_user_t u;
    /* signed in before the body is looked at (401 before 400); the deleted-account check
     * that counts is the one inside erased_create()'s transaction */
    if (authn_require(req, &u) != 0) return;
    cJSON *body = json_body(req);
    if (!body) return;
    pizza_in_t in = {0};
    if (http_reply_if_invalid(req, validate(body, CREATE, &in)) != 0 ||
        check_approver(req, &in, &u) != 0) {
        cJSON_Delete(in.set);
        return;
    }
    char id[ID_LEN + 1], now[32];
    id_new(id);
    iso_now(now);
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "id", id);
    cJSON_AddStringToObject(doc, "pizzeria_id", in.pizzeria_id);
    cJSON_AddItemToObject(doc, "title", cJSON_DetachItemFromObject(in.set, "title"));
    cJSON_AddItemToObject(doc, TITLE_SEARCH, cJSON_DetachItemFromObject(in.set, TITLE_SEARCH));
    cJSON_AddItemToObject(doc, "description", cJSON_DetachItemFromObject(in.set, "description"));
    cJSON_AddItemToObject(doc, "thumbnail_url",
                          cJSON_DetachItemFromObject(in.set, "thumbnail_url"));
    cJSON_AddItemToObject(doc, "kind", cJSON_DetachItemFromObject(in.set, "kind"));
    bool approved = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(in.set, "approved"));
    pizza_review_set(doc, approved ? "approved" : "pending", NULL, u.id); /* insert_pizza: owner */
    cJSON_AddStringToObject(doc, "created_at", now);
    cJSON_AddStringToObject(doc, "updated_at", now);
    cJSON_AddNumberToObject(doc, ETAG_FIELD, 1);
    cJSON_Delete(in.set);
    struct new_pizza p = {doc, &u, false};
    int rc = erased_create(req, s, &u, insert_pizza, &p);
    if (rc == STORE_OK) {
        http_add_location(req, PREFIX "/%s", id);
        etag_add(req, doc);
        http_reply_json(req, 201, pizza_view(doc));
        return;
    }
    cJSON_Delete(doc);
    if (http_replied(req)) return; /* erased_create's check answered */
    if (rc == STORE_NOTFOUND) {
        cJSON *prob = problem_new(422, "pizzeria does not exist");
        problem_add_error(prob, "pizzeria_id", "no such pizzeria");
        http_reply_problem_obj(req, prob);
    } else if (rc == STORE_ABORTED && p.not_owner) {
        http_reply_problem(req, 403, "only the pizzeria's owner or an admin may add pizzas to it");
    } else {
        http_reply_store_error(req, rc, "insert pizza");
    }
}

/* ---------------------------------------------------------------- update */

static void update_pizza(http_req_t *req, service_t *svc, enum mode mode) {
    store_t *s = service_store(svc);
    authn_user_t u;
    if (erased_require_writer(req, s, &u) != 0) return;
    cJSON *doc = pizza_load_for_write(req, s, &u);
    if (!doc) return;
    pizza_in_t in = {0};
    cJSON *body = json_body(req);
    if (!body) goto out;
    cJSON *p = validate(body, mode, &in);
    if (in.pizzeria_id && id_valid(in.pizzeria_id) &&
        strcmp(in.pizzeria_id, json_str(doc, "pizzeria_id")) != 0)
        problem_add_error(p, "pizzeria_id", "cannot be changed");
    if (http_reply_if_invalid(req, p) != 0 || check_approver(req, &in, &u) != 0) goto out;
    if (!etag_if_match(req, doc)) { /* checked again with the write (pizza_update) */
        etag_reply_stale(req, doc);
        goto out;
    }
    const char *owner = json_str(doc, "owner_id");
    if (in.has_approved) {
        bool approved = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(in.set, "approved"));
        pizza_review_set(in.set,
                         approved    ? "approved"
                         : in.reason ? "rejected"
                                     : "pending",
                         in.reason, owner);
    } else if (!authn_is_admin(&u) && strcmp(pizza_review_of(doc), "pending") != 0 &&
               changes_reviewed(doc, in.set)) {
        pizza_review_set(in.set, "pending", NULL, owner); /* back to review */
    }
    if (cJSON_GetArraySize(in.set) > 0) {
        if (pizza_update(req, s, PIZZAS, "pizza", doc, in.set) != 0) goto out;
    }
    etag_add(req, doc);
    http_reply_json(req, 200, pizza_view(doc));
    doc = NULL;
out:
    cJSON_Delete(in.set);
    cJSON_Delete(doc);
}

static void replace_pizza(http_req_t *req, void *ctx) { update_pizza(req, ctx, REPLACE); }
static void patch_pizza(http_req_t *req, void *ctx) { update_pizza(req, ctx, PATCH); }

/* ---------------------------------------------------------------- delete */

/* The pizza and its pizza.deleted event, in one transaction (run by store_transact), once
 * If-Match holds for the pizza as read in it (etag.h). */
struct pizza_delete {
    http_req_t *req;
    const char *id;
    cJSON *fresh;
    bool stale;
};

static store_rc_t delete_txn(store_t *s, void *arg) {
    struct pizza_delete *d = arg;
    int rc = etag_read_id(s, d->req, PIZZAS, d->id, &d->fresh, &d->stale);
    store_filter_t *f = store_filter_new();
    store_where_str(f, "id", STORE_EQ, d->id);
    if (rc == STORE_OK) rc = pizzas_erase(s, f, NULL);
    store_filter_free(f);
    return rc;
}

static void delete_pizza(http_req_t *req, void *ctx) {
    service_t *svc = ctx;
    store_t *s = service_store(svc);
    authn_user_t u;
    if (erased_require_writer(req, s, &u) != 0) return;
    cJSON *doc = pizza_load_for_write(req, s, &u);
    if (!doc) return;
    struct pizza_delete d = {req, json_str(doc, "id"), NULL, false};
    int rc = store_transact(s, delete_txn, &d);
    if (rc == STORE_ABORTED && d.stale) etag_reply_stale(req, d.fresh);
    cJSON_Delete(d.fresh);
    cJSON_Delete(doc);
    if (http_replied(req)) return;
    if (rc == STORE_NOTFOUND) {
        http_reply_problem(req, 404, "no such pizza");
        return;
    }
    if (rc != STORE_OK) {
        http_reply_store_error(req, rc, "delete pizza");
        return;
    }
    service_events_committed(svc);
    http_reply_empty(req, 204);
}

/* ---------------------------------------------------------------- random */

/* ?count= (1..RANDOM_MAX, default 1): 0, or -1 when answered 400. */
static int random_count(http_req_t *req, long *count) {
    const char *v = http_query(req, "count");
    *count = 1;
    if (!v) return 0;
    char *end = NULL;
    long n = (v[0] >= '0' && v[0] <= '9') ? strtol(v, &end, 10) : -1;
    if (n >= 1 && n <= RANDOM_MAX && end && *end == '\0') {
        *count = n;
        return 0;
    }
    cJSON *p = problem_new(400, "invalid query parameter");
    problem_add_error(p, "count", "must be an integer from 1 to 15");
    http_reply_problem_obj(req, p);
    return -1;
}

/* Asks likes which pizzas the caller judged and adds id NIN (those) to f. True when the
 * answer was usable (the exclusion applies, even when empty). */
static bool exclude_seen(http_req_t *req, const remote_model_t *likes, store_filter_t *f) {
    remote_ctx_t *rctx = remote_ctx_new(req);
    cJSON *out = NULL;
    int err = rctx ? remote_get_path(rctx, likes, "seen", NULL, &out) : REMOTE_UNAVAILABLE;
    remote_ctx_free(rctx);
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(out, "pizza_ids");
    int n = cJSON_IsArray(ids) ? cJSON_GetArraySize(ids) : -1;
    const char **list = n > 0 ? xcalloc((size_t)n, sizeof *list) : NULL;
    bool ok = err == REMOTE_OK && n >= 0;
    int i = 0;
    const cJSON *it, *usable = ok ? ids : NULL;
    cJSON_ArrayForEach(it, usable) {
        if (!cJSON_IsString(it))
            ok = false;
        else
            list[i++] = it->valuestring;
    }
    if (ok && n > 0) store_where_in(f, "id", STORE_NIN, list, n);
    if (!ok) log_msg(LOG_WARN, "random: likes seen unavailable (err %d), not excluding", err);
    free(list);
    cJSON_Delete(out);
    return ok;
}

static void random_pizzas(http_req_t *req, void *ctx) {
    store_t *s = service_store(ctx);
    long count;
    if (random_count(req, &count) != 0) return;
    authn_user_t u;
    int a = authn_optional(req, &u);
    if (a < 0) return;
    store_filter_t *f = store_filter_new();
    store_where_bool(f, "approved", true);
    bool excluded = a == 0 && exclude_seen(req, likes_model(ctx), f);
    cJSON *docs = NULL;
    int rc = store_sample(s, PIZZAS, f, count, &docs);
    store_filter_free(f);
    if (rc != STORE_OK) {
        cJSON_Delete(docs);
        http_reply_store_error(req, rc, "sample pizzas");
        return;
    }
    cJSON *out = cJSON_CreateObject(), *results = cJSON_AddArrayToObject(out, "results"), *d;
    while ((d = cJSON_DetachItemFromArray(docs, 0))) cJSON_AddItemToArray(results, pizza_view(d));
    cJSON_Delete(docs);
    cJSON_AddBoolToObject(out, "excluded_seen", excluded);
    http_reply_json(req, 200, out);
}

void pizzas_routes(service_t *svc, const char *likes_url) {
    remote_model_t *likes = xmalloc(sizeof *likes);
    *likes = (remote_model_t){likes_url, "v1", "likes"};
    service_set_data(svc, likes);
    http_server_t *srv = service_http(svc);
    int fl = service_store_flags(svc);
    http_route(srv, "GET", PREFIX, list_pizzas, svc, fl);
    http_route(srv, "POST", PREFIX, create_pizza, svc, fl);
    /* a literal segment wins over {id}; this one calls likes, so never on a loop thread */
    http_route(srv, "GET", PREFIX "/random", random_pizzas, svc, HTTP_OFFLOAD);
    http_route(srv, "GET", PREFIX "/{id}", get_pizza, svc, fl);
    http_route(srv, "PUT", PREFIX "/{id}", replace_pizza, svc, fl);
    http_route(srv, "PATCH", PREFIX "/{id}", patch_pizza, svc, fl);
    http_route(srv, "DELETE", PREFIX "/{id}", delete_pizza, svc, fl);
}

void pizzas_free(service_t *svc) {
    free(service_data(svc));
    service_set_data(svc, NULL);
}
