/* common.c -- what the pizzeria and pizza handlers share.
 *
 * The migration (collections and indexes), the "who may write" rule (owner or admin; that
 * the caller is signed in and not a deleted account is erased_require_writer(), erased.h),
 * the store-error answer, Location headers and the ?ids= list parser. Nothing here keeps
 * state: every helper works on what it is given. */
#include "pizza.h"

#include "erased.h"
#include "json.h"
#include "log.h"
#include "problem.h"
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

int pizza_migrate(store_t *s) {
    static const char *const pizzeria_idx[] = {"owner_id", "created_at", NULL};
    /* visible_to: "public" once approved, else the owner id (see pizzas.c) */
    static const char *const pizza_idx[] = {"pizzeria_id", "owner_id",   "approved", "title",
                                            "visible_to",  "created_at", NULL};
    int rc = ensure(s, PIZZERIAS, pizzeria_idx);
    if (rc == STORE_OK) rc = ensure(s, PIZZAS, pizza_idx);
    if (rc == STORE_OK) rc = erased_migrate(s);
    return rc;
}

void pizza_store_error(http_req_t *req, const char *what) {
    log_msg(LOG_ERROR, "store: %s: %s", what, store_errmsg());
    http_reply_problem(req, 503, "the pizza store is unavailable");
}

int pizza_update(http_req_t *req, store_t *s, const char *coll, const char *what, cJSON *doc,
                 cJSON *set) {
    char now[32], msg[64];
    iso_now(now);
    cJSON_AddStringToObject(set, "updated_at", now);
    store_filter_t *f = store_filter_new();
    store_where_str(f, "id", STORE_EQ, json_str(doc, "id"));
    long matched = 0;
    int rc = store_update(s, coll, f, set, NULL, &matched);
    store_filter_free(f);
    snprintf(msg, sizeof msg, "update %s", what);
    if (rc != STORE_OK) {
        pizza_store_error(req, msg);
        return -1;
    }
    if (matched == 0) {
        snprintf(msg, sizeof msg, "no such %s", what);
        http_reply_problem(req, 404, msg);
        return -1;
    }
    const cJSON *item;
    cJSON_ArrayForEach(item, set) {
        cJSON_ReplaceItemInObjectCaseSensitive(doc, item->string, cJSON_Duplicate(item, true));
    }
    return 0;
}

bool pizza_may_write(const authn_user_t *u, const char *owner_id) {
    return authn_is_admin(u) || (owner_id && strcmp(owner_id, u->id) == 0);
}

void pizza_add_location(http_req_t *req, const char *prefix, const char *id) {
    char path[128];
    snprintf(path, sizeof path, "%s/%s", prefix, id);
    char *abs = http_absolute_url(req, path);
    http_add_header(req, "Location", abs ? abs : path);
    free(abs);
}

int pizza_filter_ids(const char *list, const char *field, const char *param, store_filter_t *f,
                     cJSON *problem) {
    char *copy = strdup(list);
    if (!copy) {
        problem_add_error(problem, param, "out of memory");
        return -1;
    }
    const char *ids[PIZZA_IDS_MAX];
    const char *bad = NULL;
    int n = 0;
    /* walk the commas by hand: strtok would silently skip empty items ("a,,b") */
    for (char *item = copy, *comma;; item = comma + 1) {
        comma = strchr(item, ',');
        if (comma) *comma = '\0';
        if (n == PIZZA_IDS_MAX)
            bad = "at most 100 ids";
        else if (!id_valid(item))
            bad = "must be a comma-separated list of 24-hex ids";
        if (bad) break;
        ids[n++] = item;
        if (!comma) break;
    }
    if (bad)
        problem_add_error(problem, param, bad);
    else
        store_where_in(f, field, STORE_IN, ids, n);
    free(copy);
    return bad ? -1 : 0;
}

int pizza_reply_if_invalid(http_req_t *req, cJSON *problem) {
    if (problem_has_errors(problem)) {
        http_reply_problem_obj(req, problem);
        return -1;
    }
    cJSON_Delete(problem);
    return 0;
}
