/* tweets.c -- the /api/v2/tweets resource.
 *
 * A tweet is {id, user_id, tweetedby, body, timestamp}; the stored document also keeps
 * tweetedby_key (lowercased username) for the case-insensitive ?tweetedby= filter. Writes
 * need a signed-in caller whose account has not been deleted (erased.h: deleted_users, fed
 * by the user.deleted consumer); tweetedby always comes from the token, never from the body.
 * Creating goes through erased_create() (the race with an erasure: erased.h). */
#include "tweets.h"

#include "authn.h"
#include "erased.h"
#include "http_store.h"
#include "json.h"
#include "problem.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#define COLL "tweets"

int tweets_migrate(store_t *s) {
    int rc = store_ensure_collection(s, COLL);
    if (rc == STORE_OK) rc = store_ensure_index(s, COLL, "timestamp", false);
    if (rc == STORE_OK) rc = store_ensure_index(s, COLL, "user_id", false);
    if (rc == STORE_OK) rc = store_ensure_index(s, COLL, "tweetedby_key", false);
    if (rc == STORE_OK) rc = erased_migrate(s);
    return rc;
}

/* The public representation (drops internal fields). Takes ownership of doc. */
static cJSON *tweet_view(cJSON *doc) {
    cJSON_DeleteItemFromObject(doc, "tweetedby_key");
    return doc;
}

static void list_tweets(http_req_t *req, void *ctx) {
    store_t *s = service_store(ctx);
    http_page_t page;
    if (http_page_params(req, &page) != 0) return;
    const char *by = http_query(req, "tweetedby");
    if (by && utf8_len(by, strlen(by)) < 0) { /* never a username; and not for the store */
        cJSON *p = problem_new(400, "invalid query parameter");
        problem_add_error(p, "tweetedby", "must be valid UTF-8");
        http_reply_problem_obj(req, p);
        return;
    }
    store_filter_t *f = store_filter_new();
    if (by) {
        char *key = str_lower(by);
        store_where_str(f, "tweetedby_key", STORE_EQ, key);
        free(key);
    }
    long count = 0;
    cJSON *docs = NULL;
    int rc = store_page(s, COLL, f, "-timestamp,-id", page.limit, page.offset, &count, &docs);
    store_filter_free(f);
    if (rc != STORE_OK) {
        http_reply_store_error(req, rc, "list tweets");
        return;
    }
    cJSON *results = cJSON_CreateArray();
    cJSON *d;
    while ((d = cJSON_DetachItemFromArray(docs, 0))) cJSON_AddItemToArray(results, tweet_view(d));
    cJSON_Delete(docs);
    http_reply_page(req, &page, count, results);
}

static void get_tweet(http_req_t *req, void *ctx) {
    store_t *s = service_store(ctx);
    const char *id = http_param(req, "id");
    cJSON *doc = NULL;
    int rc = id_valid(id) ? store_get(s, COLL, id, &doc) : STORE_NOTFOUND;
    if (rc == STORE_NOTFOUND)
        http_reply_problem(req, 404, "no such tweet");
    else if (rc != STORE_OK)
        http_reply_store_error(req, rc, "get tweet");
    else
        http_reply_json(req, 200, tweet_view(doc));
}

/* The tweet's body from the request: the string, or NULL when answered (400). */
static const char *parse_body(http_req_t *req) {
    cJSON *in = json_body(req);
    if (!in) return NULL;
    static const char *const allowed[] = {"body", NULL};
    cJSON *p = problem_new(400, "invalid tweet");
    const char *body = NULL;
    json_reject_unknown(in, allowed, p);
    json_field_text(in, "body", true, 1, TWEET_MAX_CHARS, JSON_MULTILINE | JSON_NONBLANK, &body, p);
    return http_reply_if_invalid(req, p) == 0 ? body : NULL;
}

static cJSON *new_tweet(const authn_user_t *u, const char *body) {
    char id[ID_LEN + 1], ts[32];
    id_new(id);
    iso_now(ts);
    char *key = str_lower(u->username);
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "id", id);
    cJSON_AddStringToObject(doc, "user_id", u->id);
    cJSON_AddStringToObject(doc, "tweetedby", u->username);
    cJSON_AddStringToObject(doc, "tweetedby_key", key);
    cJSON_AddStringToObject(doc, "body", body);
    cJSON_AddStringToObject(doc, "timestamp", ts);
    free(key);
    return doc;
}

/* erased_create()'s write: the tweet `doc`. */
static store_rc_t insert_tweet(store_t *s, void *doc) { return store_insert(s, COLL, doc); }

static void create_tweet(http_req_t *req, void *ctx) {
    store_t *s = service_store(ctx);
    authn_user_t u;
    /* signed in before the body is looked at (401 before 400); the deleted-account check
     * that counts is the one inside the transaction */
    if (authn_require(req, &u) != 0) return;
    const char *body = parse_body(req);
    if (!body) return;
    cJSON *doc = new_tweet(&u, body);
    int rc = erased_create(req, s, &u, insert_tweet, doc);
    if (rc != STORE_OK) {
        if (!http_replied(req)) http_reply_store_error(req, rc, "insert tweet");
        cJSON_Delete(doc);
        return;
    }
    http_add_location(req, "/api/v2/tweets/%s", json_str(doc, "id"));
    http_reply_json(req, 201, tweet_view(doc));
}

static void delete_tweet(http_req_t *req, void *ctx) {
    store_t *s = service_store(ctx);
    authn_user_t u;
    if (erased_require_writer(req, s, &u) != 0) return;
    const char *id = http_param(req, "id");
    cJSON *doc = NULL;
    int rc = id_valid(id) ? store_get(s, COLL, id, &doc) : STORE_NOTFOUND;
    if (rc == STORE_NOTFOUND) {
        http_reply_problem(req, 404, "no such tweet");
        return;
    }
    if (rc != STORE_OK) {
        http_reply_store_error(req, rc, "get tweet");
        return;
    }
    const char *author = json_str(doc, "user_id");
    int allowed = authn_is_admin(&u) || (author && strcmp(author, u.id) == 0);
    cJSON_Delete(doc);
    if (!allowed) {
        http_reply_problem(req, 403, "only the author or an admin may delete this tweet");
        return;
    }
    rc = store_delete_id(s, COLL, id);
    if (rc == STORE_OK || rc == STORE_NOTFOUND)
        http_reply_empty(req, 204);
    else
        http_reply_store_error(req, rc, "delete tweet");
}

void tweets_routes(service_t *svc) {
    http_server_t *srv = service_http(svc);
    int fl = service_store_flags(svc);
    http_route(srv, "GET", "/api/v2/tweets", list_tweets, svc, fl);
    http_route(srv, "POST", "/api/v2/tweets", create_tweet, svc, fl);
    http_route(srv, "GET", "/api/v2/tweets/{id}", get_tweet, svc, fl);
    http_route(srv, "DELETE", "/api/v2/tweets/{id}", delete_tweet, svc, fl);
}
