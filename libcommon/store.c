/* store -- the backend-neutral half of the document store (contract: store.h).
 *
 * A store_t is a table of backend functions (struct store_ops, store_internal.h) plus the
 * backend's state. This file owns what both backends share:
 *
 *  - Argument checking, done once here so the backends can trust their input. Collection
 *    and field names are identifiers ([A-Za-z_][A-Za-z0-9_]*, at most 64 bytes) because
 *    the SQLite backend writes them into SQL text and JSON paths; documents need a
 *    non-empty string "id"; updates may not touch "id"; $inc values must be numbers.
 *  - The filter builder: an array of conditions owning copies of their values. A misuse
 *    (bad field name, wrong value type) is remembered in the filter and reported as
 *    STORE_ERR by the operation that uses it, so call sites need no error handling per
 *    store_where_*() call.
 *  - Sort and index-field parsing ("a,-b"); sorts always end with "id" ascending.
 *  - Per-thread connections: each store has a pthread key whose value is the calling
 *    thread's struct store_tls, opened through ops->tls_open on first use. The store keeps
 *    a list of them so store_close() can release those of threads still alive; the key's
 *    destructor releases the one of a thread that exits.
 *  - The transaction flag (nested begin and commit without begin are refused here).
 *  - store_transact(), the retry loop around a transaction: STORE_RETRY (a MongoDB write
 *    conflict, see store.h) -- returned by begin, fn or commit, or reported by any operation
 *    of the run (store_fail() notes it per thread) even when fn turned it into another code
 *    -- runs the whole transaction again while the store's budget lasts (store.h says
 *    why seconds), with a random pause that doubles up to 128-256 ms so that two
 *    conflicting writers do not meet again at once. The pause blocks the calling thread,
 *    which is fine: SQLite, the store whose handlers run on the event loop, never returns
 *    STORE_RETRY, and MongoDB handlers run on worker threads.
 *  - The thread-local message behind store_errmsg().
 *  - Loading the MongoDB backend. It is a plugin, tizza-store-mongo.so, so that a binary
 *    on SQLite never maps libmongoc/libbson (and their TLS stack): that alone is ~5.6 MB
 *    of resident memory, more than the rest of tizza-auth's private memory. The first
 *    mongodb:// store_open() dlopen()s it (under pthread_once) from $TIZZA_LIB_DIR, else
 *    from <directory of /proc/self/exe>/../lib, and takes its table from the one exported
 *    function (STORE_MONGO_ENTRY). When that fails, store_open() fails naming the path
 *    tried. The plugin is never dlclose()d: libmongoc's exit-time cleanup and
 *    LeakSanitizer's stack traces both need its code mapped until the process ends.
 *
 *    The plugin calls back into one libcommon function, store_fail() (it must: the message
 *    lives in this file's thread-local store_err). The executables export exactly that
 *    symbol (-Wl,--export-dynamic-symbol=store_fail, PLUGIN_EXPORTS in the Makefile), and
 *    the plugin is dlopen()ed RTLD_NOW, so a plugin needing anything more fails to load
 *    with the missing symbol's name. The alternatives are worse: -rdynamic would export
 *    every libcommon symbol of every binary (a larger dynamic symbol table in each
 *    process, and a plugin free to grow hidden dependencies); compiling helpers into the
 *    plugin would give it its own copy of store_err, so its messages would never reach
 *    store_errmsg().
 */
#include "alloc.h"
#include "config.h"
#include "log.h"
#include "store_internal.h"
#include "util.h"

#include <ctype.h>
#include <dlfcn.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static _Thread_local char store_err[512];
/* A STORE_RETRY was reported since this thread's last store_begin(): the transaction is
 * doomed (MongoDB aborted it), whatever its code made of the error; store_transact() runs
 * it again. */
static _Thread_local bool txn_conflict;

int store_fail(int rc, const char *fmt, ...) {
    if (rc == STORE_RETRY) txn_conflict = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(store_err, sizeof store_err, fmt, ap);
    va_end(ap);
    return rc;
}

const char *store_errmsg(void) { return store_err; }

/* ---- names ------------------------------------------------------------------------- */

static bool name_ok(const char *name) {
    if (!name || !*name || strlen(name) > STORE_NAME_MAX) return false;
    if (isdigit((unsigned char)name[0])) return false;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_') return false;
    return true;
}

static bool coll_ok(const char *coll) {
    /* sqlite_ names are reserved by SQLite; system. by MongoDB. */
    return name_ok(coll) && strncmp(coll, "sqlite_", 7) != 0;
}

/* MongoDB database names: letters, digits, '_' and '-'. */
static bool dbname_ok(const char *name) {
    if (!name || !*name || strlen(name) > 63) return false;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-') return false;
    return true;
}

/* Parses "a,-b" into keys. With sort, "-" means descending and "id" is appended when
 * missing; without, the fields are index fields. Returns false on a malformed list. */
static bool keys_parse(const char *list, bool sort, struct store_keys *out) {
    memset(out, 0, sizeof *out);
    for (const char *p = list ? list : ""; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len && isspace((unsigned char)*p)) p++, len--;
        while (len && isspace((unsigned char)p[len - 1])) len--;
        bool desc = sort && len && *p == '-';
        if (desc) p++, len--;
        if (out->n == STORE_KEYS_MAX || len == 0 || len > STORE_NAME_MAX) return false;
        memcpy(out->k[out->n].field, p, len);
        out->k[out->n].field[len] = '\0';
        out->k[out->n].desc = desc;
        if (!name_ok(out->k[out->n].field)) return false;
        for (int i = 0; i < out->n; i++)
            if (!strcmp(out->k[i].field, out->k[out->n].field)) return false;
        out->n++;
        if (!end) break;
        p = end + 1;
        if (!*p) return false; /* trailing comma */
    }
    if (!sort) return out->n > 0;
    for (int i = 0; i < out->n; i++)
        if (!strcmp(out->k[i].field, "id")) return true;
    strcpy(out->k[out->n].field, "id");
    out->k[out->n++].desc = false;
    return true;
}

/* ---- per-thread state -------------------------------------------------------------- */

static void tls_unlink(store_t *s, struct store_tls *t) {
    pthread_mutex_lock(&s->mu);
    for (struct store_tls **pp = &s->threads; *pp; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    }
    pthread_mutex_unlock(&s->mu);
}

/* Key destructor: the thread exits. */
static void tls_exit(void *p) {
    struct store_tls *t = p;
    store_t *s = t->owner;
    tls_unlink(s, t);
    s->ops->tls_close(s, t);
}

static struct store_tls *tls_get(store_t *s) {
    struct store_tls *t = pthread_getspecific(s->key);
    if (t) return t;
    t = s->ops->tls_open(s);
    if (!t) return NULL;
    t->owner = s;
    t->in_txn = false;
    pthread_mutex_lock(&s->mu);
    t->next = s->threads;
    s->threads = t;
    pthread_mutex_unlock(&s->mu);
    if (pthread_setspecific(s->key, t) != 0) {
        tls_unlink(s, t);
        s->ops->tls_close(s, t);
        store_fail(STORE_ERR, "store: pthread_setspecific failed");
        return NULL;
    }
    return t;
}

/* Common entry of every operation: checks s and, for collection operations, coll; returns
 * the thread's connection or NULL (with the message set). */
static struct store_tls *enter_any(store_t *s, bool has_coll, const char *coll, const char *what) {
    if (!s) {
        store_fail(STORE_ERR, "%s: no store", what);
        return NULL;
    }
    if (has_coll && !coll_ok(coll)) {
        store_fail(STORE_ERR, "%s: bad collection name \"%s\"", what, coll ? coll : "(null)");
        return NULL;
    }
    return tls_get(s);
}

static struct store_tls *enter(store_t *s, const char *coll, const char *what) {
    return enter_any(s, true, coll, what);
}

static bool filter_ok(const store_filter_t *f, const char *what) {
    if (f && f->error) {
        store_fail(STORE_ERR, "%s: bad filter: %s", what, f->error);
        return false;
    }
    return true;
}

/* ---- the MongoDB plugin ------------------------------------------------------------ */

static pthread_once_t mongo_once = PTHREAD_ONCE_INIT;
static const struct store_ops *mongo_ops; /* set once by mongo_load, or NULL */
static char mongo_err[PATH_MAX + 256];    /* why mongo_ops is NULL */

const config_var_t store_config_vars[] = {
    {.name = "STORE_URL",
     .type = CONFIG_STR,
     .def_doc = "sqlite://./var/<service>.db",
     .help = "sqlite:///abs/path.db, sqlite://./rel/path.db or mongodb://..."},
    {.name = "TIZZA_LIB_DIR",
     .type = CONFIG_STR,
     .def_doc = "<binary dir>/../lib",
     .help = "where the MongoDB store plugin (" STORE_MONGO_PLUGIN ") is"},
    {.name = NULL},
};

/* <dir>/STORE_MONGO_PLUGIN, dir being $TIZZA_LIB_DIR or <exe dir>/../lib. */
static bool mongo_path(char *path, size_t len) {
    config_declare(store_config_vars);
    const char *dir = config_str("TIZZA_LIB_DIR");
    if (dir) return (size_t)snprintf(path, len, "%s/%s", dir, STORE_MONGO_PLUGIN) < len;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return false;
    exe[n] = '\0';
    for (int up = 0; up < 2; up++) { /* strip the file name, then its directory */
        char *slash = strrchr(exe, '/');
        if (!slash) return false;
        *slash = '\0';
    }
    return (size_t)snprintf(path, len, "%s/lib/%s", exe, STORE_MONGO_PLUGIN) < len;
}

static void mongo_load(void) {
    char path[PATH_MAX];
    if (!mongo_path(path, sizeof path)) {
        snprintf(mongo_err, sizeof mongo_err,
                 "store: cannot locate the MongoDB backend %s (set TIZZA_LIB_DIR)",
                 STORE_MONGO_PLUGIN);
        return;
    }
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL); /* never closed, see the top */
    if (!h) {
        const char *why = dlerror();
        size_t n = strlen(path);
        if (!strncmp(why, path, n) && !strncmp(why + n, ": ", 2)) why += n + 2; /* no repeat */
        snprintf(mongo_err, sizeof mongo_err,
                 "store: cannot load the MongoDB backend plugin %s: %s", path, why);
        return;
    }
    const struct store_ops *(*entry)(void) =
        (const struct store_ops *(*)(void))dlsym(h, STORE_MONGO_ENTRY);
    mongo_ops = entry ? entry() : NULL;
    if (!mongo_ops)
        snprintf(mongo_err, sizeof mongo_err, "store: the MongoDB backend plugin %s %s %s()", path,
                 entry ? "returned no table from" : "does not export", STORE_MONGO_ENTRY);
}

/* ---- open / close ------------------------------------------------------------------ */

static void put_err(char *err, size_t errlen, const char *msg) {
    if (err && errlen) snprintf(err, errlen, "%s", msg);
}

static bool is_mongo_url(const char *url) {
    return !strncmp(url, "mongodb://", 10) || !strncmp(url, "mongodb+srv://", 14);
}

store_t *store_open(const char *url, const char *dbname, char *err, size_t errlen) {
    const struct store_ops *ops = NULL;
    bool mongo = url && is_mongo_url(url);
    if (url && !strncmp(url, "sqlite://", 9)) ops = &store_sqlite_ops;
    if (!ops && !mongo) {
        put_err(err, errlen, "store: unsupported url (want sqlite://PATH or mongodb://...)");
        return NULL;
    }
    if (!dbname_ok(dbname)) {
        put_err(err, errlen, "store: bad database name");
        return NULL;
    }
    if (mongo) {
        pthread_once(&mongo_once, mongo_load);
        if (!(ops = mongo_ops)) {
            put_err(err, errlen, mongo_err);
            return NULL;
        }
    }
    store_t *s = xcalloc(1, sizeof *s);
    s->ops = ops;
    pthread_mutex_init(&s->mu, NULL);
    if (pthread_key_create(&s->key, tls_exit) != 0) {
        put_err(err, errlen, "store: pthread_key_create failed");
        pthread_mutex_destroy(&s->mu);
        free(s);
        return NULL;
    }
    if (ops->open(s, url, dbname, err, errlen) != STORE_OK) {
        pthread_key_delete(s->key);
        pthread_mutex_destroy(&s->mu);
        free(s);
        return NULL;
    }
    return s;
}

void store_close(store_t *s) {
    if (!s) return;
    pthread_setspecific(s->key, NULL);
    pthread_key_delete(s->key);
    pthread_mutex_lock(&s->mu);
    struct store_tls *t = s->threads;
    s->threads = NULL;
    pthread_mutex_unlock(&s->mu);
    while (t) {
        struct store_tls *next = t->next;
        s->ops->tls_close(s, t);
        t = next;
    }
    s->ops->close(s);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

const char *store_backend(const store_t *s) { return s ? s->ops->name : "none"; }

int store_ping(store_t *s) {
    struct store_tls *t = enter_any(s, false, NULL, "ping");
    return t ? s->ops->ping(s, t) : STORE_ERR;
}

int store_ensure_collection(store_t *s, const char *coll) {
    struct store_tls *t = enter(s, coll, "ensure_collection");
    return t ? s->ops->ensure_collection(s, t, coll) : STORE_ERR;
}

int store_ensure_index(store_t *s, const char *coll, const char *fields, bool unique) {
    struct store_tls *t = enter(s, coll, "ensure_index");
    if (!t) return STORE_ERR;
    struct store_keys keys;
    if (!keys_parse(fields, false, &keys))
        return store_fail(STORE_ERR, "ensure_index: bad field list \"%s\"", fields ? fields : "");
    return s->ops->ensure_index(s, t, coll, &keys, unique);
}

/* ---- documents --------------------------------------------------------------------- */

int store_insert(store_t *s, const char *coll, const cJSON *doc) {
    struct store_tls *t = enter(s, coll, "insert");
    if (!t) return STORE_ERR;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(doc, "id");
    if (!cJSON_IsObject(doc) || !cJSON_IsString(id) || !id->valuestring[0])
        return store_fail(STORE_ERR, "insert: the document needs a non-empty string \"id\"");
    return s->ops->insert(s, t, coll, doc);
}

int store_get(store_t *s, const char *coll, const char *id, cJSON **out) {
    if (out) *out = NULL;
    struct store_tls *t = enter(s, coll, "get");
    if (!t) return STORE_ERR;
    if (!id || !out) return store_fail(STORE_ERR, "get: no id or no output");
    /* a get is a find by id, limit 1: one code path per backend */
    struct store_cond cond = {"id", STORE_EQ, cJSON_CreateStringReference(id)};
    struct store_keys sort = {.n = 1, .k = {{"id", false}}};
    store_filter_t f = {.conds = &cond, .n = 1};
    cJSON *arr = NULL;
    int rc = s->ops->find(s, t, coll, &f, &sort, 1, 0, &arr);
    cJSON_Delete(cond.value);
    if (rc != STORE_OK) return rc;
    *out = cJSON_DetachItemFromArray(arr, 0);
    cJSON_Delete(arr);
    return *out ? STORE_OK : STORE_NOTFOUND;
}

int store_find(store_t *s, const char *coll, const store_filter_t *f, const char *sort, long limit,
               long offset, cJSON **out) {
    if (out) *out = NULL;
    struct store_tls *t = enter(s, coll, "find");
    if (!t) return STORE_ERR;
    if (!out) return store_fail(STORE_ERR, "find: no output");
    if (!filter_ok(f, "find")) return STORE_ERR;
    struct store_keys keys;
    if (!keys_parse(sort, true, &keys)) return store_fail(STORE_ERR, "find: bad sort \"%s\"", sort);
    return s->ops->find(s, t, coll, f, &keys, limit, offset < 0 ? 0 : offset, out);
}

int store_find_one(store_t *s, const char *coll, const store_filter_t *f, cJSON **out) {
    cJSON *all = NULL;
    if (out) *out = NULL;
    if (!out) return store_fail(STORE_ERR, "find_one: no output");
    int rc = store_find(s, coll, f, NULL, 1, 0, &all);
    if (rc != STORE_OK) return rc;
    *out = cJSON_DetachItemFromArray(all, 0);
    cJSON_Delete(all);
    return *out ? STORE_OK : STORE_NOTFOUND;
}

int store_count(store_t *s, const char *coll, const store_filter_t *f, long *out) {
    if (out) *out = 0;
    struct store_tls *t = enter(s, coll, "count");
    if (!t) return STORE_ERR;
    if (!out) return store_fail(STORE_ERR, "count: no output");
    if (!filter_ok(f, "count")) return STORE_ERR;
    return s->ops->count(s, t, coll, f, out);
}

int store_page(store_t *s, const char *coll, const store_filter_t *f, const char *sort, long limit,
               long offset, long *count, cJSON **out) {
    *out = NULL;
    int rc = count ? store_count(s, coll, f, count) : STORE_OK;
    if (rc == STORE_OK) rc = store_find(s, coll, f, sort, limit, offset, out);
    if (rc != STORE_OK) {
        cJSON_Delete(*out);
        *out = NULL;
    }
    return rc;
}

/* set / inc: objects of identifiers, not "id", disjoint, inc values numbers. */
static bool update_ok(const cJSON *set, const cJSON *inc) {
    const cJSON *objs[2] = {set, inc};
    for (int i = 0; i < 2; i++) {
        if (!objs[i]) continue;
        if (!cJSON_IsObject(objs[i])) {
            store_fail(STORE_ERR, "update: %s must be an object", i ? "inc" : "set");
            return false;
        }
        const cJSON *m;
        cJSON_ArrayForEach(m, objs[i]) {
            if (!name_ok(m->string) || !strcmp(m->string, "id")) {
                store_fail(STORE_ERR, "update: cannot change field \"%s\"",
                           m->string ? m->string : "");
                return false;
            }
            if (i == 1 && !cJSON_IsNumber(m)) {
                store_fail(STORE_ERR, "update: inc of \"%s\" is not a number", m->string);
                return false;
            }
            if (i == 1 && cJSON_GetObjectItemCaseSensitive(set, m->string)) {
                store_fail(STORE_ERR, "update: \"%s\" both set and incremented", m->string);
                return false;
            }
        }
    }
    return true;
}

int store_update(store_t *s, const char *coll, const store_filter_t *f, const cJSON *set,
                 const cJSON *inc, long *matched) {
    long dummy;
    if (!matched) matched = &dummy;
    *matched = 0;
    struct store_tls *t = enter(s, coll, "update");
    if (!t) return STORE_ERR;
    if (!filter_ok(f, "update") || !update_ok(set, inc)) return STORE_ERR;
    if (!cJSON_GetArraySize(set) && !cJSON_GetArraySize(inc))
        return s->ops->count(s, t, coll, f, matched);
    cJSON *empty = cJSON_CreateObject();
    int rc = s->ops->update(s, t, coll, f, set ? set : empty, inc ? inc : empty, matched);
    cJSON_Delete(empty);
    return rc;
}

int store_delete(store_t *s, const char *coll, const store_filter_t *f, long *deleted) {
    long dummy;
    if (!deleted) deleted = &dummy;
    *deleted = 0;
    struct store_tls *t = enter(s, coll, "delete");
    if (!t) return STORE_ERR;
    if (!filter_ok(f, "delete")) return STORE_ERR;
    return s->ops->delete (s, t, coll, f, deleted);
}

int store_update_id(store_t *s, const char *coll, const char *id, const cJSON *set,
                    const cJSON *inc) {
    store_filter_t *f = store_filter_new();
    store_where_str(f, "id", STORE_EQ, id);
    long matched = 0;
    int rc = store_update(s, coll, f, set, inc, &matched);
    store_filter_free(f);
    return rc == STORE_OK && matched == 0 ? STORE_NOTFOUND : rc;
}

int store_delete_id(store_t *s, const char *coll, const char *id) {
    struct store_tls *t = enter(s, coll, "delete_id");
    if (!t) return STORE_ERR;
    if (!id) return store_fail(STORE_ERR, "delete_id: no id");
    /* a delete by id is a delete with an id filter, like store_get is a find */
    struct store_cond cond = {"id", STORE_EQ, cJSON_CreateStringReference(id)};
    store_filter_t f = {.conds = &cond, .n = 1};
    long n = 0;
    int rc = cond.value ? s->ops->delete (s, t, coll, &f, &n) : STORE_ERR;
    cJSON_Delete(cond.value);
    return rc == STORE_OK && n == 0 ? STORE_NOTFOUND : rc;
}

int store_sample(store_t *s, const char *coll, const store_filter_t *f, long n, cJSON **out) {
    if (out) *out = NULL;
    struct store_tls *t = enter(s, coll, "sample");
    if (!t) return STORE_ERR;
    if (!out) return store_fail(STORE_ERR, "sample: no output");
    if (!filter_ok(f, "sample")) return STORE_ERR;
    if (n <= 0) {
        *out = cJSON_CreateArray();
        return STORE_OK;
    }
    return s->ops->sample(s, t, coll, f, n, out);
}

/* ---- transactions ------------------------------------------------------------------ */

int store_begin(store_t *s) {
    struct store_tls *t = enter_any(s, false, NULL, "begin");
    if (!t) return STORE_ERR;
    if (t->in_txn) return store_fail(STORE_ERR, "begin: already in a transaction");
    txn_conflict = false;
    int rc = s->ops->begin(s, t);
    t->in_txn = rc == STORE_OK;
    return rc;
}

static int txn_end(store_t *s, bool commit) {
    struct store_tls *t = s ? pthread_getspecific(s->key) : NULL;
    if (!t || !t->in_txn)
        return store_fail(STORE_ERR, "%s: no transaction", commit ? "commit" : "rollback");
    t->in_txn = false;
    return commit ? s->ops->commit(s, t) : s->ops->rollback(s, t);
}

int store_commit(store_t *s) { return txn_end(s, true); }
int store_rollback(store_t *s) { return txn_end(s, false); }

bool store_in_txn(store_t *s) {
    struct store_tls *t = s ? pthread_getspecific(s->key) : NULL;
    return t && t->in_txn;
}

/* Before run `tries` + 1 (tries >= 1): a random 2^(k-1)..2^k ms, k = min(tries, 8). */
static void transact_pause(int tries) {
    long us = jitter_half(1000L << (tries < 8 ? tries : 8));
    struct timespec ts = {us / 1000000, us % 1000000 * 1000};
    nanosleep(&ts, NULL);
}

/* fn's code is one of enum store_rc (store.h: a caller's own outcome goes into its arg). */
static store_rc_t txn_code(int rc) {
    switch (rc) {
    case STORE_OK:
    case STORE_NOTFOUND:
    case STORE_CONFLICT:
    case STORE_RETRY:
    case STORE_ABORTED:
    case STORE_ERR: return rc;
    }
    log_msg(LOG_ERROR, "store_transact: the function returned %d, no store code", rc);
    abort();
}

void store_set_transact_budget(store_t *s, long ms) { s->transact_budget_ms = ms; }

store_rc_t store_transact(store_t *s, store_txn_fn fn, void *arg) {
    int rc = STORE_RETRY;
    uint64_t start = mono_ns();
    long budget = s && s->transact_budget_ms > 0 ? s->transact_budget_ms : STORE_TRANSACT_BUDGET_MS;
    for (int tries = 0; rc == STORE_RETRY; tries++) {
        if (tries) {
            transact_pause(tries);
            if (mono_ns() - start >= (uint64_t)budget * 1000000) break;
        }
        rc = store_begin(s);
        if (rc != STORE_OK) continue; /* STORE_RETRY runs again, anything else ends */
        rc = txn_code(fn(s, arg));
        if (rc != STORE_OK && txn_conflict) rc = STORE_RETRY; /* however fn reported it */
        if (rc == STORE_OK) {
            rc = store_commit(s); /* ends the transaction, failed or not */
        } else if (store_in_txn(s)) {
            char why[sizeof store_err];
            memcpy(why, store_err, sizeof why);
            store_rollback(s);
            memcpy(store_err, why, sizeof why);
        }
    }
    return rc;
}

/* ---- filters ----------------------------------------------------------------------- */

store_filter_t *store_filter_new(void) { return xcalloc(1, sizeof(store_filter_t)); }

void store_filter_free(store_filter_t *f) {
    if (!f) return;
    for (int i = 0; i < f->n; i++) {
        free(f->conds[i].field);
        cJSON_Delete(f->conds[i].value);
    }
    free(f->conds);
    free(f->error);
    free(f);
}

static bool scalar(const cJSON *v) {
    return cJSON_IsString(v) || cJSON_IsNumber(v) || cJSON_IsBool(v);
}

/* NULL when (op, v) is a valid condition, else why not. */
static const char *cond_problem(enum store_op op, const cJSON *v) {
    const cJSON *item;
    switch (op) {
    case STORE_EQ:
    case STORE_NE: return scalar(v) || cJSON_IsNull(v) ? NULL : "value must be a scalar";
    case STORE_PREFIX: return cJSON_IsString(v) ? NULL : "prefix must be a string";
    case STORE_CONTAINS: return cJSON_IsString(v) ? NULL : "contains needs a string";
    case STORE_IN:
    case STORE_NIN:
        if (!cJSON_IsArray(v)) return "in/nin needs an array";
        cJSON_ArrayForEach(item, v) {
            if (!scalar(item)) return "in/nin values must be scalars";
        }
        return NULL;
    case STORE_LT:
    case STORE_LTE:
    case STORE_GT:
    case STORE_GTE:
        return cJSON_IsString(v) || cJSON_IsNumber(v) ? NULL : "range needs a string or number";
    }
    return "unknown operator";
}

static void filter_error(store_filter_t *f, const char *field, const char *why) {
    if (f->error) return;
    size_t n = strlen(why) + (field ? strlen(field) : 4) + 8;
    f->error = xmalloc(n);
    snprintf(f->error, n, "%s: %s", field ? field : "null", why);
}

void store_where(store_filter_t *f, const char *field, enum store_op op, cJSON *v) {
    if (!f) {
        cJSON_Delete(v);
        return;
    }
    const char *why = !v ? "no value" : !name_ok(field) ? "bad field name" : cond_problem(op, v);
    if (why) {
        filter_error(f, field, why);
        cJSON_Delete(v);
        return;
    }
    if (f->n == f->cap) {
        int cap = f->cap ? f->cap * 2 : 4;
        f->conds = xrealloc(f->conds, (size_t)cap * sizeof *f->conds);
        f->cap = cap;
    }
    struct store_cond *c = &f->conds[f->n++];
    c->field = xstrdup(field);
    c->op = op;
    c->value = v;
}

void store_where_str(store_filter_t *f, const char *field, enum store_op op, const char *v) {
    store_where(f, field, op, v ? cJSON_CreateString(v) : NULL);
}

void store_where_num(store_filter_t *f, const char *field, enum store_op op, double v) {
    store_where(f, field, op, cJSON_CreateNumber(v));
}

void store_where_bool(store_filter_t *f, const char *field, bool v) {
    store_where(f, field, STORE_EQ, cJSON_CreateBool(v));
}

void store_where_in(store_filter_t *f, const char *field, enum store_op op,
                    const char *const *values, int n) {
    cJSON *arr = (values || n == 0) && n >= 0 ? cJSON_CreateArray() : NULL;
    for (int i = 0; arr && i < n; i++) {
        cJSON *s = values[i] ? cJSON_CreateString(values[i]) : NULL;
        if (!s) {
            cJSON_Delete(arr);
            arr = NULL;
            break;
        }
        cJSON_AddItemToArray(arr, s);
    }
    store_where(f, field, op, arr);
}
