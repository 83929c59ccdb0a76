/* likes.c -- the /api/v1/likes resource.
 *
 * A like is {id, user_id, pizza_id, liked, created_at, updated_at}: one verdict per user and
 * pizza, kept unique by the (user_id, pizza_id) index. `liked` false is a dislike.
 *
 * Writes (PUT, DELETE) need a signed-in caller whose account has not been deleted
 * (erased_require_writer, erased.h: deleted_users, fed by the user.deleted consumer). PUT
 * asks pizza through the remote model whether the pizza exists, forwarding the caller's
 * Authorization so their own unapproved pizza counts; then, with no remote call in between,
 * it upserts through erased_create() (the race with an erasure: erased.h). The upsert is
 * re-runnable, which also settles two first verdicts on one pizza that meet the unique
 * index: the loser's next run finds the row and updates it.
 *
 * `?expand=pizza` embeds each pizza of a page with ONE batched remote call (?ids=...). When
 * pizza cannot be asked the page is still answered, every "pizza" null and a top-level
 * "pizza_expanded": false.
 *
 * GET /api/v1/likes/top: the pizzas with the most likes given (or last changed to a like)
 * within the last ?days=, counted here from the verdicts (an index on updated_at), never from
 * pizza's store. The count reads at most TOP_SCAN verdicts of the window, newest first, and
 * says "partial": true when there were more. ?expand=pizza embeds each pizza as the caller
 * may see it and leaves out those pizza does not show (unapproved, deleted).
 *
 * Threads. PUT calls pizza, so it is registered HTTP_OFFLOAD (a remote call blocks), and so
 * is top (it reads up to TOP_SCAN verdicts); the others run where the store wants them
 * (service_store_flags: on the event loop for SQLite). The list reads the store there too, and with
 * ?expand=pizza hands the page to a worker for the remote call (http_finish_on_worker). */
#include "likes.h"

#include "alloc.h"
#include "authn.h"
#include "erased.h"
#include "etag.h"
#include "http_store.h"
#include "json.h"
#include "log.h"
#include "problem.h"
#include "query.h"
#include "remote.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* The service's data (service_data): the pizza remote model, made by likes_routes() with
 * base PIZZA_URL and freed by likes_free(). */
static const remote_model_t *pizza_model(void *svc) { return service_data(svc); }

int likes_migrate(store_t *s) {
    int rc = store_ensure_collection(s, LIKES_COLL);
    if (rc == STORE_OK) rc = store_ensure_index(s, LIKES_COLL, "user_id,pizza_id", true);
    if (rc == STORE_OK) rc = store_ensure_index(s, LIKES_COLL, "pizza_id", false);
    if (rc == STORE_OK) rc = store_ensure_index(s, LIKES_COLL, "user_id", false);
    if (rc == STORE_OK) rc = store_ensure_index(s, LIKES_COLL, "updated_at", false);
    if (rc == STORE_OK) rc = erased_migrate(s);
    return rc;
}

/* The caller's verdict on one pizza (the unique key). Caller frees. */
static store_filter_t *verdict_filter(const char *user_id, const char *pizza_id) {
    store_filter_t *f = store_filter_new();
    store_where_str(f, "user_id", STORE_EQ, user_id);
    store_where_str(f, "pizza_id", STORE_EQ, pizza_id);
    return f;
}

/* ------------------------------------------------------------------------------------------
 * PUT /api/v1/likes/{pizza_id} */

/* {"liked": bool}, nothing else: 0 and *liked, or answered 400 and -1. */
static int parse_verdict(http_req_t *req, bool *liked) {
    cJSON *in = json_body(req);
    if (!in) return -1;
    static const char *const allowed[] = {"liked", NULL};
    cJSON *p = problem_new(400, "invalid like");
    json_reject_unknown(in, allowed, p);
    json_field_bool(in, "liked", true, liked, p);
    return http_reply_if_invalid(req, p);
}

/* Asks pizza whether the pizza exists (as the caller sees it): 0, or answered (422 when it
 * does not exist, 503 when pizza is unavailable) and -1. */
static int check_pizza(http_req_t *req, const remote_model_t *pizzas, const char *pizza_id) {
    if (!id_valid(pizza_id)) {
        remote_reply_error(req, REMOTE_NOT_FOUND, "pizza", "pizza");
        return -1;
    }
    remote_ctx_t *rctx = remote_ctx_new(req);
    cJSON *pizza = NULL;
    int err = remote_get(rctx, pizzas, pizza_id, &pizza);
    if (err != REMOTE_OK && err != REMOTE_NOT_FOUND)
        log_msg(LOG_WARN, "pizza %s: %s", pizza_id, remote_last_error(rctx));
    if (err != REMOTE_OK) remote_reply_error(req, err, "pizza", "pizza");
    cJSON_Delete(pizza);
    remote_ctx_free(rctx);
    return err == REMOTE_OK ? 0 : -1;
}

/* A stored verdict as answered: its version is the ETag (etag.h), not a member. */
static cJSON *like_view(cJSON *doc) {
    cJSON_DeleteItemFromObjectCaseSensitive(doc, ETAG_FIELD);
    return doc;
}

static cJSON *new_verdict(const char *user_id, const char *pizza_id, bool liked, const char *now) {
    char id[ID_LEN + 1];
    id_new(id);
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "id", id);
    cJSON_AddStringToObject(doc, "user_id", user_id);
    cJSON_AddStringToObject(doc, "pizza_id", pizza_id);
    cJSON_AddBoolToObject(doc, "liked", liked);
    cJSON_AddStringToObject(doc, "created_at", now);
    cJSON_AddStringToObject(doc, "updated_at", now);
    cJSON_AddNumberToObject(doc, ETAG_FIELD, 1);
    return doc;
}

/* Stores the new verdict over `doc` (the existing like) and mirrors it into doc. */
static int change_verdict(store_t *s, cJSON *doc, bool liked, const char *now) {
    cJSON *set = cJSON_CreateObject();
    cJSON_AddBoolToObject(set, "liked", liked);
    cJSON_AddStringToObject(set, "updated_at", now);
    etag_bump(set, doc);
    store_filter_t *f = verdict_filter(json_str(doc, "user_id"), json_str(doc, "pizza_id"));
    int rc = store_update(s, LIKES_COLL, f, set, NULL, NULL);
    store_filter_free(f);
    if (rc == STORE_OK) {
        const cJSON *item;
        cJSON_ArrayForEach(item, set) {
            cJSON_DeleteItemFromObjectCaseSensitive(doc, item->string);
            cJSON_AddItemToObject(doc, item->string, cJSON_Duplicate(item, true));
        }
    }
    cJSON_Delete(set);
    return rc;
}

/* A PUT's verdict and, once stored, the like (doc, freed by the caller) and whether it
 * was inserted. */
struct upsert {
    http_req_t *req; /* its If-Match holds for the verdict as read in the transaction */
    bool stale;
    const authn_user_t *u;
    const char *pizza_id;
    bool liked;
    cJSON *doc;
    bool created;
};

/* erased_create()'s write: updates the caller's verdict on the pizza, or inserts it. May
 * run several times, so doc and created are reset first. A concurrent first verdict on the
 * same pizza (unique index) is STORE_RETRY: the next run finds and updates it. */
static store_rc_t upsert(store_t *s, void *arg) {
    struct upsert *up = arg;
    char now[32];
    iso_now(now);
    cJSON_Delete(up->doc);
    up->doc = NULL;
    up->created = false;
    up->stale = false;
    store_filter_t *f = verdict_filter(up->u->id, up->pizza_id);
    int rc = store_find_one(s, LIKES_COLL, f, &up->doc);
    store_filter_free(f);
    bool conditional = http_header(up->req, "If-Match") != NULL;
    if ((rc == STORE_OK && !etag_if_match(up->req, up->doc)) ||
        (rc == STORE_NOTFOUND && conditional)) { /* If-Match needs one to exist */
        up->stale = true;
        return STORE_ABORTED;
    }
    if (rc == STORE_OK) return change_verdict(s, up->doc, up->liked, now);
    if (rc != STORE_NOTFOUND) return rc;
    up->doc = new_verdict(up->u->id, up->pizza_id, up->liked, now);
    up->created = true;
    rc = store_insert(s, LIKES_COLL, up->doc);
    return rc == STORE_CONFLICT ? STORE_RETRY : rc;
}

static void put_like(http_req_t *req, void *ctx) {
    store_t *s = service_store(ctx);
    authn_user_t u;
    /* signed in before anything else (401 first); the deleted-account check that counts is
     * the one inside erased_create()'s transaction, after the remote pizza check */
    if (authn_require(req, &u) != 0) return;
    bool liked = false;
    if (parse_verdict(req, &liked) != 0) return;
    const char *pizza_id = http_param(req, "pizza_id");
    if (check_pizza(req, pizza_model(ctx), pizza_id) != 0) return;

    struct upsert up = {req, false, &u, pizza_id, liked, NULL, false};
    int rc = erased_create(req, s, &u, upsert, &up);
    if (rc == STORE_ABORTED && up.stale && !http_replied(req)) {
        if (up.doc)
            etag_reply_stale(req, up.doc);
        else
            http_reply_problem(req, 412, "you have no verdict on this pizza to match (If-Match)");
    }
    if (rc != STORE_OK) {
        cJSON_Delete(up.doc);
        if (!http_replied(req)) http_reply_store_error(req, rc, "put like");
        return;
    }
    if (up.created) http_add_location(req, "/api/v1/likes/%s", pizza_id);
    etag_add(req, up.doc);
    http_reply_json(req, up.created ? 201 : 200, like_view(up.doc));
}

/* ------------------------------------------------------------------------------------------
 * GET and DELETE /api/v1/likes/{pizza_id} */

static void get_like(http_req_t *req, void *ctx) {
    store_t *s = service_store(ctx);
    authn_user_t u;
    if (authn_require(req, &u) != 0) return;
    const char *pizza_id = http_param(req, "pizza_id");
    cJSON *doc = NULL;
    int rc = STORE_NOTFOUND;
    if (id_valid(pizza_id)) {
        store_filter_t *f = verdict_filter(u.id, pizza_id);
        rc = store_find_one(s, LIKES_COLL, f, &doc);
        store_filter_free(f);
    }
    if (rc == STORE_NOTFOUND) {
        http_reply_problem(req, 404, "you have no verdict on this pizza");
    } else if (rc != STORE_OK) {
        http_reply_store_error(req, rc, "get like");
    } else if (etag_not_modified(req, doc)) {
        cJSON_Delete(doc);
    } else {
        etag_add(req, doc);
        http_reply_json(req, 200, like_view(doc));
    }
}

/* DELETE's transaction: the verdict read, If-Match checked on it, then deleted. */
struct forget {
    http_req_t *req;
    const char *user_id, *pizza_id;
    cJSON *fresh;
    bool stale;
};

static store_rc_t forget_txn(store_t *s, void *arg) {
    struct forget *d = arg;
    store_filter_t *f = verdict_filter(d->user_id, d->pizza_id);
    int rc = etag_read(s, d->req, LIKES_COLL, f, &d->fresh, &d->stale);
    long deleted = 0;
    if (rc == STORE_OK) rc = store_delete(s, LIKES_COLL, f, &deleted);
    store_filter_free(f);
    return rc == STORE_OK && deleted == 0 ? STORE_NOTFOUND : rc;
}

static void delete_like(http_req_t *req, void *ctx) {
    store_t *s = service_store(ctx);
    authn_user_t u;
    if (erased_require_writer(req, s, &u) != 0) return;
    const char *pizza_id = http_param(req, "pizza_id");
    struct forget d = {req, u.id, pizza_id, NULL, false};
    int rc = id_valid(pizza_id) ? store_transact(s, forget_txn, &d) : STORE_NOTFOUND;
    if (rc == STORE_ABORTED && d.stale)
        etag_reply_stale(req, d.fresh);
    else if (rc == STORE_NOTFOUND)
        http_reply_problem(req, 404, "you have no verdict on this pizza");
    else if (rc != STORE_OK)
        http_reply_store_error(req, rc, "delete like");
    else
        http_reply_empty(req, 204);
    cJSON_Delete(d.fresh);
}

/* ------------------------------------------------------------------------------------------
 * GET /api/v1/likes */

/* ?liked=true|false (-1 when absent) and ?expand=pizza: 0, or answered 400 and -1. */
static int list_params(http_req_t *req, int *liked, bool *expand) {
    const char *l = http_query(req, "liked"), *e = http_query(req, "expand");
    cJSON *p = problem_new(400, "invalid query parameters");
    *liked = -1;
    if (l && !strcmp(l, "true"))
        *liked = 1;
    else if (l && !strcmp(l, "false"))
        *liked = 0;
    else if (l)
        problem_add_error(p, "liked", "must be true or false");
    *expand = e && !strcmp(e, "pizza");
    if (e && !*expand) problem_add_error(p, "expand", "must be pizza");
    return http_reply_if_invalid(req, p);
}

static cJSON *find_by_id(cJSON *items, const char *id) {
    cJSON *it;
    cJSON_ArrayForEach(it, items) {
        const char *v = json_str(it, "id");
        if (v && id && !strcmp(v, id)) return it;
    }
    return NULL;
}

/* Embeds "pizza" (the entity, or null when it no longer exists) into every like of the
 * page with one batched remote call. Returns false when pizza could not be asked: every
 * "pizza" is then null. */
static bool embed_pizzas(http_req_t *req, const remote_model_t *pizzas, cJSON *likes) {
    int n = cJSON_GetArraySize(likes), nids = 0;
    const char **ids = xcalloc((size_t)n + 1, sizeof *ids);
    const cJSON *like;
    cJSON_ArrayForEach(like, likes) {
        const char *id = json_str(like, "pizza_id");
        if (id) ids[nids++] = id;
    }
    cJSON *found = NULL;
    int err = REMOTE_OK;
    if (nids > 0) {
        remote_ctx_t *rctx = remote_ctx_new(req);
        err = remote_get_many(rctx, pizzas, ids, nids, &found);
        if (err != REMOTE_OK) log_msg(LOG_WARN, "expand=pizza: %s", remote_last_error(rctx));
        remote_ctx_free(rctx);
    }
    free(ids);
    /* each pizza moves into its like: a page holds a pizza at most once (one like per user
     * and pizza, a unique index) */
    cJSON *it;
    cJSON_ArrayForEach(it, likes) {
        cJSON *p = err == REMOTE_OK ? find_by_id(found, json_str(it, "pizza_id")) : NULL;
        cJSON_AddItemToObject(it, "pizza",
                              p ? cJSON_DetachItemViaPointer(found, p) : cJSON_CreateNull());
    }
    cJSON_Delete(found);
    return err == REMOTE_OK;
}

/* The worker half of ?expand=pizza (http_finish_on_worker): the page's pizzas, then the
 * answer. Owns the job. */
struct expand_job {
    const remote_model_t *pizzas;
    http_page_t page;
    long count;
    cJSON *docs;
};

static void finish_expanded(http_req_t *req, void *arg) {
    struct expand_job *job = arg;
    bool expanded = embed_pizzas(req, job->pizzas, job->docs);
    cJSON *body = http_page_body(req, &job->page, job->count, job->docs);
    cJSON_AddBoolToObject(body, "pizza_expanded", expanded);
    http_reply_json(req, 200, body);
    free(job);
}

static void list_likes(http_req_t *req, void *ctx) {
    store_t *s = service_store(ctx);
    authn_user_t u;
    if (authn_require(req, &u) != 0) return;
    http_page_t page;
    if (http_page_params(req, &page) != 0) return;
    int liked;
    bool expand;
    if (list_params(req, &liked, &expand) != 0) return;

    store_filter_t *f = store_filter_new();
    store_where_str(f, "user_id", STORE_EQ, u.id);
    if (liked >= 0) store_where_bool(f, "liked", liked == 1);
    long count = 0;
    cJSON *docs = NULL;
    int rc =
        store_page(s, LIKES_COLL, f, "-updated_at,-id", page.limit, page.offset, &count, &docs);
    store_filter_free(f);
    if (rc != STORE_OK) {
        http_reply_store_error(req, rc, "list likes");
        return;
    }
    cJSON *d;
    cJSON_ArrayForEach(d, docs) like_view(d);
    if (!expand) {
        http_reply_page(req, &page, count, docs);
        return;
    }
    /* the remote call must not block the loop: the rest runs on a worker */
    struct expand_job *job = xmalloc(sizeof *job);
    *job = (struct expand_job){pizza_model(ctx), page, count, docs};
    http_finish_on_worker(req, finish_expanded, job);
}

/* ------------------------------------------------------------------------------------------
 * GET /api/v1/likes/seen and /api/v1/likes/counts */

static void seen(http_req_t *req, void *ctx) {
    store_t *s = service_store(ctx);
    authn_user_t u;
    if (authn_require(req, &u) != 0) return;
    store_filter_t *f = store_filter_new();
    store_where_str(f, "user_id", STORE_EQ, u.id);
    cJSON *docs = NULL;
    int rc = store_find(s, LIKES_COLL, f, "-updated_at,-id", 0, 0, &docs);
    store_filter_free(f);
    if (rc != STORE_OK) {
        cJSON_Delete(docs);
        http_reply_store_error(req, rc, "seen likes");
        return;
    }
    cJSON *body = cJSON_CreateObject();
    cJSON *ids = cJSON_AddArrayToObject(body, "pizza_ids");
    const cJSON *d;
    cJSON_ArrayForEach(d, docs) {
        const char *id = json_str(d, "pizza_id");
        if (id) cJSON_AddItemToArray(ids, cJSON_CreateString(id));
    }
    cJSON_Delete(docs);
    http_reply_json(req, 200, body);
}

/* {"<id>": {"likes": 0, "dislikes": 0}, ...} for every distinct id. */
static cJSON *zero_counts(const query_ids_t *ids) {
    cJSON *counts = cJSON_CreateObject();
    for (int i = 0; i < ids->n; i++) {
        if (cJSON_GetObjectItemCaseSensitive(counts, ids->id[i])) continue;
        cJSON *c = cJSON_AddObjectToObject(counts, ids->id[i]);
        cJSON_AddNumberToObject(c, "likes", 0);
        cJSON_AddNumberToObject(c, "dislikes", 0);
    }
    return counts;
}

/* Adds each verdict of `docs` to its pizza's counts. */
static void tally(cJSON *counts, const cJSON *docs) {
    const cJSON *d;
    cJSON_ArrayForEach(d, docs) {
        const char *id = json_str(d, "pizza_id");
        cJSON *c = id ? cJSON_GetObjectItemCaseSensitive(counts, id) : NULL;
        if (!c) continue;
        cJSON *n = cJSON_GetObjectItemCaseSensitive(
            c, cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "liked")) ? "likes" : "dislikes");
        cJSON_SetNumberValue(n, n->valuedouble + 1);
    }
}

static void counts(http_req_t *req, void *ctx) {
    store_t *s = service_store(ctx);
    query_ids_t ids; /* required: an absent list is no list */
    const char *why = NULL;
    cJSON *p = problem_new(400, "invalid query parameters");
    if (query_ids(http_query(req, "pizza_ids"), &ids, &why) != 0)
        problem_add_error(p, "pizza_ids", why);
    if (http_reply_if_invalid(req, p) != 0) return;
    store_filter_t *f = store_filter_new();
    store_where_in(f, "pizza_id", STORE_IN, ids.id, ids.n);
    cJSON *docs = NULL;
    int rc = store_find(s, LIKES_COLL, f, NULL, 0, 0, &docs);
    store_filter_free(f);
    if (rc != STORE_OK) {
        cJSON_Delete(docs);
        http_reply_store_error(req, rc, "count likes");
        return;
    }
    cJSON *c = zero_counts(&ids);
    tally(c, docs);
    cJSON_Delete(docs);
    cJSON *body = cJSON_CreateObject();
    cJSON_AddItemToObject(body, "counts", c);
    http_reply_json(req, 200, body);
}

/* ------------------------------------------------------------------------------------------
 * GET /api/v1/likes/top */

#define TOP_SCAN      20000 /* verdicts read at most per answer */
#define TOP_DAYS_MAX  365
#define TOP_LIMIT_MAX 50
#define TOP_SPARE     10 /* candidates beyond ?limit=, for those ?expand=pizza leaves out */

struct top_row {
    const char *pizza_id; /* into the verdicts read */
    long likes;
};

static int top_order(const void *a, const void *b) {
    const struct top_row *x = a, *y = b;
    if (x->likes != y->likes) return x->likes > y->likes ? -1 : 1;
    return strcmp(x->pizza_id, y->pizza_id);
}

static int by_id(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The liked verdicts' pizzas, counted and ordered (most likes, then id): the ids sorted, then
 * counted run by run. *n rows; caller frees the array (its ids point into docs). */
static struct top_row *top_rows(const cJSON *docs, int *n) {
    int cap = cJSON_GetArraySize(docs), nids = 0;
    const char **ids = xcalloc((size_t)cap + 1, sizeof *ids);
    const cJSON *d;
    cJSON_ArrayForEach(d, docs) {
        const char *id = json_str(d, "pizza_id");
        if (id) ids[nids++] = id;
    }
    qsort(ids, (size_t)nids, sizeof *ids, by_id);
    struct top_row *rows = xcalloc((size_t)nids + 1, sizeof *rows);
    *n = 0;
    for (int i = 0; i < nids; i++) {
        if (*n > 0 && strcmp(rows[*n - 1].pizza_id, ids[i]) == 0)
            rows[*n - 1].likes++;
        else
            rows[(*n)++] = (struct top_row){ids[i], 1};
    }
    free(ids);
    qsort(rows, (size_t)*n, sizeof *rows, top_order);
    return rows;
}

/* ?expand=pizza: embeds, drops what pizza does not show, trims. */
struct top_job {
    const remote_model_t *pizzas;
    cJSON *body; /* the answer, its "results" holding up to limit + TOP_SPARE rows */
    long limit;
};

static void finish_top(http_req_t *req, void *arg) {
    struct top_job *job = arg;
    cJSON *results = cJSON_GetObjectItemCaseSensitive(job->body, "results");
    bool expanded = embed_pizzas(req, job->pizzas, results);
    for (int i = cJSON_GetArraySize(results) - 1; expanded && i >= 0; i--)
        if (cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(results, i), "pizza")))
            cJSON_DeleteItemFromArray(results, i);
    while (cJSON_GetArraySize(results) > job->limit)
        cJSON_DeleteItemFromArray(results, cJSON_GetArraySize(results) - 1);
    cJSON_AddBoolToObject(job->body, "pizza_expanded", expanded);
    http_reply_json(req, 200, job->body);
    free(job);
}

static void top(http_req_t *req, void *ctx) {
    long days = 7, limit = 10;
    bool expand = false;
    const char *d = http_query(req, "days"), *l = http_query(req, "limit");
    const char *e = http_query(req, "expand");
    cJSON *p = problem_new(400, "invalid query parameters");
    if (d && (query_nonneg(d, &days) != 0 || days < 1 || days > TOP_DAYS_MAX))
        problem_add_error(p, "days", "must be a whole number from 1 to 365");
    if (l && (query_nonneg(l, &limit) != 0 || limit < 1 || limit > TOP_LIMIT_MAX))
        problem_add_error(p, "limit", "must be a whole number from 1 to 50");
    if (e && strcmp(e, "pizza") != 0) problem_add_error(p, "expand", "must be pizza");
    expand = e != NULL;
    if (http_reply_if_invalid(req, p) != 0) return;

    char since[32];
    iso_time(now_ms() - (int64_t)days * 86400000, since);
    store_filter_t *f = store_filter_new();
    store_where_bool(f, "liked", true);
    store_where_str(f, "updated_at", STORE_GTE, since);
    cJSON *docs = NULL;
    int rc =
        store_find(service_store(ctx), LIKES_COLL, f, "-updated_at,-id", TOP_SCAN + 1, 0, &docs);
    store_filter_free(f);
    if (rc != STORE_OK) {
        cJSON_Delete(docs);
        http_reply_store_error(req, rc, "top likes");
        return;
    }
    bool partial = cJSON_GetArraySize(docs) > TOP_SCAN;
    if (partial) cJSON_DeleteItemFromArray(docs, TOP_SCAN);
    int n;
    struct top_row *rows = top_rows(docs, &n);
    cJSON *body = cJSON_CreateObject();
    cJSON_AddNumberToObject(body, "days", (double)days);
    cJSON_AddStringToObject(body, "since", since);
    cJSON_AddBoolToObject(body, "partial", partial);
    cJSON *results = cJSON_AddArrayToObject(body, "results");
    long keep = expand ? limit + TOP_SPARE : limit;
    for (int i = 0; i < n && i < keep; i++) {
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "pizza_id", rows[i].pizza_id);
        cJSON_AddNumberToObject(r, "likes", (double)rows[i].likes);
        cJSON_AddItemToArray(results, r);
    }
    free(rows);
    cJSON_Delete(docs);
    if (!expand) {
        http_reply_json(req, 200, body);
        return;
    }
    struct top_job *job = xmalloc(sizeof *job);
    *job = (struct top_job){pizza_model(ctx), body, limit};
    finish_top(req, job); /* on a worker already (HTTP_OFFLOAD) */
}

void likes_routes(service_t *svc, const char *pizza_url) {
    remote_model_t *pizzas = xmalloc(sizeof *pizzas);
    *pizzas = (remote_model_t){pizza_url, "v1", "pizzas"};
    service_set_data(svc, pizzas);
    http_server_t *srv = service_http(svc);
    int fl = service_store_flags(svc);
    /* inline on SQLite; ?expand=pizza finishes on a worker (http_finish_on_worker) */
    http_route(srv, "GET", "/api/v1/likes", list_likes, svc, fl);
    http_route(srv, "GET", "/api/v1/likes/seen", seen, svc, fl);
    http_route(srv, "GET", "/api/v1/likes/counts", counts, svc, fl);
    http_route(srv, "GET", "/api/v1/likes/top", top, svc, HTTP_OFFLOAD);
    http_route(srv, "PUT", "/api/v1/likes/{pizza_id}", put_like, svc, HTTP_OFFLOAD);
    http_route(srv, "GET", "/api/v1/likes/{pizza_id}", get_like, svc, fl);
    http_route(srv, "DELETE", "/api/v1/likes/{pizza_id}", delete_like, svc, fl);
}

void likes_free(service_t *svc) {
    free(service_data(svc));
    service_set_data(svc, NULL);
}
