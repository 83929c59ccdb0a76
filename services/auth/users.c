/* users -- the user resource: signup, list, get, patch, delete, and create-superuser.
 *
 * A user document is {id, username, username_key, email, email_key, name, password_hash,
 * role, created_at, updated_at}. The *_key fields are the lowercased username and email and
 * carry the unique indexes, which makes both unique case-insensitively while the user's own
 * spelling is kept for display.
 *
 * Uniqueness is left to the store: a create or an email change simply writes, and only on
 * STORE_CONFLICT do we look up which of username/email is taken to name the field in the
 * 409. Checking first would race with a concurrent signup anyway.
 *
 * Views: the public view {id, username, name, created_at} is what everyone sees; the
 * private view adds email, role and updated_at and goes to the user themself and admins.
 * Permission order follows Django REST framework: 401 (no valid token), 404 (no such user),
 * 403 (neither self nor admin), then 400 for the body.
 *
 * Multi-document changes run in one store transaction (store_transact, which runs it again
 * on a MongoDB write conflict): signup (user + first refresh token), password change (user
 * + revocation of the user's refresh tokens) and delete (user row, refresh tokens, erasure
 * record, user.deleted event). Any failure rolls the whole change back. */
#include "auth.h"
#include "authn.h"
#include "etag.h"
#include "http_store.h"
#include "json.h"
#include "log.h"
#include "problem.h"
#include "query.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- validation */

bool username_valid(const char *s) {
    size_t n = strlen(s);
    if (n < USERNAME_MIN || n > USERNAME_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!isalnum(c) && c != '_' && c != '.' && c != '-') return false;
        if (c >= 0x80) return false;
    }
    return true;
}

/* Deliberately loose (proto-docs/auth.openapi.yaml, Email): 3-254 bytes, exactly one '@'
 * after a non-empty local part, a domain containing a '.', no whitespace or control
 * characters. */
bool email_valid(const char *s) {
    size_t n = strlen(s);
    if (n < EMAIL_MIN || n > EMAIL_MAX) return false;
    const char *at = strchr(s, '@');
    if (at == NULL || at == s || strchr(at + 1, '@') != NULL) return false;
    if (strchr(at + 1, '.') == NULL) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c == 0x7f) return false;
    }
    return true;
}

/* ---------------------------------------------------------------- views & helpers */

static void add_str(cJSON *o, const cJSON *doc, const char *name) {
    const char *v = json_str(doc, name);
    cJSON_AddStringToObject(o, name, v ? v : "");
}

cJSON *user_view(const cJSON *doc, bool private_view) {
    cJSON *o = cJSON_CreateObject();
    add_str(o, doc, "id");
    add_str(o, doc, "username");
    add_str(o, doc, "name");
    add_str(o, doc, "created_at");
    if (private_view) {
        add_str(o, doc, "email");
        const char *role = json_str(doc, "role");
        cJSON_AddStringToObject(o, "role", role && strcmp(role, "admin") == 0 ? "admin" : "user");
        add_str(o, doc, "updated_at");
    }
    return o;
}

/* First user whose `field` equals lower(value). */
static int find_by_key(auth_ctx_t *ctx, const char *field, const char *value, cJSON **out) {
    char *key = str_lower(value);
    store_filter_t *f = store_filter_new();
    store_where_str(f, field, STORE_EQ, key);
    int rc = store_find_one(ctx->store, AUTH_COLL_USERS, f, out);
    store_filter_free(f);
    free(key);
    return rc;
}

int users_find_by_username(auth_ctx_t *ctx, const char *username, cJSON **out) {
    *out = NULL;
    return find_by_key(ctx, "username_key", username, out);
}

/* Adds an "is already taken" error for each of username/email (either may be NULL) held by
 * a user other than self_id (may be NULL). Number of taken fields, or -1 on a store error. */
static int taken_fields(auth_ctx_t *ctx, const char *username, const char *email,
                        const char *self_id, cJSON *problem) {
    const char *fields[2] = {"username", "email"};
    const char *keys[2] = {"username_key", "email_key"};
    const char *values[2] = {username, email};
    int taken = 0;
    for (int i = 0; i < 2; i++) {
        if (values[i] == NULL) continue;
        cJSON *doc = NULL;
        int rc = find_by_key(ctx, keys[i], values[i], &doc);
        if (rc == STORE_ERR) return -1;
        if (rc == STORE_OK && (self_id == NULL || strcmp(json_str(doc, "id"), self_id) != 0)) {
            problem_add_error(problem, fields[i], "is already taken");
            taken++;
        }
        cJSON_Delete(doc);
    }
    return taken;
}

static void reply_conflict(auth_ctx_t *ctx, http_req_t *req, const char *username,
                           const char *email, const char *self_id) {
    cJSON *p = problem_new(409, "already taken");
    if (taken_fields(ctx, username, email, self_id, p) < 0) {
        cJSON_Delete(p);
        http_reply_store_error(req, STORE_ERR, "conflict lookup");
        return;
    }
    http_reply_problem_obj(req, p);
}

static cJSON *user_doc_new(const char *username, const char *email, const char *name,
                           const char *hash, const char *role) {
    char id[ID_LEN + 1], now[32];
    id_new(id);
    iso_now(now);
    char *ukey = str_lower(username), *ekey = str_lower(email);
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "id", id);
    cJSON_AddStringToObject(doc, "username", username);
    cJSON_AddStringToObject(doc, "username_key", ukey ? ukey : "");
    cJSON_AddStringToObject(doc, "email", email);
    cJSON_AddStringToObject(doc, "email_key", ekey ? ekey : "");
    cJSON_AddStringToObject(doc, "name", name ? name : "");
    cJSON_AddStringToObject(doc, "password_hash", hash);
    cJSON_AddStringToObject(doc, "role", role);
    cJSON_AddStringToObject(doc, "created_at", now);
    cJSON_AddStringToObject(doc, "updated_at", now);
    cJSON_AddNumberToObject(doc, ETAG_FIELD, 1);
    free(ukey);
    free(ekey);
    return doc;
}

/* The {id} user of the route: NULL when it answered (404 or store error). */
static cJSON *load_target(auth_ctx_t *ctx, http_req_t *req) {
    const char *id = http_param(req, "id");
    cJSON *doc = NULL;
    if (id == NULL || !id_valid(id)) {
        http_reply_problem(req, 404, "no such user");
        return NULL;
    }
    int rc = store_get(ctx->store, AUTH_COLL_USERS, id, &doc);
    if (rc == STORE_NOTFOUND)
        http_reply_problem(req, 404, "no such user");
    else if (rc != STORE_OK)
        http_reply_store_error(req, rc, "get user");
    return rc == STORE_OK ? doc : NULL;
}

/* ---------------------------------------------------------------- signup */

static const char *const signup_fields[] = {"username", "email", "password", "name", NULL};

typedef struct {
    const char *username, *email, *password, *name;
} signup_t;

/* The 400 problem of the body's field errors, none when valid (http_reply_if_invalid). */
static cJSON *signup_validate(const cJSON *body, signup_t *in) {
    cJSON *p = problem_new(400, "invalid signup request");
    json_reject_unknown(body, signup_fields, p);
    if (json_field_string(body, "username", true, USERNAME_MIN, USERNAME_MAX, true, &in->username,
                          p) == JSON_OK &&
        !username_valid(in->username))
        problem_add_error(p, "username", "may contain only letters, digits, '_', '.' and '-'");
    if (json_field_string(body, "email", true, EMAIL_MIN, EMAIL_MAX, true, &in->email, p) ==
            JSON_OK &&
        !email_valid(in->email))
        problem_add_error(p, "email", "is not a valid email address");
    json_field_string(body, "password", true, PASSWORD_MIN, PASSWORD_MAX, true, &in->password, p);
    json_field_text(body, "name", false, 0, NAME_MAX_CP, JSON_NONBLANK, &in->name, p);
    return p;
}

struct signup_txn {
    auth_ctx_t *ctx;
    const cJSON *doc;
    char *refresh;
};

/* One run of signup_store()'s transaction (store_transact). Re-runnable: a run starts by
 * dropping the refresh token of a previous, rolled-back one. */
static store_rc_t signup_txn(store_t *s, void *arg) {
    struct signup_txn *t = arg;
    free(t->refresh);
    t->refresh = NULL;
    int rc = store_insert(s, AUTH_COLL_USERS, t->doc);
    if (rc != STORE_OK) return rc;
    return session_refresh_insert(t->ctx, json_str(t->doc, "id"), NULL, &t->refresh);
}

/* Inserts the user and its first refresh token in one transaction. STORE_OK with *refresh
 * set, STORE_CONFLICT (username or email taken) or a store failure. */
static int signup_store(auth_ctx_t *ctx, const cJSON *doc, char **refresh) {
    struct signup_txn t = {ctx, doc, NULL};
    int rc = store_transact(ctx->store, signup_txn, &t);
    if (rc != STORE_OK) {
        free(t.refresh);
        t.refresh = NULL;
    }
    *refresh = t.refresh;
    return rc;
}

void users_signup(http_req_t *req, void *arg) {
    auth_ctx_t *ctx = service_data(arg);
    cJSON *body = json_body(req);
    if (body == NULL) return;
    signup_t in = {0};
    if (http_reply_if_invalid(req, signup_validate(body, &in)) != 0) return;

    char hash[crypto_pwhash_STRBYTES];
    if (password_hash(in.password, hash) != 0) {
        log_msg(LOG_ERROR, "password hashing failed (out of memory?)");
        http_reply_problem(req, 500, "internal error");
        return;
    }
    cJSON *doc = user_doc_new(in.username, in.email, in.name, hash, "user");
    sodium_memzero(hash, sizeof hash);

    char *refresh = NULL, *access = session_access_token(ctx, doc);
    int rc = access ? signup_store(ctx, doc, &refresh) : STORE_ERR;
    if (rc == STORE_CONFLICT) {
        reply_conflict(ctx, req, in.username, in.email, NULL);
    } else if (rc != STORE_OK) {
        http_reply_store_error(req, rc, "signup");
    } else {
        http_add_location(req, "/api/v1/users/%s", json_str(doc, "id"));
        session_set_cookies(ctx, req, access, refresh);
        http_reply_json(req, 201, user_view(doc, true));
        cJSON *fields = cJSON_CreateObject();
        cJSON_AddStringToObject(fields, "user_id", json_str(doc, "id"));
        log_fields(LOG_INFO, "signup", fields);
    }
    free(access);
    free(refresh);
    cJSON_Delete(doc);
}

/* ---------------------------------------------------------------- list & get */

void users_list(http_req_t *req, void *arg) {
    auth_ctx_t *ctx = service_data(arg);
    authn_user_t u;
    int a = authn_optional(req, &u);
    if (a < 0) return;
    bool admin = a == 0 && authn_is_admin(&u);

    store_filter_t *f = store_filter_new();
    /* with ?ids= one page holds every match: limit and offset are ignored */
    http_page_t page = {.limit = QUERY_IDS_MAX, .offset = 0};
    const char *ids = http_query(req, "ids");
    const char *username = http_query(req, "username");
    cJSON *docs = NULL, *p = problem_new(400, "invalid query parameter");
    long count = 0;
    query_ids_t list;
    const char *why = NULL;
    if (username != NULL && utf8_len(username, strlen(username)) < 0)
        problem_add_error(p, "username", "must be valid UTF-8");
    if (ids != NULL && query_ids(ids, &list, &why) != 0) problem_add_error(p, "ids", why);
    if (http_reply_if_invalid(req, p) != 0) goto out;
    if (username != NULL) {
        char *key = str_lower(username);
        store_where_str(f, "username_key", STORE_EQ, key);
        free(key);
    }
    if (ids != NULL)
        store_where_in(f, "id", STORE_IN, list.id, list.n);
    else if (http_page_params(req, &page) != 0)
        goto out;
    /* with ?ids= every match is on the page: no count query */
    int rc = store_page(ctx->store, AUTH_COLL_USERS, f, "created_at", page.limit, page.offset,
                        ids != NULL ? NULL : &count, &docs);
    if (rc != STORE_OK) {
        http_reply_store_error(req, rc, "list users");
        goto out;
    }
    if (ids != NULL) count = cJSON_GetArraySize(docs);
    cJSON *results = cJSON_CreateArray();
    const cJSON *doc;
    cJSON_ArrayForEach(doc, docs) { cJSON_AddItemToArray(results, user_view(doc, admin)); }
    http_reply_page(req, &page, count, results);
out:
    cJSON_Delete(docs);
    store_filter_free(f);
}

void users_get(http_req_t *req, void *arg) {
    auth_ctx_t *ctx = service_data(arg);
    authn_user_t u;
    int a = authn_optional(req, &u);
    if (a < 0) return;
    cJSON *doc = load_target(ctx, req);
    if (doc == NULL) return;
    bool priv = a == 0 && (authn_is_admin(&u) || strcmp(u.id, json_str(doc, "id")) == 0);
    if (!etag_not_modified(req, doc)) {
        etag_add(req, doc);
        http_reply_json(req, 200, user_view(doc, priv));
    }
    cJSON_Delete(doc);
}

/* ---------------------------------------------------------------- patch */

static const char *const patch_fields[] = {"name", "email", "password", "current_password", NULL};

typedef struct {
    const char *name, *email, *password, *current;
} patch_t;

/* The 400 problem of the body's field errors, none when valid (http_reply_if_invalid). */
static cJSON *patch_validate(const cJSON *body, patch_t *in) {
    cJSON *p = problem_new(400, "invalid user update");
    json_reject_unknown(body, patch_fields, p);
    json_field_text(body, "name", false, 0, NAME_MAX_CP, JSON_NONBLANK, &in->name, p);
    if (json_field_string(body, "email", false, EMAIL_MIN, EMAIL_MAX, true, &in->email, p) ==
            JSON_OK &&
        !email_valid(in->email))
        problem_add_error(p, "email", "is not a valid email address");
    json_field_string(body, "password", false, PASSWORD_MIN, PASSWORD_MAX, true, &in->password, p);
    json_field_string(body, "current_password", false, 0, 1024, true, &in->current, p);
    return p;
}

/* A user changing their own password proves the current one (limited like login).
 * true when allowed; false when it answered. */
static bool patch_check_current(auth_ctx_t *ctx, http_req_t *req, const cJSON *user,
                                const char *current) {
    if (current == NULL) {
        cJSON *p = problem_new(400, "invalid user update");
        problem_add_error(p, "current_password", "is required to change the password");
        http_reply_problem_obj(req, p);
        return false;
    }
    const char *key = json_str(user, "username_key");
    login_attempt_t attempt;
    if (!login_attempt_begin(ctx, req, key ? key : "", &attempt)) return false;
    if (!password_verify(json_str(user, "password_hash"), current)) {
        login_attempt_failed(ctx, &attempt);
        cJSON *p = problem_new(400, "invalid user update");
        problem_add_error(p, "current_password", "is incorrect");
        http_reply_problem_obj(req, p);
        return false;
    }
    login_attempt_succeeded(ctx, &attempt);
    return true;
}

/* The members to set; NULL when nothing changes. 0, or -1 (hashing failed). */
static int patch_set(const patch_t *in, cJSON **out) {
    char now[32];
    *out = NULL;
    if (in->name == NULL && in->email == NULL && in->password == NULL) return 0;
    cJSON *set = cJSON_CreateObject();
    if (in->name != NULL) cJSON_AddStringToObject(set, "name", in->name);
    if (in->email != NULL) {
        char *key = str_lower(in->email);
        cJSON_AddStringToObject(set, "email", in->email);
        cJSON_AddStringToObject(set, "email_key", key);
        free(key);
    }
    if (in->password != NULL) {
        char hash[crypto_pwhash_STRBYTES];
        if (password_hash(in->password, hash) != 0) {
            cJSON_Delete(set);
            return -1;
        }
        cJSON_AddStringToObject(set, "password_hash", hash);
        sodium_memzero(hash, sizeof hash);
    }
    iso_now(now);
    cJSON_AddStringToObject(set, "updated_at", now);
    *out = set;
    return 0;
}

struct patch_txn {
    http_req_t *req; /* its If-Match is checked against the user as read in the run */
    const char *id;
    cJSON *set, *fresh;
    bool revoke, stale;
};

/* One run of patch_store()'s transaction (store_transact). */
static store_rc_t patch_txn(store_t *s, void *arg) {
    struct patch_txn *t = arg;
    int rc = etag_read_id(s, t->req, AUTH_COLL_USERS, t->id, &t->fresh, &t->stale);
    if (rc != STORE_OK) return rc;
    etag_bump(t->set, t->fresh);
    rc = store_update_id(s, AUTH_COLL_USERS, t->id, t->set, NULL);
    if (rc == STORE_OK && t->revoke) {
        store_filter_t *f = store_filter_new();
        store_where_str(f, "user_id", STORE_EQ, t->id);
        cJSON *rev = cJSON_CreateObject();
        cJSON_AddBoolToObject(rev, "revoked", true);
        rc = store_update(s, AUTH_COLL_REFRESH, f, rev, NULL, NULL);
        cJSON_Delete(rev);
        store_filter_free(f);
    }
    return rc;
}

/* Applies `set` (plus the next version) to user `id` once If-Match holds for it, in one
 * transaction; a password change also revokes the user's refresh tokens. STORE_OK,
 * STORE_NOTFOUND, STORE_CONFLICT (email taken), STORE_ABORTED (stale: answered 412) or a
 * store failure. */
static int patch_store(auth_ctx_t *ctx, http_req_t *req, const char *id, cJSON *set, bool revoke) {
    struct patch_txn t = {req, id, set, NULL, revoke, false};
    int rc = store_transact(ctx->store, patch_txn, &t);
    if (rc == STORE_ABORTED && t.stale) etag_reply_stale(req, t.fresh);
    cJSON_Delete(t.fresh);
    return rc;
}

void users_patch(http_req_t *req, void *arg) {
    auth_ctx_t *ctx = service_data(arg);
    authn_user_t u;
    if (authn_require(req, &u) != 0) return;
    cJSON *user = load_target(ctx, req), *set = NULL;
    if (user == NULL) return;
    const char *id = json_str(user, "id");
    bool self = strcmp(u.id, id) == 0;
    if (!self && !authn_is_admin(&u)) {
        http_reply_problem(req, 403, "only the user themself or an admin may change a user");
        goto out;
    }
    cJSON *body = json_body(req);
    if (body == NULL) goto out;
    patch_t in = {0};
    if (http_reply_if_invalid(req, patch_validate(body, &in)) != 0) goto out;
    if (!etag_if_match(req, user)) { /* checked again with the write (patch_store) */
        etag_reply_stale(req, user);
        goto out;
    }
    if (in.password != NULL && self && !patch_check_current(ctx, req, user, in.current)) goto out;
    if (patch_set(&in, &set) != 0) {
        http_reply_problem(req, 500, "internal error");
        goto out;
    }
    if (set != NULL) {
        int rc = patch_store(ctx, req, id, set, in.password != NULL);
        if (http_replied(req)) goto out; /* 412 */
        if (rc == STORE_CONFLICT) {
            reply_conflict(ctx, req, NULL, in.email, id);
            goto out;
        }
        if (rc == STORE_NOTFOUND) {
            http_reply_problem(req, 404, "no such user");
            goto out;
        }
        if (rc != STORE_OK) {
            http_reply_store_error(req, rc, "update user");
            goto out;
        }
        const cJSON *item;
        cJSON_ArrayForEach(item, set) {
            cJSON_DeleteItemFromObjectCaseSensitive(user, item->string);
            cJSON_AddItemToObject(user, item->string, cJSON_Duplicate(item, true));
        }
    }
    etag_add(req, user);
    http_reply_json(req, 200, user_view(user, true));
out:
    cJSON_Delete(set);
    cJSON_Delete(user);
}

/* ---------------------------------------------------------------- delete */

struct delete_txn {
    auth_ctx_t *ctx;
    http_req_t *req; /* its If-Match is checked against the user as read in the run */
    const char *id, *receipt;
    cJSON *fresh;
    bool stale;
};

/* One run of delete_store()'s transaction (store_transact). The erasure record and the
 * user.deleted outbox event are written inside it, so a run that is rolled back and run
 * again leaves exactly one of each. */
static store_rc_t delete_txn(store_t *s, void *arg) {
    struct delete_txn *t = arg;
    int rc = etag_read_id(s, t->req, AUTH_COLL_USERS, t->id, &t->fresh, &t->stale);
    if (rc == STORE_OK) rc = store_delete_id(s, AUTH_COLL_USERS, t->id);
    if (rc == STORE_OK) {
        store_filter_t *f = store_filter_new();
        store_where_str(f, "user_id", STORE_EQ, t->id);
        rc = store_delete(s, AUTH_COLL_REFRESH, f, NULL);
        store_filter_free(f);
    }
    if (rc == STORE_OK) rc = erasure_begin(t->ctx, t->id, t->receipt);
    return rc;
}

/* Removes the user and their refresh tokens and records the erasure with its receipt, in one
 * transaction, once If-Match holds. STORE_OK, STORE_NOTFOUND, STORE_ABORTED (stale:
 * answered 412) or a store failure. */
static int delete_store(auth_ctx_t *ctx, http_req_t *req, const char *id, const char *receipt) {
    struct delete_txn t = {ctx, req, id, receipt, NULL, false};
    int rc = store_transact(ctx->store, delete_txn, &t);
    if (rc == STORE_ABORTED && t.stale) etag_reply_stale(req, t.fresh);
    cJSON_Delete(t.fresh);
    return rc;
}

/* The 202 of a deletion: {id, status, erasure, receipt}, both URLs absolute. */
static cJSON *deleted_view(http_req_t *req, const char *id, const char *receipt) {
    char path[128];
    cJSON *out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "id", id);
    cJSON_AddStringToObject(out, "status", "erasing");
    snprintf(path, sizeof path, "/api/v1/users/%s/erasure", id);
    char *url = http_absolute_url(req, path);
    cJSON_AddStringToObject(out, "erasure", url ? url : path);
    free(url);
    snprintf(path, sizeof path, "/api/v1/erasures/%s", receipt);
    url = http_absolute_url(req, path);
    cJSON_AddStringToObject(out, "receipt", url ? url : path);
    free(url);
    return out;
}

void users_delete(http_req_t *req, void *arg) {
    auth_ctx_t *ctx = service_data(arg);
    authn_user_t u;
    if (authn_require(req, &u) != 0) return;
    cJSON *user = load_target(ctx, req);
    if (user == NULL) return;
    const char *id = json_str(user, "id");
    bool self = strcmp(u.id, id) == 0;
    if (!self && !authn_is_admin(&u)) {
        http_reply_problem(req, 403, "only the user themself or an admin may delete a user");
        cJSON_Delete(user);
        return;
    }
    char *receipt = erasure_receipt_new();
    int rc = delete_store(ctx, req, id, receipt);
    if (http_replied(req)) {
        /* 412 */
    } else if (rc == STORE_NOTFOUND) {
        http_reply_problem(req, 404, "no such user");
    } else if (rc != STORE_OK) {
        http_reply_store_error(req, rc, "delete user");
    } else {
        service_events_committed(ctx->svc);
        authn_mark_deleted(id);
        if (self) session_clear_cookies(ctx, req);
        http_reply_json(req, 202, deleted_view(req, id, receipt));
        cJSON *fields = cJSON_CreateObject();
        cJSON_AddStringToObject(fields, "user_id", id);
        cJSON_AddStringToObject(fields, "by", self ? "self" : "admin");
        log_fields(LOG_INFO, "user deleted", fields);
    }
    free(receipt);
    cJSON_Delete(user);
}

/* ---------------------------------------------------------------- create-superuser */

int superuser_promote(auth_ctx_t *ctx, const char *username, char id_out[32]) {
    cJSON *doc = NULL;
    char now[32];
    int rc = users_find_by_username(ctx, username, &doc);
    if (rc != STORE_OK) return rc;
    str_copy(id_out, json_str(doc, "id"), 32);
    cJSON_Delete(doc);
    iso_now(now);
    cJSON *set = cJSON_CreateObject();
    cJSON_AddStringToObject(set, "role", "admin");
    cJSON_AddStringToObject(set, "updated_at", now);
    cJSON *inc = cJSON_CreateObject(); /* a change: the next version (etag.h) */
    cJSON_AddNumberToObject(inc, ETAG_FIELD, 1);
    rc = store_update_id(ctx->store, AUTH_COLL_USERS, id_out, set, inc);
    cJSON_Delete(inc);
    cJSON_Delete(set);
    return rc;
}

int superuser_create(auth_ctx_t *ctx, const char *username, const char *email, const char *password,
                     char id_out[32]) {
    char hash[crypto_pwhash_STRBYTES];
    if (password_hash(password, hash) != 0) return STORE_ERR;
    cJSON *doc = user_doc_new(username, email, NULL, hash, "admin");
    sodium_memzero(hash, sizeof hash);
    int rc = store_insert(ctx->store, AUTH_COLL_USERS, doc);
    if (rc == STORE_OK) str_copy(id_out, json_str(doc, "id"), 32);
    cJSON_Delete(doc);
    return rc;
}
