/* store -- the one document-store interface every service uses, with two backends:
 * SQLite (store_sqlite.c, the default, WAL, one file per service) and MongoDB through
 * libmongoc (store_mongo.c). Both are held to one conformance suite
 * (libcommon/tests/test_store.c).
 *
 * Documents are cJSON objects. Every document has a string "id" (24-hex ObjectId made with
 * id_new(), see util.h) which is its key (`_id` in MongoDB). Values may be strings, numbers,
 * booleans, null, arrays or objects; filters and sorts address top-level fields only.
 * Numbers are stored as doubles (exact for integers up to 2^53). Timestamps are ISO strings.
 *
 * Threads. A store_t may be shared by every thread. Each thread gets its own connection
 * (SQLite handle / mongoc_client_t popped from a pool) on first use, kept in thread-local
 * state and released at thread exit or store_close(). Transactions belong to the calling
 * thread: store_begin() ... store_commit()/store_rollback(), with every call in between on
 * the same thread being part of the transaction. Nested begin is an error.
 *
 * Errors are return values: STORE_OK, STORE_NOTFOUND, STORE_CONFLICT (unique index), or
 * STORE_ERR (anything else: store_errmsg() tells what, per thread). */
#ifndef TIZZA_STORE_H
#define TIZZA_STORE_H

#include <cjson/cJSON.h>
#include <stdbool.h>

typedef struct store store_t;
typedef struct store_filter store_filter_t;

enum store_rc { STORE_OK = 0, STORE_NOTFOUND = 1, STORE_CONFLICT = 2, STORE_ERR = -1 };

enum store_op {
    STORE_EQ,     /* field == value (a missing field never equals) */
    STORE_NE,     /* field != value (missing fields match) */
    STORE_PREFIX, /* string field starts with value (case-sensitive) */
    STORE_IN,     /* field equals one of the array's values */
    STORE_NIN,    /* field equals none of the array's values */
    STORE_LT,
    STORE_LTE,
    STORE_GT,
    STORE_GTE,
};

/* url: "sqlite:///abs/path.db", "sqlite://./rel/path.db", "sqlite://:memory:" (tests),
 * or "mongodb://..." (database `dbname` unless the URL names one). Returns NULL and fills
 * err on failure. */
store_t *store_open(const char *url, const char *dbname, char *err, size_t errlen);
void store_close(store_t *s);
/* "sqlite" or "mongodb" */
const char *store_backend(const store_t *s);

/* Message for the last STORE_ERR on this thread. */
const char *store_errmsg(void);

/* Liveness of the backend: 0 or STORE_ERR. */
int store_ping(store_t *s);

/* Idempotent: create the collection and an index on `fields` ("a" or "a,b"). */
int store_ensure_collection(store_t *s, const char *coll);
int store_ensure_index(store_t *s, const char *coll, const char *fields, bool unique);

/* Inserts a copy of `doc` (must have a string "id"). STORE_CONFLICT on a duplicate id or
 * unique-index violation. */
int store_insert(store_t *s, const char *coll, const cJSON *doc);
/* *out = new document (caller frees) or STORE_NOTFOUND. */
int store_get(store_t *s, const char *coll, const char *id, cJSON **out);

/* Filters: AND of conditions. NULL filter = everything. The filter owns copies of values. */
store_filter_t *store_filter_new(void);
void store_filter_free(store_filter_t *f);
void store_where_str(store_filter_t *f, const char *field, enum store_op op, const char *v);
void store_where_num(store_filter_t *f, const char *field, enum store_op op, double v);
void store_where_bool(store_filter_t *f, const char *field, bool v); /* STORE_EQ */
/* STORE_IN / STORE_NIN with `n` strings. */
void store_where_in(store_filter_t *f, const char *field, enum store_op op,
                    const char *const *values, int n);
/* Generic: takes ownership of `v`. */
void store_where(store_filter_t *f, const char *field, enum store_op op, cJSON *v);

/* *out = array of documents (caller frees). sort: "field" or "-field", comma separated,
 * NULL = by id ascending; ties are broken by id ascending. limit <= 0 means no limit. */
int store_find(store_t *s, const char *coll, const store_filter_t *f, const char *sort, long limit,
               long offset, cJSON **out);
/* First match of store_find (STORE_NOTFOUND when none). */
int store_find_one(store_t *s, const char *coll, const store_filter_t *f, cJSON **out);
int store_count(store_t *s, const char *coll, const store_filter_t *f, long *out);

/* For every match: set the members of `set` (may be NULL) and add the numbers of `inc`
 * (may be NULL; a missing field counts as 0). "id" cannot be changed. *matched (may be NULL)
 * = number of matching documents. STORE_CONFLICT on a unique-index violation (nothing
 * changed). */
int store_update(store_t *s, const char *coll, const store_filter_t *f, const cJSON *set,
                 const cJSON *inc, long *matched);
/* Deletes every match; *deleted may be NULL. */
int store_delete(store_t *s, const char *coll, const store_filter_t *f, long *deleted);
int store_delete_id(store_t *s, const char *coll, const char *id); /* STORE_NOTFOUND */

/* Up to n random matching documents, in random order. */
int store_sample(store_t *s, const char *coll, const store_filter_t *f, long n, cJSON **out);

/* Transactions on the calling thread. After a failed operation inside a transaction the
 * caller rolls back. */
int store_begin(store_t *s);
int store_commit(store_t *s);
int store_rollback(store_t *s);
bool store_in_txn(store_t *s);

#endif
