/* store_internal -- what store.c shares with the two backends (store_sqlite.c, linked in,
 * and store_mongo.c, a plugin). Not a contract for services: use store.h.
 *
 * store.c checks every argument before a backend sees it, so backends may assume:
 * collection and field names are identifiers (STORE_NAME_MAX bytes of [A-Za-z0-9_], not
 * starting with a digit), filters are well formed (see store_cond), sorts end with "id",
 * documents are objects with a non-empty string "id", updates never touch "id". */
#ifndef TIZZA_STORE_INTERNAL_H
#define TIZZA_STORE_INTERNAL_H

#include "store.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#define STORE_NAME_MAX 64 /* collection and field names */
#define STORE_KEYS_MAX 8  /* sort keys, index fields */

/* One condition of a filter. value: EQ/NE a string, number, bool or null; IN/NIN an array
 * of strings, numbers or bools; PREFIX a string; LT..GTE a string or number. */
struct store_cond {
    char *field;
    enum store_op op;
    cJSON *value;
};

struct store_filter {
    struct store_cond *conds;
    int n, cap;
    char *error; /* first misuse of the builder; the filter is then refused */
};

/* A parsed list of fields: sort keys (always ending with "id") or index fields. */
struct store_keys {
    int n;
    struct {
        char field[STORE_NAME_MAX + 1];
        bool desc;
    } k[STORE_KEYS_MAX + 1];
};

/* Per-thread backend state (a connection). Backends embed it as their first member. */
struct store_tls {
    struct store_tls *next;
    store_t *owner;
    bool in_txn;
};

struct store_ops {
    const char *name;
    /* Fills s->impl. On failure writes err and returns STORE_ERR. */
    int (*open)(store_t *s, const char *url, const char *dbname, char *err, size_t errlen);
    void (*close)(store_t *s); /* after every store_tls is closed */
    struct store_tls *(*tls_open)(store_t *s);
    void (*tls_close)(store_t *s, struct store_tls *t);

    int (*ping)(store_t *s, struct store_tls *t);
    int (*ensure_collection)(store_t *s, struct store_tls *t, const char *coll);
    int (*ensure_index)(store_t *s, struct store_tls *t, const char *coll,
                        const struct store_keys *fields, bool unique);
    int (*insert)(store_t *s, struct store_tls *t, const char *coll, const cJSON *doc);
    /* f may be NULL; sort is never NULL; limit <= 0 means none. *out = array. */
    int (*find)(store_t *s, struct store_tls *t, const char *coll, const store_filter_t *f,
                const struct store_keys *sort, long limit, long offset, cJSON **out);
    int (*count)(store_t *s, struct store_tls *t, const char *coll, const store_filter_t *f,
                 long *out);
    /* set and inc are objects (possibly empty), never both empty. */
    int (*update)(store_t *s, struct store_tls *t, const char *coll, const store_filter_t *f,
                  const cJSON *set, const cJSON *inc, long *matched);
    int (*delete)(store_t *s, struct store_tls *t, const char *coll, const store_filter_t *f,
                  long *deleted);
    int (*sample)(store_t *s, struct store_tls *t, const char *coll, const store_filter_t *f,
                  long n, cJSON **out);
    int (*begin)(store_t *s, struct store_tls *t);
    int (*commit)(store_t *s, struct store_tls *t);
    int (*rollback)(store_t *s, struct store_tls *t);
};

struct store {
    const struct store_ops *ops;
    void *impl; /* backend state */
    pthread_key_t key;
    pthread_mutex_t mu; /* guards threads */
    struct store_tls *threads;
    long transact_budget_ms; /* store_transact()'s, STORE_TRANSACT_BUDGET_MS unless set */
};

extern const struct store_ops store_sqlite_ops;

/* The MongoDB backend is a plugin, <lib dir>/tizza-store-mongo.so, loaded by store.c on the
 * first mongodb:// store_open() so that binaries on SQLite never load libmongoc. Its one
 * exported function returns the backend's table. The plugin may call back only into
 * store_fail() (the executables export just that symbol; see store.c). */
#define STORE_MONGO_PLUGIN "tizza-store-mongo.so"
#define STORE_MONGO_ENTRY  "tizza_store_mongo_backend"
const struct store_ops *tizza_store_mongo_backend(void);

/* Set this thread's store_errmsg() and return rc (STORE_ERR, STORE_CONFLICT, ...). */
int store_fail(int rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
