/* common.c -- what the pizzeria and pizza handlers share.
 *
 * The migration (collections and indexes), the "who may write" rule (owner or admin; that
 * the caller is signed in and not a deleted account is erased_require_writer(), erased.h)
 * and the update of a stored document. Nothing here keeps state: every helper works on what
 * it is given. */
#include "pizza.h"

#include "erased.h"
#include "etag.h"
#include "fold.h"
#include "http_store.h"
#include "json.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int ensure(store_t *s, const char *coll, const char *const *indexes) {
    int rc = store_ensure_collection(s, coll);
    for (int i = 0; rc == STORE_OK && indexes[i]; i++)
        rc = store_ensure_index(s, coll, indexes[i], false);
    return rc;
}

/* Pizzas stored before title_search existed get it (once: afterwards every write keeps it). */
static int fold_titles(store_t *s) {
    cJSON *docs = NULL;
    int rc = store_find(s, PIZZAS, NULL, NULL, 0, 0, &docs);
    const cJSON *d, *all = rc == STORE_OK ? docs : NULL;
    cJSON_ArrayForEach(d, all) {
        const char *title = json_str(d, "title");
        if (json_str(d, TITLE_SEARCH) || !title) continue;
        char *folded = text_fold(title);
        cJSON *set = cJSON_CreateObject();
        cJSON_AddStringToObject(set, TITLE_SEARCH, folded ? folded : title);
        rc = store_update_id(s, PIZZAS, json_str(d, "id"), set, NULL);
        cJSON_Delete(set);
        free(folded);
        if (rc != STORE_OK) break;
    }
    cJSON_Delete(docs);
    return rc;
}

int pizza_migrate(store_t *s) {
    static const char *const pizzeria_idx[] = {"owner_id", "created_at", NULL};
    /* visible_to: "public" once approved, else the owner id (see pizzas.c) */
    static const char *const pizza_idx[] = {"pizzeria_id", "owner_id",   "approved", "title",
                                            "visible_to",  "created_at", NULL};
    int rc = ensure(s, PIZZERIAS, pizzeria_idx);
    if (rc == STORE_OK) rc = ensure(s, PIZZAS, pizza_idx);
    static const char *const picture_idx[] = {"pizza_id", NULL};
    if (rc == STORE_OK) rc = ensure(s, PICTURES, picture_idx);
    if (rc == STORE_OK) rc = erased_migrate(s);
    if (rc == STORE_OK) rc = fold_titles(s);
    return rc;
}

/* One run of pizza_update()'s transaction: the document read again, If-Match checked
 * against it (etag.h), then the write with the next version. */
struct update {
    http_req_t *req;
    const char *coll, *id;
    cJSON *set, *fresh; /* fresh: the document as this run read it */
    bool stale;
};

static store_rc_t update_txn(store_t *s, void *arg) {
    struct update *u = arg;
    int rc = etag_read_id(s, u->req, u->coll, u->id, &u->fresh, &u->stale);
    if (rc != STORE_OK) return rc;
    etag_bump(u->set, u->fresh);
    return store_update_id(s, u->coll, u->id, u->set, NULL);
}

int pizza_update(http_req_t *req, store_t *s, const char *coll, const char *what, cJSON *doc,
                 cJSON *set) {
    char now[32], msg[64];
    iso_now(now);
    cJSON_DeleteItemFromObjectCaseSensitive(set, "updated_at");
    cJSON_AddStringToObject(set, "updated_at", now);
    struct update u = {req, coll, json_str(doc, "id"), set, NULL, false};
    int rc = store_transact(s, update_txn, &u);
    if (rc == STORE_OK) { /* doc becomes the stored state: what was read, then set */
        const cJSON *item;
        cJSON_ArrayForEach(item, set) {
            cJSON_DeleteItemFromObjectCaseSensitive(u.fresh, item->string);
            cJSON_AddItemToObject(u.fresh, item->string, cJSON_Duplicate(item, true));
        }
        cJSON *it;
        while ((it = doc->child)) cJSON_Delete(cJSON_DetachItemViaPointer(doc, it));
        while ((it = u.fresh->child))
            cJSON_AddItemToObject(doc, it->string, cJSON_DetachItemViaPointer(u.fresh, it));
    } else if (rc == STORE_ABORTED && u.stale) {
        etag_reply_stale(req, u.fresh);
    } else if (rc == STORE_NOTFOUND) {
        snprintf(msg, sizeof msg, "no such %s", what);
        http_reply_problem(req, 404, msg);
    } else {
        snprintf(msg, sizeof msg, "update %s", what);
        http_reply_store_error(req, rc, msg);
    }
    cJSON_Delete(u.fresh);
    return rc == STORE_OK ? 0 : -1;
}

bool pizza_may_write(const authn_user_t *u, const char *owner_id) {
    return authn_is_admin(u) || (owner_id && strcmp(owner_id, u->id) == 0);
}
