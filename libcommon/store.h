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
 * Errors are return values (store_rc_t): STORE_OK, STORE_NOTFOUND, STORE_CONFLICT (unique
 * index), STORE_RETRY (a transient transaction failure: run the whole transaction again), or
 * STORE_ERR (anything else: store_errmsg() tells what, per thread). STORE_ABORTED is no store
 * outcome: a store_transact() function returns it to stop for a reason of its own.
 *
 * STORE_RETRY comes from MongoDB only: its transactions are snapshot isolated, and when two
 * of them write the same document the loser aborts with WriteConflict (error labels
 * TransientTransactionError), at the write or at the commit; every later operation of an
 * aborted transaction fails the same way. SQLite never returns it: store_begin() is BEGIN
 * IMMEDIATE, so writers queue instead of conflicting (one process's on the store's writer
 * mutex, other processes in SQLite's busy timeout), and an SQLITE_BUSY that outlasts the
 * timeout is STORE_ERR -- running again would only wait again. store_transact()
 * is the retry loop callers should use instead of store_begin()/store_commit(). */
#ifndef TIZZA_STORE_H
#define TIZZA_STORE_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "config.h"

typedef struct store store_t;
typedef struct store_filter store_filter_t;

typedef enum store_rc {
    STORE_OK = 0,
    STORE_NOTFOUND = 1,
    STORE_CONFLICT = 2,
    STORE_RETRY = 3,
    STORE_ABORTED = 4, /* store_transact(): fn stopped on its own account (see there) */
    STORE_ERR = -1,
} store_rc_t;

enum store_op {
    STORE_EQ,       /* field == value (a missing field never equals) */
    STORE_NE,       /* field != value (missing fields match) */
    STORE_PREFIX,   /* string field starts with value (case-sensitive) */
    STORE_CONTAINS, /* string field contains value (case-sensitive; no index helps) */
    STORE_IN,       /* field equals one of the array's values */
    STORE_NIN,      /* field equals none of the array's values */
    STORE_LT,
    STORE_LTE,
    STORE_GT,
    STORE_GTE,
};

/* STORE_URL (read by service_main, its default set per service) and TIZZA_LIB_DIR (where
 * the MongoDB plugin is): config.h's table. */
extern const config_var_t store_config_vars[];

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
/* One page of a list: *count = every match (store_count; not counted when count is NULL,
 * e.g. when the page holds every match anyway), *out = store_find(sort, limit, offset).
 * On an error *out is NULL. */
int store_page(store_t *s, const char *coll, const store_filter_t *f, const char *sort, long limit,
               long offset, long *count, cJSON **out);

/* For every match: set the members of `set` (may be NULL) and add the numbers of `inc`
 * (may be NULL; a missing field counts as 0). "id" cannot be changed. *matched (may be NULL)
 * = number of matching documents. STORE_CONFLICT on a unique-index violation (nothing
 * changed). */
int store_update(store_t *s, const char *coll, const store_filter_t *f, const cJSON *set,
                 const cJSON *inc, long *matched);
/* Deletes every match; *deleted may be NULL. */
int store_delete(store_t *s, const char *coll, const store_filter_t *f, long *deleted);
int store_delete_id(store_t *s, const char *coll, const char *id); /* STORE_NOTFOUND */
/* store_update of the one document with this id: STORE_NOTFOUND when there is none. */
int store_update_id(store_t *s, const char *coll, const char *id, const cJSON *set,
                    const cJSON *inc);

/* Up to n random matching documents, in random order. */
int store_sample(store_t *s, const char *coll, const store_filter_t *f, long n, cJSON **out);

/* Transactions on the calling thread. After a failed operation inside a transaction the
 * caller rolls back. */
int store_begin(store_t *s);
int store_commit(store_t *s);
int store_rollback(store_t *s);
bool store_in_txn(store_t *s);

/* Runs fn(s, arg) in a transaction of the calling thread: store_begin(), fn, store_commit()
 * when fn returned STORE_OK, else store_rollback(). When begin, fn or the commit returns
 * STORE_RETRY -- or fn fails after any operation of the run reported STORE_RETRY, whatever
 * code fn made of it -- the whole transaction runs again after a random pause (1-2 ms,
 * doubling up to 128-256 ms) for as long as the store's budget allows: a run starts only
 * within STORE_TRANSACT_BUDGET_MS of the first. So fn must be re-runnable: it may run many
 * times, and it must reset whatever it fills for its caller on each run.
 *
 * Why a budget of seconds rather than a few quick runs: a MongoDB transaction keeps its
 * documents locked until it ends, and the transaction of a process that died mid-way ends
 * only when the server aborts it at transactionLifetimeLimitSeconds (60 s by default; the
 * compose stack sets 5, and MongoDB's reaper runs every half of it, so at most ~7.5 s).
 * Every writer of those documents conflicts until then; running again until the lock is
 * gone turns a killed replica into a few slow requests instead of failed ones.
 *
 * fn returns store codes only. An outcome of the caller's own (a permission refused, an
 * event seen before) goes into arg, and fn returns STORE_ABORTED: rolled back, not run
 * again, and the caller reads why from arg. Any other value is a programming error: logged,
 * then abort().
 *
 * Returns STORE_OK once committed; otherwise everything is rolled back and the result is
 * fn's code (STORE_ABORTED, STORE_NOTFOUND, STORE_CONFLICT, STORE_ERR), the store error of
 * begin/commit, or STORE_RETRY when the last run still conflicted. store_errmsg() tells the
 * store failure, not the rollback's. Inside a transaction it fails (STORE_ERR, nested). */
#define STORE_TRANSACT_BUDGET_MS 10000
typedef store_rc_t (*store_txn_fn)(store_t *s, void *arg);
store_rc_t store_transact(store_t *s, store_txn_fn fn, void *arg);
/* Sets s's budget (ms > 0); the tests shorten it. Call before any store_transact(). */
void store_set_transact_budget(store_t *s, long ms);

#endif
