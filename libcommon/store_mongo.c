/* store_mongo -- the MongoDB backend of store.h, on libmongoc 1.23.
 *
 * Connections. The store owns one mongoc_client_pool_t (error API v2, so server error codes
 * arrive as bson_error_t.code). Each thread pops one mongoc_client_t on first use (store.c's
 * per-thread state) and pushes it back at thread exit or store_close().
 *
 * Database. The URL's path names the database ("mongodb://h/db?..."); without one the
 * dbname given to store_open() is used. A collection is a MongoDB collection of the same
 * name; ensure_collection / ensure_index run outside any transaction (DDL).
 *
 * Documents. cJSON trees are converted to and from BSON directly (no JSON text in
 * between): the document's "id" becomes a string `_id` (first field) and back. Every JSON
 * number is stored as a BSON double, as store.h promises (exact up to 2^53), so equality
 * filters, $inc and sorting never mix int32/int64/double; int32/int64 values written by
 * other tools read back as numbers too. ObjectIds read back as hex strings, dates as ISO
 * strings, other BSON types as null.
 *
 * Filters. EQ/NE/IN/NIN/LT.. map to $eq/$ne/$in/$nin/$lt.. on the field (`_id` for "id"),
 * several conditions to $and. EQ null is {$exists: true, $eq: null} so a missing field
 * never equals (store.h); NE null is its complement. PREFIX is an anchored $regex with
 * every regex metacharacter escaped (case-sensitive, index-friendly). Conditions on array
 * fields follow MongoDB's array semantics and are not portable across backends.
 *
 * Unique indexes carry partialFilterExpression {field: {$exists: true}} for every field,
 * so that, as on SQLite, documents missing an indexed field never collide. Duplicate-key
 * errors (codes 11000/11001) become STORE_CONFLICT. A multi-document update that hits a
 * conflict stops there (MongoDB updates are per document), unless it runs inside a
 * transaction, where the rollback undoes it.
 *
 * Transactions. store_begin() starts a client session and a transaction on the thread's
 * client; every operation until commit/rollback passes that session. Commit and abort end
 * and destroy the session. MongoDB transactions are snapshot isolated: two that write the
 * same document conflict, and the loser is aborted with WriteConflict (code 112, labelled
 * TransientTransactionError), reported at the write (or at the commit); after that every
 * operation of the aborted transaction fails with NoSuchTransaction, labelled the same way.
 * Inside a transaction, any error with code 112 or that label (libmongoc also puts it on
 * network errors) becomes STORE_RETRY -- from an operation (the reply's errorLabels, or the
 * cursor's error document) or from the commit -- so store_transact() runs the transaction
 * again. Outside a transaction errors map as before: a lone write is never retried here.
 *
 * Sample is aggregate [$match, $sample]; count is mongoc_collection_count_documents().
 *
 * Packaging. This file is built alone into the plugin tizza-store-mongo.so (the only file
 * linked against libmongoc), which store.c dlopen()s on the first mongodb:// store_open();
 * tizza_store_mongo_backend() at the end is its single exported function. Of libcommon it
 * calls only store_fail(), which the executables export for it.
 */
#include "store_internal.h"

#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct mg_store {
    mongoc_client_pool_t *pool;
    mongoc_uri_t *uri;
    char *db;
};

struct mg_conn {
    struct store_tls base; /* first */
    mongoc_client_t *client;
    mongoc_client_session_t *txn; /* while in a transaction */
};

static int mg_fail(const char *what, const bson_error_t *e) {
    if (e->code == 11000 || e->code == 11001)
        return store_fail(STORE_CONFLICT, "%s: duplicate key (%s)", what, e->message);
    return store_fail(STORE_ERR, "mongodb: %s: %s", what, e->message);
}

/* A failed operation of connection c (reply: the server's reply or error document, may be
 * NULL): STORE_RETRY when it is a transient transaction error inside a transaction, else as
 * mg_fail(). */
static int mg_op_fail(const struct mg_conn *c, const char *what, const bson_error_t *e,
                      const bson_t *reply) {
    bool transient = e->code == 112 /* WriteConflict */ ||
                     (reply && mongoc_error_has_label(reply, "TransientTransactionError"));
    if (c->txn && transient)
        return store_fail(STORE_RETRY, "mongodb: %s: transient transaction error (%s)", what,
                          e->message);
    return mg_fail(what, e);
}

static bool is_id(const char *field) { return !strcmp(field, "id"); }
static const char *mg_name(const char *field) { return is_id(field) ? "_id" : field; }

/* ---- cJSON -> BSON ----------------------------------------------------------------- */

static bool mg_append(bson_t *b, const char *key, const cJSON *v);

/* Members of obj into b; top-level documents get "id" as a leading "_id". */
static bool mg_members(bson_t *b, const cJSON *obj, bool top) {
    const cJSON *m;
    if (top) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(obj, "id");
        if (cJSON_IsString(id) && !BSON_APPEND_UTF8(b, "_id", id->valuestring)) return false;
    }
    cJSON_ArrayForEach(m, obj) {
        if (top && !strcmp(m->string, "id")) continue;
        if (!mg_append(b, m->string, m)) return false;
    }
    return true;
}

static bool mg_append(bson_t *b, const char *key, const cJSON *v) {
    bson_t child;
    char buf[16];
    const char *k;
    int i = 0;
    const cJSON *item;
    bool ok;
    switch (v->type & 0xff) {
    case cJSON_String: return bson_append_utf8(b, key, -1, v->valuestring, -1);
    case cJSON_Number: return bson_append_double(b, key, -1, v->valuedouble);
    case cJSON_True: return bson_append_bool(b, key, -1, true);
    case cJSON_False: return bson_append_bool(b, key, -1, false);
    case cJSON_Object:
        if (!bson_append_document_begin(b, key, -1, &child)) return false;
        ok = mg_members(&child, v, false);
        return bson_append_document_end(b, &child) && ok;
    case cJSON_Array:
        if (!bson_append_array_begin(b, key, -1, &child)) return false;
        ok = true;
        cJSON_ArrayForEach(item, v) {
            bson_uint32_to_string((uint32_t)i++, &k, buf, sizeof buf);
            ok = ok && mg_append(&child, k, item);
        }
        return bson_append_array_end(b, &child) && ok;
    default: return bson_append_null(b, key, -1);
    }
}

/* ---- BSON -> cJSON ----------------------------------------------------------------- */

static cJSON *mg_object(bson_iter_t *it, bool array, bool top);

static cJSON *mg_value(bson_iter_t *it) {
    bson_iter_t child;
    char hex[25], iso[32];
    uint32_t len;
    const char *s;
    switch (bson_iter_type(it)) {
    case BSON_TYPE_DOUBLE: return cJSON_CreateNumber(bson_iter_double(it));
    case BSON_TYPE_INT32: return cJSON_CreateNumber(bson_iter_int32(it));
    case BSON_TYPE_INT64: return cJSON_CreateNumber((double)bson_iter_int64(it));
    case BSON_TYPE_UTF8: s = bson_iter_utf8(it, &len); return cJSON_CreateString(s);
    case BSON_TYPE_BOOL: return cJSON_CreateBool(bson_iter_bool(it));
    case BSON_TYPE_OID: bson_oid_to_string(bson_iter_oid(it), hex); return cJSON_CreateString(hex);
    case BSON_TYPE_DATE_TIME: {
        int64_t ms = bson_iter_date_time(it);
        time_t secs = (time_t)(ms / 1000);
        struct tm tm;
        gmtime_r(&secs, &tm);
        size_t n = strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(iso + n, sizeof iso - n, ".%03dZ", (int)((ms % 1000 + 1000) % 1000));
        return cJSON_CreateString(iso);
    }
    case BSON_TYPE_DOCUMENT:
    case BSON_TYPE_ARRAY:
        if (!bson_iter_recurse(it, &child)) return NULL;
        return mg_object(&child, bson_iter_type(it) == BSON_TYPE_ARRAY, false);
    default: return cJSON_CreateNull();
    }
}

static cJSON *mg_object(bson_iter_t *it, bool array, bool top) {
    cJSON *out = array ? cJSON_CreateArray() : cJSON_CreateObject();
    while (out && bson_iter_next(it)) {
        cJSON *v = mg_value(it);
        if (!v) {
            cJSON_Delete(out);
            return NULL;
        }
        const char *key = bson_iter_key(it);
        if (array)
            cJSON_AddItemToArray(out, v);
        else
            cJSON_AddItemToObject(out, top && !strcmp(key, "_id") ? "id" : key, v);
    }
    return out;
}

static cJSON *mg_doc(const bson_t *b) {
    bson_iter_t it;
    return bson_iter_init(&it, b) ? mg_object(&it, false, true) : NULL;
}

/* ---- filters, sorts ---------------------------------------------------------------- */

/* s with regex metacharacters escaped, after "^" when anchored; malloc'd. */
static char *mg_literal_regex(const char *s, bool anchored) {
    char *out = malloc(2 * strlen(s) + 2), *p = out;
    if (!out) return NULL;
    if (anchored) *p++ = '^';
    for (; *s; s++) {
        if (strchr("\\^$.|?*+()[]{}-", *s)) *p++ = '\\';
        *p++ = *s;
    }
    *p = '\0';
    return out;
}

static bool mg_cond(bson_t *b, const struct store_cond *c) {
    static const char *const ops[] = {
        [STORE_EQ] = "$eq",   [STORE_NE] = "$ne",   [STORE_PREFIX] = "$regex",
        [STORE_IN] = "$in",   [STORE_NIN] = "$nin", [STORE_LT] = "$lt",
        [STORE_LTE] = "$lte", [STORE_GT] = "$gt",   [STORE_GTE] = "$gte"};
    const char *field = mg_name(c->field);
    bson_t ops_doc, alt, part;
    bool ok;
    if (c->op == STORE_NE && cJSON_IsNull(c->value)) {
        /* {$or: [{f: {$exists: false}}, {f: {$ne: null}}]} */
        ok = BSON_APPEND_ARRAY_BEGIN(b, "$or", &alt);
        ok = ok && BSON_APPEND_DOCUMENT_BEGIN(&alt, "0", &part);
        ok = ok && BSON_APPEND_DOCUMENT_BEGIN(&part, field, &ops_doc);
        ok = ok && BSON_APPEND_BOOL(&ops_doc, "$exists", false);
        ok = ok && bson_append_document_end(&part, &ops_doc) &&
             bson_append_document_end(&alt, &part);
        ok = ok && BSON_APPEND_DOCUMENT_BEGIN(&alt, "1", &part);
        ok = ok && BSON_APPEND_DOCUMENT_BEGIN(&part, field, &ops_doc);
        ok = ok && BSON_APPEND_NULL(&ops_doc, "$ne");
        ok = ok && bson_append_document_end(&part, &ops_doc) &&
             bson_append_document_end(&alt, &part);
        return ok && bson_append_array_end(b, &alt);
    }
    if (!BSON_APPEND_DOCUMENT_BEGIN(b, field, &ops_doc)) return false;
    if (c->op == STORE_EQ && cJSON_IsNull(c->value)) {
        ok = BSON_APPEND_BOOL(&ops_doc, "$exists", true) && BSON_APPEND_NULL(&ops_doc, "$eq");
    } else if (c->op == STORE_PREFIX || c->op == STORE_CONTAINS) {
        char *re = mg_literal_regex(c->value->valuestring, c->op == STORE_PREFIX);
        ok = re && BSON_APPEND_UTF8(&ops_doc, "$regex", re);
        free(re);
    } else {
        ok = mg_append(&ops_doc, ops[c->op], c->value);
    }
    return bson_append_document_end(b, &ops_doc) && ok;
}

/* out (always initialized here) = the MongoDB query for f. */
static bool mg_filter(const store_filter_t *f, bson_t *out) {
    bson_init(out);
    if (!f || f->n == 0) return true;
    bool ok;
    if (f->n == 1) {
        ok = mg_cond(out, &f->conds[0]);
    } else {
        bson_t all, one;
        char buf[16];
        const char *k;
        ok = BSON_APPEND_ARRAY_BEGIN(out, "$and", &all);
        for (int i = 0; ok && i < f->n; i++) {
            bson_uint32_to_string((uint32_t)i, &k, buf, sizeof buf);
            ok = bson_append_document_begin(&all, k, -1, &one) && mg_cond(&one, &f->conds[i]);
            ok = bson_append_document_end(&all, &one) && ok;
        }
        ok = bson_append_array_end(out, &all) && ok;
    }
    if (!ok) store_fail(STORE_ERR, "mongodb: filter too large");
    return ok;
}

/* Options document (always initialized here), carrying the transaction's session when
 * there is one. */
static bool mg_opts(struct mg_conn *c, bson_t *opts) {
    bson_error_t e;
    bson_init(opts);
    if (c->txn && !mongoc_client_session_append(c->txn, opts, &e)) {
        mg_fail("session", &e);
        return false;
    }
    return true;
}

/* ---- pool, connections ------------------------------------------------------------- */

static pthread_once_t mg_once = PTHREAD_ONCE_INIT;
static void mg_init(void) { mongoc_init(); }

static int mg_open(store_t *s, const char *url, const char *dbname, char *err, size_t errlen) {
    bson_error_t e;
    pthread_once(&mg_once, mg_init);
    struct mg_store *q = calloc(1, sizeof *q);
    if (!q) {
        snprintf(err, errlen, "mongodb: out of memory");
        return STORE_ERR;
    }
    q->uri = mongoc_uri_new_with_error(url, &e);
    if (!q->uri) {
        snprintf(err, errlen, "mongodb: bad url: %s", e.message);
        free(q);
        return STORE_ERR;
    }
    const char *named = mongoc_uri_get_database(q->uri);
    q->db = strdup(named && *named ? named : dbname);
    q->pool = mongoc_client_pool_new_with_error(q->uri, &e);
    if (!q->db || !q->pool) {
        snprintf(err, errlen, "mongodb: %s", q->pool ? "out of memory" : e.message);
        if (q->pool) mongoc_client_pool_destroy(q->pool);
        mongoc_uri_destroy(q->uri);
        free(q->db);
        free(q);
        return STORE_ERR;
    }
    mongoc_client_pool_set_error_api(q->pool, MONGOC_ERROR_API_VERSION_2);
    mongoc_client_pool_set_appname(q->pool, "tizza");
    s->impl = q;
    return STORE_OK;
}

static void mg_close(store_t *s) {
    struct mg_store *q = s->impl;
    mongoc_client_pool_destroy(q->pool);
    mongoc_uri_destroy(q->uri);
    free(q->db);
    free(q);
}

static struct store_tls *mg_tls_open(store_t *s) {
    struct mg_store *q = s->impl;
    struct mg_conn *c = calloc(1, sizeof *c);
    if (!c) {
        store_fail(STORE_ERR, "mongodb: out of memory");
        return NULL;
    }
    c->client = mongoc_client_pool_pop(q->pool);
    if (!c->client) {
        store_fail(STORE_ERR, "mongodb: no client from the pool");
        free(c);
        return NULL;
    }
    return &c->base;
}

static void mg_tls_close(store_t *s, struct store_tls *t) {
    struct mg_store *q = s->impl;
    struct mg_conn *c = (struct mg_conn *)t;
    if (c->txn) mongoc_client_session_destroy(c->txn); /* aborts */
    mongoc_client_pool_push(q->pool, c->client);
    free(c);
}

static mongoc_collection_t *mg_coll(store_t *s, struct store_tls *t, const char *coll) {
    struct mg_store *q = s->impl;
    return mongoc_client_get_collection(((struct mg_conn *)t)->client, q->db, coll);
}

/* ---- operations -------------------------------------------------------------------- */

static int mg_ping(store_t *s, struct store_tls *t) {
    bson_t cmd = BSON_INITIALIZER, reply;
    bson_error_t e;
    BSON_APPEND_INT32(&cmd, "ping", 1);
    bool ok = mongoc_client_command_simple(((struct mg_conn *)t)->client, "admin", &cmd, NULL,
                                           &reply, &e);
    bson_destroy(&cmd);
    bson_destroy(&reply);
    return ok ? STORE_OK : mg_fail("ping", &e);
}

static int mg_ensure_collection(store_t *s, struct store_tls *t, const char *coll) {
    struct mg_store *q = s->impl;
    bson_error_t e;
    mongoc_database_t *db = mongoc_client_get_database(((struct mg_conn *)t)->client, q->db);
    mongoc_collection_t *col = mongoc_database_create_collection(db, coll, NULL, &e);
    int rc = col || e.code == 48 /* NamespaceExists */ ? STORE_OK : mg_fail("create", &e);
    mongoc_collection_destroy(col);
    mongoc_database_destroy(db);
    return rc;
}

static int mg_ensure_index(store_t *s, struct store_tls *t, const char *coll,
                           const struct store_keys *fields, bool unique) {
    if (fields->n == 1 && is_id(fields->k[0].field)) return STORE_OK; /* _id */
    char name[STORE_KEYS_MAX * (STORE_NAME_MAX + 3) + 16] = "";
    bson_t cmd = BSON_INITIALIZER, list, index, key, partial, exists, reply;
    bson_error_t e;
    for (int i = 0; i < fields->n; i++) {
        strcat(name, i ? "_" : "");
        strcat(name, mg_name(fields->k[i].field));
        strcat(name, "_1");
    }
    if (unique) strcat(name, "_unique");
    BSON_APPEND_UTF8(&cmd, "createIndexes", coll);
    BSON_APPEND_ARRAY_BEGIN(&cmd, "indexes", &list);
    BSON_APPEND_DOCUMENT_BEGIN(&list, "0", &index);
    BSON_APPEND_DOCUMENT_BEGIN(&index, "key", &key);
    for (int i = 0; i < fields->n; i++) BSON_APPEND_INT32(&key, mg_name(fields->k[i].field), 1);
    bson_append_document_end(&index, &key);
    BSON_APPEND_UTF8(&index, "name", name);
    if (unique) {
        BSON_APPEND_BOOL(&index, "unique", true);
        BSON_APPEND_DOCUMENT_BEGIN(&index, "partialFilterExpression", &partial);
        for (int i = 0; i < fields->n; i++) {
            BSON_APPEND_DOCUMENT_BEGIN(&partial, mg_name(fields->k[i].field), &exists);
            BSON_APPEND_BOOL(&exists, "$exists", true);
            bson_append_document_end(&partial, &exists);
        }
        bson_append_document_end(&index, &partial);
    }
    bson_append_document_end(&list, &index);
    bson_append_array_end(&cmd, &list);
    mongoc_collection_t *col = mg_coll(s, t, coll);
    bool ok = mongoc_collection_write_command_with_opts(col, &cmd, NULL, &reply, &e);
    mongoc_collection_destroy(col);
    bson_destroy(&cmd);
    bson_destroy(&reply);
    return ok ? STORE_OK : mg_fail("createIndexes", &e);
}

static int mg_insert(store_t *s, struct store_tls *t, const char *coll, const cJSON *doc) {
    bson_t b = BSON_INITIALIZER, opts;
    bson_error_t e;
    if (!mg_members(&b, doc, true)) {
        bson_destroy(&b);
        return store_fail(STORE_ERR, "mongodb: insert: document too large");
    }
    if (!mg_opts((struct mg_conn *)t, &opts)) {
        bson_destroy(&b);
        bson_destroy(&opts);
        return STORE_ERR;
    }
    bson_t reply;
    mongoc_collection_t *col = mg_coll(s, t, coll);
    bool ok = mongoc_collection_insert_one(col, &b, &opts, &reply, &e);
    mongoc_collection_destroy(col);
    int rc = ok ? STORE_OK : mg_op_fail((struct mg_conn *)t, "insert", &e, &reply);
    bson_destroy(&reply);
    bson_destroy(&b);
    bson_destroy(&opts);
    return rc;
}

/* Collects the documents of cur (destroyed here) into *out; t is the connection. */
static int mg_cursor(struct store_tls *t, mongoc_cursor_t *cur, const char *what, cJSON **out) {
    const bson_t *d, *reply = NULL;
    bson_error_t e;
    cJSON *arr = cJSON_CreateArray();
    int rc = arr ? STORE_OK : store_fail(STORE_ERR, "mongodb: out of memory");
    while (rc == STORE_OK && mongoc_cursor_next(cur, &d)) {
        cJSON *doc = mg_doc(d);
        if (!doc)
            rc = store_fail(STORE_ERR, "mongodb: out of memory");
        else
            cJSON_AddItemToArray(arr, doc);
    }
    if (rc == STORE_OK && mongoc_cursor_error_document(cur, &e, &reply))
        rc = mg_op_fail((struct mg_conn *)t, what, &e, reply);
    mongoc_cursor_destroy(cur);
    if (rc != STORE_OK)
        cJSON_Delete(arr);
    else
        *out = arr;
    return rc;
}

static int mg_find(store_t *s, struct store_tls *t, const char *coll, const store_filter_t *f,
                   const struct store_keys *sort, long limit, long offset, cJSON **out) {
    bson_t filter, opts, order;
    bool ok = mg_filter(f, &filter);
    ok = mg_opts((struct mg_conn *)t, &opts) && ok;
    bool built = BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &order);
    for (int i = 0; built && i < sort->n; i++)
        built = BSON_APPEND_INT32(&order, mg_name(sort->k[i].field), sort->k[i].desc ? -1 : 1);
    built = bson_append_document_end(&opts, &order) && built;
    if (offset > 0) built = built && BSON_APPEND_INT64(&opts, "skip", offset);
    if (limit > 0) built = built && BSON_APPEND_INT64(&opts, "limit", limit);
    int rc = STORE_ERR;
    if (ok && built) {
        mongoc_collection_t *col = mg_coll(s, t, coll);
        rc = mg_cursor(t, mongoc_collection_find_with_opts(col, &filter, &opts, NULL), "find", out);
        mongoc_collection_destroy(col);
    } else if (ok) {
        store_fail(STORE_ERR, "mongodb: find: options too large");
    }
    bson_destroy(&filter);
    bson_destroy(&opts);
    return rc;
}

static int mg_count(store_t *s, struct store_tls *t, const char *coll, const store_filter_t *f,
                    long *out) {
    bson_t filter, opts, reply;
    bson_error_t e;
    bool ok = mg_filter(f, &filter);
    ok = mg_opts((struct mg_conn *)t, &opts) && ok;
    int rc = STORE_ERR;
    if (ok) {
        mongoc_collection_t *col = mg_coll(s, t, coll);
        int64_t n = mongoc_collection_count_documents(col, &filter, &opts, NULL, &reply, &e);
        mongoc_collection_destroy(col);
        rc = n < 0 ? mg_op_fail((struct mg_conn *)t, "count", &e, &reply) : STORE_OK;
        if (n >= 0) *out = (long)n;
        bson_destroy(&reply);
    }
    bson_destroy(&filter);
    bson_destroy(&opts);
    return rc;
}

static long mg_reply_count(const bson_t *reply, const char *key) {
    bson_iter_t it;
    return bson_iter_init_find(&it, reply, key) && BSON_ITER_HOLDS_NUMBER(&it)
               ? (long)bson_iter_as_int64(&it)
               : 0;
}

static int mg_update(store_t *s, struct store_tls *t, const char *coll, const store_filter_t *f,
                     const cJSON *set, const cJSON *inc, long *matched) {
    bson_t filter, opts, upd = BSON_INITIALIZER, reply;
    bson_error_t e;
    bool ok = mg_filter(f, &filter);
    ok = mg_opts((struct mg_conn *)t, &opts) && ok;
    bool built = true;
    if (set->child) built = mg_append(&upd, "$set", set);
    if (inc->child) built = built && mg_append(&upd, "$inc", inc);
    int rc = STORE_ERR;
    if (ok && built) {
        mongoc_collection_t *col = mg_coll(s, t, coll);
        ok = mongoc_collection_update_many(col, &filter, &upd, &opts, &reply, &e);
        mongoc_collection_destroy(col);
        rc = ok ? STORE_OK : mg_op_fail((struct mg_conn *)t, "update", &e, &reply);
        if (ok) *matched = mg_reply_count(&reply, "matchedCount");
        bson_destroy(&reply);
    } else if (ok) {
        store_fail(STORE_ERR, "mongodb: update: too large");
    }
    bson_destroy(&filter);
    bson_destroy(&opts);
    bson_destroy(&upd);
    return rc;
}

/* Deletes every match. */
static int mg_delete(store_t *s, struct store_tls *t, const char *coll, const store_filter_t *f,
                     long *deleted) {
    bson_t filter, opts, reply;
    bson_error_t e;
    bool ok = mg_filter(f, &filter);
    ok = mg_opts((struct mg_conn *)t, &opts) && ok;
    int rc = STORE_ERR;
    if (ok) {
        mongoc_collection_t *col = mg_coll(s, t, coll);
        ok = mongoc_collection_delete_many(col, &filter, &opts, &reply, &e);
        mongoc_collection_destroy(col);
        rc = ok ? STORE_OK : mg_op_fail((struct mg_conn *)t, "delete", &e, &reply);
        if (ok) *deleted = mg_reply_count(&reply, "deletedCount");
        bson_destroy(&reply);
    }
    bson_destroy(&filter);
    bson_destroy(&opts);
    return rc;
}

static int mg_sample(store_t *s, struct store_tls *t, const char *coll, const store_filter_t *f,
                     long n, cJSON **out) {
    bson_t filter, opts, pipeline = BSON_INITIALIZER, stages, stage, sample;
    bool ok = mg_filter(f, &filter);
    ok = mg_opts((struct mg_conn *)t, &opts) && ok;
    bool built = BSON_APPEND_ARRAY_BEGIN(&pipeline, "pipeline", &stages);
    built = built && BSON_APPEND_DOCUMENT_BEGIN(&stages, "0", &stage);
    built = built && BSON_APPEND_DOCUMENT(&stage, "$match", &filter);
    built = built && bson_append_document_end(&stages, &stage);
    built = built && BSON_APPEND_DOCUMENT_BEGIN(&stages, "1", &stage);
    built = built && BSON_APPEND_DOCUMENT_BEGIN(&stage, "$sample", &sample);
    built = built && BSON_APPEND_INT64(&sample, "size", n);
    built = built && bson_append_document_end(&stage, &sample);
    built = built && bson_append_document_end(&stages, &stage);
    built = built && bson_append_array_end(&pipeline, &stages);
    int rc = STORE_ERR;
    if (ok && built) {
        mongoc_collection_t *col = mg_coll(s, t, coll);
        rc = mg_cursor(t,
                       mongoc_collection_aggregate(col, MONGOC_QUERY_NONE, &pipeline, &opts, NULL),
                       "sample", out);
        mongoc_collection_destroy(col);
    } else if (ok) {
        store_fail(STORE_ERR, "mongodb: sample: query too large");
    }
    bson_destroy(&filter);
    bson_destroy(&opts);
    bson_destroy(&pipeline);
    return rc;
}

static int mg_begin(store_t *s, struct store_tls *t) {
    struct mg_conn *c = (struct mg_conn *)t;
    bson_error_t e;
    c->txn = mongoc_client_start_session(c->client, NULL, &e);
    if (!c->txn) return mg_fail("start session", &e);
    if (!mongoc_client_session_start_transaction(c->txn, NULL, &e)) {
        mongoc_client_session_destroy(c->txn);
        c->txn = NULL;
        return mg_fail("start transaction", &e);
    }
    return STORE_OK;
}

/* Commits or aborts, then ends the session. A failed commit is classified (mg_op_fail)
 * while c->txn is still set: a commit that lost a write conflict is STORE_RETRY. */
static int mg_end(store_t *s, struct store_tls *t, bool commit) {
    struct mg_conn *c = (struct mg_conn *)t;
    bson_t reply;
    bson_error_t e;
    int rc = STORE_OK;
    if (commit) {
        if (!mongoc_client_session_commit_transaction(c->txn, &reply, &e))
            rc = mg_op_fail(c, "commit", &e, &reply);
        bson_destroy(&reply);
    } else if (!mongoc_client_session_abort_transaction(c->txn, &e)) {
        rc = mg_fail("abort", &e);
    }
    mongoc_client_session_destroy(c->txn);
    c->txn = NULL;
    return rc;
}

static int mg_commit(store_t *s, struct store_tls *t) { return mg_end(s, t, true); }
static int mg_rollback(store_t *s, struct store_tls *t) { return mg_end(s, t, false); }

static const struct store_ops mongo_ops = {
    .name = "mongodb",
    .open = mg_open,
    .close = mg_close,
    .tls_open = mg_tls_open,
    .tls_close = mg_tls_close,
    .ping = mg_ping,
    .ensure_collection = mg_ensure_collection,
    .ensure_index = mg_ensure_index,
    .insert = mg_insert,
    .find = mg_find,
    .count = mg_count,
    .update = mg_update,
    .delete = mg_delete,
    .sample = mg_sample,
    .begin = mg_begin,
    .commit = mg_commit,
    .rollback = mg_rollback,
};

/* The plugin's entry point (store_internal.h), looked up by store.c with dlsym(). */
const struct store_ops *tizza_store_mongo_backend(void) { return &mongo_ops; }
