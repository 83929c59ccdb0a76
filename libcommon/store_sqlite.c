/* store_sqlite -- the SQLite backend of store.h (the default).
 *
 * Layout. One table per collection, `"coll"(id TEXT PRIMARY KEY, doc TEXT NOT NULL)`, doc
 * being the whole document as JSON (including "id"). Fields are addressed with
 * json_extract(doc,'$.field'); indexes are expression indexes on exactly that expression,
 * so filters and sorts can use them and unique indexes enforce uniqueness (rows missing a
 * field hold NULL there, and NULLs never collide). Field and collection names are
 * identifiers (checked by store.c) and are written into the SQL text; values are always
 * bound parameters.
 *
 * Types. json_extract() maps JSON true/false to 1/0 and strings, numbers, null to SQL
 * values, so every comparison is paired with a json_type() test: a string condition only
 * matches JSON strings, a number condition only numbers, a bool only true/false. That
 * keeps "1", 1 and true apart like MongoDB does. Negations (NE, NIN) are written as
 * NOT coalesce(<positive>, 0) so missing fields (NULL) match them. PREFIX is
 * substr(x, 1, length(p)) = p: case-sensitive, and '%' / '_' are plain characters.
 *
 * Updates are one UPDATE with json_set(doc, '$.a', json(?), ..., '$.n',
 * coalesce(json_extract(doc,'$.n'),0) + ?) (a non-integer sum goes back through
 * printf('%!.17g') so doubles survive): a statement is atomic, so a unique-index
 * violation changes nothing. sqlite3_changes() gives the number of matched rows.
 *
 * Numbers. cJSON's printer rounds some doubles to 15 digits (2^53, 0.1+0.2), so documents
 * are printed through sq_print(), which writes such numbers with their exact 16-17 digit
 * text; values bound to statements are int64 when integral (|v| <= 2^53), else double.
 *
 * Files. The database and the -wal and -shm files SQLite keeps next to it hold everything
 * the service stores (password hashes, auth's keys), so they are readable by their owner
 * only: store_open() creates the database itself with mode 0600 (exactly, whatever the
 * umask) before SQLite opens it, and SQLite creates -wal and -shm with the mode of the
 * database (unix VFS: it reads the database's mode and fchmod()s a new -wal/-shm to it, so
 * the umask does not matter there either). A database and -wal/-shm files that already
 * exist with group or other permissions (an older version made them 0644) are set to 0600
 * when this process owns them. Deleted content is overwritten with zeros (secure_delete=ON,
 * Debian's build default, set explicitly so no build leaves it off): a document deleted or
 * rewritten (auth's signing key when it is encrypted in place) leaves no copy in the file
 * once its page is checkpointed.
 *
 * Connections. Every thread gets its own connection (store.c's per-thread state), opened
 * with busy_timeout 5000 ms, synchronous=NORMAL, secure_delete=ON; the file is switched to
 * WAL once at store_open() (WAL is persistent). Transactions are BEGIN IMMEDIATE on the
 * calling thread's connection, so writers queue on the busy timeout instead of failing at
 * commit.
 * Each connection keeps a small LRU cache of prepared statements (keyed by SQL text) and
 * the set of tables it knows to exist: reads of a collection that does not exist yet
 * return nothing instead of creating it; writes create it. ":memory:" is a memdb database
 * ("file:/tizza-mem-N?vfs=memdb") shared by the store's connections and kept alive by an
 * extra anchor connection until store_close().
 *
 * Writers. SQLite has one writer at a time per file; a connection that finds the write lock
 * taken waits in its busy handler, which sleeps 1, 2, 5, 10 ... 100 ms between tries, far
 * longer than a write here takes (tens of microseconds): under concurrent writes that sleep
 * became the latency. So the threads of one process queue on a mutex of the store instead
 * (held from BEGIN IMMEDIATE to COMMIT/ROLLBACK, and around each write outside a
 * transaction) and are woken as soon as it is free; the busy timeout still covers another
 * process on the same file (a CLI subcommand next to the running service).
 *
 * Library settings, once before the first open (sq_configure): no memory statistics (with
 * them every sqlite3_malloc takes one process-wide mutex, which the loop and worker threads
 * then queue on), and no initial bulk allocation of page-cache lines per cache (each
 * ephemeral table -- an `IN (...)` list, for one -- gets a page cache, and a 20-line bulk
 * allocation per query was most of the cost of a small `id IN (...)` lookup: malloc, page
 * faults, and glibc trimming the heap again on free).
 */
#include "alloc.h"
#include "store_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SQ_BUSY_MS 5000
#define SQ_CACHE   48

struct sq_store {
    char *path;            /* file name or memdb URI */
    bool memory;           /* a memdb: open with SQLITE_OPEN_URI */
    sqlite3 *anchor;       /* memdb only: keeps the database alive */
    pthread_mutex_t write; /* held by this process's one writer (see "Writers") */
};

struct sq_stmt {
    char *sql;
    sqlite3_stmt *st;
    uint64_t used;
};

struct sq_conn {
    struct store_tls base; /* first */
    sqlite3 *db;
    char **tables; /* tables known to exist */
    int ntables, captables;
    uint64_t tick;
    struct sq_stmt cache[SQ_CACHE];
};

/* A statement being built: SQL text plus the values for ?1, ?2, ... */
struct sq_q {
    sqlite3_str *sql;
    cJSON *args;
    int nargs;
    bool by_id; /* the WHERE has an id = / id IN condition (see sq_where) */
};

static int sq_err(sqlite3 *db, const char *what) {
    int code = sqlite3_extended_errcode(db);
    if ((code & 0xff) == SQLITE_CONSTRAINT)
        return store_fail(STORE_CONFLICT, "%s: duplicate key (%s)", what, sqlite3_errmsg(db));
    return store_fail(STORE_ERR, "sqlite: %s: %s", what, sqlite3_errmsg(db));
}

/* ---- connections ------------------------------------------------------------------- */

static int sq_exec(sqlite3 *db, const char *sql) {
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? STORE_OK : sq_err(db, sql);
}

static pthread_once_t sq_config_once = PTHREAD_ONCE_INIT;

/* See "Library settings" above. Both are hints: a library initialised earlier by someone
 * else answers SQLITE_MISUSE and keeps its defaults. */
static void sq_configure(void) {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    sqlite3_config(SQLITE_CONFIG_PAGECACHE, (void *)NULL, 0, 0);
}

static sqlite3 *sq_connect(const struct sq_store *q) {
    pthread_once(&sq_config_once, sq_configure);
    sqlite3 *db = NULL;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (q->memory) flags |= SQLITE_OPEN_URI;
    int rc = sqlite3_open_v2(q->path, &db, flags, NULL);
    if (rc != SQLITE_OK) {
        store_fail(STORE_ERR, "sqlite: open %s: %s", q->path,
                   db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, SQ_BUSY_MS);
    if (sq_exec(db,
                "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=OFF; PRAGMA secure_delete=ON") !=
        STORE_OK) {
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

static struct store_tls *sq_tls_open(store_t *s) {
    struct sq_conn *c = xcalloc(1, sizeof *c);
    c->db = sq_connect(s->impl);
    if (!c->db) {
        free(c);
        return NULL;
    }
    return &c->base;
}

static void sq_forget_tables(struct sq_conn *c) {
    for (int i = 0; i < c->ntables; i++) free(c->tables[i]);
    c->ntables = 0;
}

static void sq_tls_close(store_t *s, struct store_tls *t) {
    struct sq_conn *c = (struct sq_conn *)t;
    for (int i = 0; i < SQ_CACHE; i++) {
        sqlite3_finalize(c->cache[i].st);
        free(c->cache[i].sql);
    }
    sq_forget_tables(c);
    free(c->tables);
    sqlite3_close_v2(c->db); /* rolls back an open transaction */
    free(c);
}

/* Creates every missing directory above path (mkdir -p of its parent). */
static int sq_mkdirs(const char *path, char *err, size_t errlen) {
    char *dir = xstrdup(path);
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "sqlite: cannot create directory %s: %s", dir, strerror(errno));
            free(dir);
            return STORE_ERR;
        }
        *p = '/';
    }
    free(dir);
    return STORE_OK;
}

/* See "Files" above: the database exists with mode 0600 before SQLite opens it, and an
 * existing database or -wal/-shm file loses its group and other permissions. */
static int sq_private_files(const char *path, char *err, size_t errlen) {
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "sqlite: cannot open %s: %s", path, strerror(errno));
        return STORE_ERR;
    }
    struct stat st;
    /* Not ours (EPERM): the owner chose; SQLite opens it all the same. */
    if (fstat(fd, &st) == 0 && (st.st_mode & 0777) != 0600) (void)fchmod(fd, 0600);
    close(fd);
    static const char *const suffixes[] = {"-wal", "-shm"};
    char side[4096];
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        int n = snprintf(side, sizeof side, "%s%s", path, suffixes[i]);
        if (n > 0 && (size_t)n < sizeof side && stat(side, &st) == 0 && (st.st_mode & 077))
            (void)chmod(side, st.st_mode & 0600);
    }
    return STORE_OK;
}

static int sq_open_fail(struct sq_store *q, char *err, size_t errlen, const char *msg) {
    if (err && errlen) snprintf(err, errlen, "%s", msg);
    if (q) {
        sqlite3_close(q->anchor);
        pthread_mutex_destroy(&q->write);
        free(q->path);
        free(q);
    }
    return STORE_ERR;
}

static int sq_open(store_t *s, const char *url, const char *dbname, char *err, size_t errlen) {
    static unsigned long memdbs;
    char tmp[256];
    const char *path = url + strlen("sqlite://");
    struct sq_store *q = xcalloc(1, sizeof *q);
    pthread_mutex_init(&q->write, NULL);
    if (!*path) return sq_open_fail(q, err, errlen, "sqlite: no path in url");
    q->memory = !strcmp(path, ":memory:");
    if (q->memory) {
        snprintf(tmp, sizeof tmp, "file:/tizza-mem-%ld-%lu?vfs=memdb", (long)getpid(),
                 __atomic_add_fetch(&memdbs, 1, __ATOMIC_RELAXED));
        path = tmp;
    } else if (sq_mkdirs(path, tmp, sizeof tmp) != STORE_OK ||
               sq_private_files(path, tmp, sizeof tmp) != STORE_OK) {
        return sq_open_fail(q, err, errlen, tmp);
    }
    q->path = xstrdup(path);
    /* One connection to check the file and switch it to WAL (kept for memdb). */
    q->anchor = sq_connect(q);
    if (!q->anchor) return sq_open_fail(q, err, errlen, store_errmsg());
    if (!q->memory) {
        if (sq_exec(q->anchor, "PRAGMA journal_mode=WAL") != STORE_OK)
            return sq_open_fail(q, err, errlen, store_errmsg());
        sqlite3_close(q->anchor);
        q->anchor = NULL;
    }
    s->impl = q;
    return STORE_OK;
}

static void sq_close(store_t *s) {
    struct sq_store *q = s->impl;
    sqlite3_close(q->anchor);
    pthread_mutex_destroy(&q->write);
    free(q->path);
    free(q);
}

/* ---- JSON text ----------------------------------------------------------------------- */

/* cJSON prints a number with 15 significant digits whenever that looks close enough by an
 * approximate comparison, so 2^53 becomes 9.00719925474099e+15 and 0.1+0.2 becomes 0.3.
 * When that would change the value, buf gets the shortest exact text (16 or 17 digits). */
static bool sq_exact_text(double d, char buf[32]) {
    if (!isfinite(d)) return false;
    snprintf(buf, 32, "%.15g", d);
    if (strtod(buf, NULL) == d) return false; /* cJSON's own text is exact */
    snprintf(buf, 32, "%.16g", d);
    if (strtod(buf, NULL) != d) snprintf(buf, 32, "%.17g", d);
    return true;
}

static bool sq_inexact(const cJSON *v) {
    char buf[32];
    const cJSON *c;
    if (cJSON_IsNumber(v)) return sq_exact_text(v->valuedouble, buf);
    cJSON_ArrayForEach(c, v) {
        if (sq_inexact(c)) return true;
    }
    return false;
}

/* Replaces every number cJSON would round with a raw item holding its exact text. */
static void sq_make_exact(cJSON *v) {
    char buf[32];
    cJSON *c = v->child;
    while (c) {
        cJSON *next = c->next, *raw;
        if (cJSON_IsNumber(c) && sq_exact_text(c->valuedouble, buf) &&
            (raw = cJSON_CreateRaw(buf))) {
            if (cJSON_IsObject(v))
                cJSON_ReplaceItemInObjectCaseSensitive(v, c->string, raw);
            else
                cJSON_ReplaceItemViaPointer(v, c, raw);
        } else {
            sq_make_exact(c);
        }
        c = next;
    }
}

/* Compact JSON text of v with exact numbers; malloc'd. */
static char *sq_print(const cJSON *v) {
    char buf[32];
    if (!sq_inexact(v)) return cJSON_PrintUnformatted(v);
    if (cJSON_IsNumber(v) && sq_exact_text(v->valuedouble, buf)) return xstrdup(buf);
    cJSON *copy = cJSON_Duplicate(v, true);
    sq_make_exact(copy);
    char *text = cJSON_PrintUnformatted(copy);
    cJSON_Delete(copy);
    return text;
}

/* ---- statements -------------------------------------------------------------------- */

/* The cached statement for sql, prepared on a miss (LRU eviction). NULL on error. */
static sqlite3_stmt *sq_prepare(struct sq_conn *c, const char *sql) {
    struct sq_stmt *victim = &c->cache[0];
    for (int i = 0; i < SQ_CACHE; i++) {
        struct sq_stmt *e = &c->cache[i];
        if (e->sql && !strcmp(e->sql, sql)) {
            e->used = ++c->tick;
            return e->st;
        }
        if (!e->sql || (victim->sql && e->used < victim->used)) victim = e;
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        sq_err(c->db, "prepare");
        return NULL;
    }
    char *copy = xstrdup(sql);
    sqlite3_finalize(victim->st);
    free(victim->sql);
    *victim = (struct sq_stmt){copy, st, ++c->tick};
    return st;
}

static void sq_bind(sqlite3_stmt *st, int i, const cJSON *v) {
    if (cJSON_IsString(v)) {
        sqlite3_bind_text(st, i, v->valuestring, -1, SQLITE_STATIC);
    } else if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (d >= -9007199254740992.0 && d <= 9007199254740992.0 && d == (double)(int64_t)d)
            sqlite3_bind_int64(st, i, (int64_t)d);
        else
            sqlite3_bind_double(st, i, d);
    } else if (cJSON_IsBool(v)) {
        sqlite3_bind_int(st, i, cJSON_IsTrue(v));
    } else {
        sqlite3_bind_null(st, i);
    }
}

static void sq_q_init(struct sq_q *q) {
    q->sql = sqlite3_str_new(NULL);
    q->args = cJSON_CreateArray();
    q->nargs = 0;
}

static void sq_q_free(struct sq_q *q) {
    sqlite3_free(sqlite3_str_finish(q->sql));
    cJSON_Delete(q->args);
}

/* Adds v (owned) as the next parameter; returns its number. */
static int sq_arg(struct sq_q *q, cJSON *v) {
    cJSON_AddItemToArray(q->args, v);
    return ++q->nargs;
}

/* Prepares q's SQL and binds its parameters. The statement stays owned by the cache:
 * the caller steps it and calls sq_done(). */
static sqlite3_stmt *sq_q_stmt(struct sq_conn *c, struct sq_q *q) {
    if (sqlite3_str_errcode(q->sql) != SQLITE_OK) { /* SQLite's own allocation failed */
        store_fail(STORE_ERR, "sqlite: out of memory");
        return NULL;
    }
    sqlite3_stmt *st = sq_prepare(c, sqlite3_str_value(q->sql));
    if (!st) return NULL;
    int i = 1;
    const cJSON *v;
    cJSON_ArrayForEach(v, q->args) { sq_bind(st, i++, v); }
    return st;
}

static void sq_done(sqlite3_stmt *st) {
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

/* Runs a statement that returns no rows (a write); outside a transaction under the store's
 * writer mutex (see "Writers"). */
static int sq_run(struct sq_conn *c, struct sq_q *q, const char *what) {
    sqlite3_stmt *st = sq_q_stmt(c, q);
    if (!st) return STORE_ERR;
    pthread_mutex_t *solo =
        c->base.in_txn ? NULL : &((struct sq_store *)c->base.owner->impl)->write;
    if (solo) pthread_mutex_lock(solo);
    int rc = sqlite3_step(st) == SQLITE_DONE ? STORE_OK : sq_err(c->db, what);
    sq_done(st);
    if (solo) pthread_mutex_unlock(solo);
    return rc;
}

/* ---- tables ------------------------------------------------------------------------ */

static bool sq_known(struct sq_conn *c, const char *coll) {
    for (int i = 0; i < c->ntables; i++)
        if (!strcmp(c->tables[i], coll)) return true;
    return false;
}

static void sq_remember(struct sq_conn *c, const char *coll) {
    if (c->ntables == c->captables) {
        int cap = c->captables ? c->captables * 2 : 8;
        c->tables = xrealloc(c->tables, (size_t)cap * sizeof *c->tables);
        c->captables = cap;
    }
    c->tables[c->ntables++] = xstrdup(coll);
}

/* 1 when the table exists (created first when create), 0 when it does not, or STORE_ERR. */
static int sq_table(struct sq_conn *c, const char *coll, bool create) {
    if (sq_known(c, coll)) return 1;
    struct sq_q q;
    sq_q_init(&q);
    int rc;
    if (create) {
        sqlite3_str_appendf(q.sql,
                            "CREATE TABLE IF NOT EXISTS \"%s\" "
                            "(id TEXT PRIMARY KEY, doc TEXT NOT NULL)",
                            coll);
        rc = sq_run(c, &q, "create table") == STORE_OK ? 1 : STORE_ERR;
    } else {
        sqlite3_str_appendall(q.sql, "SELECT 1 FROM sqlite_schema WHERE type='table' AND name=?1");
        sq_arg(&q, cJSON_CreateString(coll));
        sqlite3_stmt *st = sq_q_stmt(c, &q);
        rc = STORE_ERR;
        if (st) {
            int step = sqlite3_step(st);
            rc = step == SQLITE_ROW ? 1 : step == SQLITE_DONE ? 0 : sq_err(c->db, "schema");
            sq_done(st);
        }
    }
    sq_q_free(&q);
    if (rc == 1) sq_remember(c, coll);
    return rc;
}

/* Refuses to work on a connection whose transaction SQLite already rolled back. */
static struct sq_conn *sq_conn(struct store_tls *t) {
    struct sq_conn *c = (struct sq_conn *)t;
    if (t->in_txn && sqlite3_get_autocommit(c->db)) {
        store_fail(STORE_ERR, "sqlite: the transaction was rolled back by an earlier error");
        return NULL;
    }
    return c;
}

/* ---- filters ----------------------------------------------------------------------- */

static bool is_id(const char *field) { return !strcmp(field, "id"); }

/* The SQL value of field: the id column or json_extract(). */
static void sq_field(sqlite3_str *s, const char *field) {
    if (is_id(field))
        sqlite3_str_appendall(s, "id");
    else
        sqlite3_str_appendf(s, "json_extract(doc,'$.%s')", field);
}

/* A field in a WHERE condition. When the filter also pins the id, the other fields get a
 * unary + (a no-op on the value) so that SQLite looks rows up by the primary key instead of
 * walking an expression index with poor selectivity (e.g. visible_to = "public"). */
static void sq_wfield(struct sq_q *q, const char *field) {
    if (q->by_id && !is_id(field)) sqlite3_str_appendchar(q->sql, 1, '+');
    sq_field(q->sql, field);
}

/* " AND json_type(...) IN (...)" for a value of v's type; nothing for the id column. */
static void sq_type(sqlite3_str *s, const char *field, const cJSON *v) {
    if (is_id(field)) return;
    const char *types = cJSON_IsString(v)   ? "'text'"
                        : cJSON_IsNumber(v) ? "'integer','real'"
                        : cJSON_IsTrue(v)   ? "'true'"
                        : cJSON_IsFalse(v)  ? "'false'"
                                            : "'null'";
    sqlite3_str_appendf(s, " AND json_type(doc,'$.%s') IN (%s)", field, types);
}

/* field == v, typed. May be NULL (for a missing field): callers coalesce when negating. */
static void sq_eq(struct sq_q *q, const char *field, const cJSON *v) {
    if (is_id(field) && !cJSON_IsString(v)) {
        sqlite3_str_appendall(q->sql, "0");
        return;
    }
    if (cJSON_IsNull(v)) {
        sqlite3_str_appendf(q->sql, "json_type(doc,'$.%s') = 'null'", field);
        return;
    }
    sqlite3_str_appendchar(q->sql, 1, '(');
    sq_wfield(q, field);
    if (cJSON_IsBool(v))
        sqlite3_str_appendf(q->sql, " = %d", cJSON_IsTrue(v));
    else
        sqlite3_str_appendf(q->sql, " = ?%d", sq_arg(q, cJSON_Duplicate(v, false)));
    sq_type(q->sql, field, v);
    sqlite3_str_appendchar(q->sql, 1, ')');
}

/* Homogeneous string (or number) lists become `x IN (?,?)`, others an OR of equalities. */
static void sq_in(struct sq_q *q, const char *field, const cJSON *arr) {
    const cJSON *v, *first = arr->child;
    if (!first) {
        sqlite3_str_appendall(q->sql, "0");
        return;
    }
    bool same = cJSON_IsString(first) || (cJSON_IsNumber(first) && !is_id(field));
    cJSON_ArrayForEach(v, arr) { same = same && (v->type & 0xff) == (first->type & 0xff); }
    if (!same) {
        sqlite3_str_appendchar(q->sql, 1, '(');
        cJSON_ArrayForEach(v, arr) {
            if (v != first) sqlite3_str_appendall(q->sql, " OR ");
            sq_eq(q, field, v);
        }
        sqlite3_str_appendchar(q->sql, 1, ')');
        return;
    }
    sqlite3_str_appendchar(q->sql, 1, '(');
    sq_wfield(q, field);
    sqlite3_str_appendall(q->sql, " IN (");
    cJSON_ArrayForEach(v, arr) {
        sqlite3_str_appendf(q->sql, "%s?%d", v == first ? "" : ",",
                            sq_arg(q, cJSON_Duplicate(v, false)));
    }
    sqlite3_str_appendchar(q->sql, 1, ')');
    sq_type(q->sql, field, first);
    sqlite3_str_appendchar(q->sql, 1, ')');
}

static void sq_cond(struct sq_q *q, const struct store_cond *c) {
    static const char *const cmp[] = {
        [STORE_LT] = "<", [STORE_LTE] = "<=", [STORE_GT] = ">", [STORE_GTE] = ">="};
    int n;
    switch (c->op) {
    case STORE_EQ: sq_eq(q, c->field, c->value); break;
    case STORE_IN: sq_in(q, c->field, c->value); break;
    case STORE_NE:
    case STORE_NIN:
        sqlite3_str_appendall(q->sql, "NOT coalesce(");
        if (c->op == STORE_NE)
            sq_eq(q, c->field, c->value);
        else
            sq_in(q, c->field, c->value);
        sqlite3_str_appendall(q->sql, ", 0)");
        break;
    case STORE_PREFIX:
        n = sq_arg(q, cJSON_Duplicate(c->value, false));
        sqlite3_str_appendall(q->sql, "(substr(");
        sq_wfield(q, c->field);
        sqlite3_str_appendf(q->sql, ", 1, length(?%d)) = ?%d", n, n);
        sq_type(q->sql, c->field, c->value);
        sqlite3_str_appendchar(q->sql, 1, ')');
        break;
    case STORE_CONTAINS:
        n = sq_arg(q, cJSON_Duplicate(c->value, false));
        sqlite3_str_appendall(q->sql, "(instr(");
        sq_wfield(q, c->field);
        sqlite3_str_appendf(q->sql, ", ?%d) > 0", n);
        sq_type(q->sql, c->field, c->value);
        sqlite3_str_appendchar(q->sql, 1, ')');
        break;
    case STORE_LT:
    case STORE_LTE:
    case STORE_GT:
    case STORE_GTE:
        if (is_id(c->field) && !cJSON_IsString(c->value)) {
            sqlite3_str_appendall(q->sql, "0");
            break;
        }
        sqlite3_str_appendchar(q->sql, 1, '(');
        sq_wfield(q, c->field);
        sqlite3_str_appendf(q->sql, " %s ?%d", cmp[c->op],
                            sq_arg(q, cJSON_Duplicate(c->value, false)));
        sq_type(q->sql, c->field, c->value);
        sqlite3_str_appendchar(q->sql, 1, ')');
        break;
    }
}

static void sq_where(struct sq_q *q, const store_filter_t *f) {
    q->by_id = false;
    for (int i = 0; f && i < f->n; i++)
        if (is_id(f->conds[i].field) && (f->conds[i].op == STORE_EQ || f->conds[i].op == STORE_IN))
            q->by_id = true;
    for (int i = 0; f && i < f->n; i++) {
        sqlite3_str_appendall(q->sql, i ? " AND " : " WHERE ");
        sq_cond(q, &f->conds[i]);
    }
}

/* Steps a SELECT doc ... statement into a new array. */
static int sq_docs(struct sq_conn *c, struct sq_q *q, cJSON **out) {
    sqlite3_stmt *st = sq_q_stmt(c, q);
    if (!st) return STORE_ERR;
    cJSON *arr = cJSON_CreateArray();
    int rc = STORE_OK;
    int step;
    while (rc == STORE_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        cJSON *doc = cJSON_ParseWithLength((const char *)sqlite3_column_text(st, 0),
                                           (size_t)sqlite3_column_bytes(st, 0));
        if (!doc)
            rc = store_fail(STORE_ERR, "sqlite: stored document is not JSON");
        else
            cJSON_AddItemToArray(arr, doc);
    }
    if (rc == STORE_OK && step != SQLITE_DONE) rc = sq_err(c->db, "select");
    sq_done(st);
    if (rc != STORE_OK)
        cJSON_Delete(arr);
    else
        *out = arr;
    return rc;
}

/* ---- operations -------------------------------------------------------------------- */

static int sq_ping(store_t *s, struct store_tls *t) {
    struct sq_conn *c = sq_conn(t);
    return c ? sq_exec(c->db, "SELECT 1") : STORE_ERR;
}

static int sq_ensure_collection(store_t *s, struct store_tls *t, const char *coll) {
    struct sq_conn *c = sq_conn(t);
    return c && sq_table(c, coll, true) == 1 ? STORE_OK : STORE_ERR;
}

static int sq_ensure_index(store_t *s, struct store_tls *t, const char *coll,
                           const struct store_keys *fields, bool unique) {
    struct sq_conn *c = sq_conn(t);
    if (!c || sq_table(c, coll, true) != 1) return STORE_ERR;
    if (fields->n == 1 && is_id(fields->k[0].field)) return STORE_OK; /* the primary key */
    struct sq_q q;
    sq_q_init(&q);
    sqlite3_str_appendf(q.sql, "CREATE %sINDEX IF NOT EXISTS \"%s", unique ? "UNIQUE " : "", coll);
    for (int i = 0; i < fields->n; i++) sqlite3_str_appendf(q.sql, "__%s", fields->k[i].field);
    sqlite3_str_appendf(q.sql, "%s\" ON \"%s\"(", unique ? "__u" : "", coll);
    for (int i = 0; i < fields->n; i++) {
        if (i) sqlite3_str_appendchar(q.sql, 1, ',');
        sq_field(q.sql, fields->k[i].field);
    }
    sqlite3_str_appendchar(q.sql, 1, ')');
    int rc = sq_run(c, &q, "create index");
    sq_q_free(&q);
    return rc;
}

static int sq_insert(store_t *s, struct store_tls *t, const char *coll, const cJSON *doc) {
    struct sq_conn *c = sq_conn(t);
    if (!c || sq_table(c, coll, true) != 1) return STORE_ERR;
    char *text = sq_print(doc);
    struct sq_q q;
    sq_q_init(&q);
    sqlite3_str_appendf(q.sql, "INSERT INTO \"%s\"(id, doc) VALUES (?1, ?2)", coll);
    sq_arg(&q,
           cJSON_CreateStringReference(cJSON_GetObjectItemCaseSensitive(doc, "id")->valuestring));
    sq_arg(&q, cJSON_CreateStringReference(text));
    int rc = sq_run(c, &q, "insert");
    sq_q_free(&q);
    free(text);
    return rc;
}

static int sq_find(store_t *s, struct store_tls *t, const char *coll, const store_filter_t *f,
                   const struct store_keys *sort, long limit, long offset, cJSON **out) {
    struct sq_conn *c = sq_conn(t);
    if (!c) return STORE_ERR;
    int exists = sq_table(c, coll, false);
    if (exists != 1) {
        *out = exists ? NULL : cJSON_CreateArray();
        return *out ? STORE_OK : STORE_ERR;
    }
    struct sq_q q;
    sq_q_init(&q);
    sqlite3_str_appendf(q.sql, "SELECT doc FROM \"%s\"", coll);
    sq_where(&q, f);
    for (int i = 0; i < sort->n; i++) {
        sqlite3_str_appendall(q.sql, i ? ", " : " ORDER BY ");
        sq_field(q.sql, sort->k[i].field);
        sqlite3_str_appendall(q.sql, sort->k[i].desc ? " DESC" : " ASC");
    }
    if (limit > 0 || offset > 0) {
        int nl = sq_arg(&q, cJSON_CreateNumber(limit > 0 ? (double)limit : -1));
        int no = sq_arg(&q, cJSON_CreateNumber((double)offset));
        sqlite3_str_appendf(q.sql, " LIMIT ?%d OFFSET ?%d", nl, no);
    }
    int rc = sq_docs(c, &q, out);
    sq_q_free(&q);
    return rc;
}

static int sq_count(store_t *s, struct store_tls *t, const char *coll, const store_filter_t *f,
                    long *out) {
    struct sq_conn *c = sq_conn(t);
    if (!c) return STORE_ERR;
    int exists = sq_table(c, coll, false);
    if (exists != 1) return exists ? STORE_ERR : STORE_OK;
    struct sq_q q;
    sq_q_init(&q);
    sqlite3_str_appendf(q.sql, "SELECT count(*) FROM \"%s\"", coll);
    sq_where(&q, f);
    sqlite3_stmt *st = sq_q_stmt(c, &q);
    int rc = STORE_ERR;
    if (st) {
        if (sqlite3_step(st) == SQLITE_ROW) {
            *out = (long)sqlite3_column_int64(st, 0);
            rc = STORE_OK;
        } else {
            rc = sq_err(c->db, "count");
        }
        sq_done(st);
    }
    sq_q_free(&q);
    return rc;
}

static int sq_update(store_t *s, struct store_tls *t, const char *coll, const store_filter_t *f,
                     const cJSON *set, const cJSON *inc, long *matched) {
    struct sq_conn *c = sq_conn(t);
    if (!c) return STORE_ERR;
    int exists = sq_table(c, coll, false);
    if (exists != 1) return exists ? STORE_ERR : STORE_OK;
    struct sq_q q;
    sq_q_init(&q);
    sqlite3_str_appendf(q.sql, "UPDATE \"%s\" SET doc = json_set(doc", coll);
    const cJSON *m;
    cJSON_ArrayForEach(m, set) {
        char *json = sq_print(m);
        int n = sq_arg(&q, cJSON_CreateString(json));
        free(json);
        sqlite3_str_appendf(q.sql, ", '$.%s', json(?%d)", m->string, n);
    }
    cJSON_ArrayForEach(m, inc) {
        /* E = coalesce(old, 0) + ?; integers stay integers, reals are written with 17
         * significant digits (json_set would print a REAL with 15 and lose precision;
         * SQLite's printf needs the '!' flag to go past 16). */
        int n = sq_arg(&q, cJSON_CreateNumber(m->valuedouble));
        char e[2 * STORE_NAME_MAX + 64];
        snprintf(e, sizeof e, "(coalesce(json_extract(doc,'$.%s'),0) + ?%d)", m->string, n);
        sqlite3_str_appendf(q.sql,
                            ", '$.%s', iif(typeof(%s)='integer', %s, json(printf('%%!.17g', %s)))",
                            m->string, e, e, e);
    }
    sqlite3_str_appendchar(q.sql, 1, ')');
    sq_where(&q, f);
    int rc = sq_run(c, &q, "update");
    if (rc == STORE_OK) *matched = (long)sqlite3_changes64(c->db);
    sq_q_free(&q);
    return rc;
}

static int sq_delete(store_t *s, struct store_tls *t, const char *coll, const store_filter_t *f,
                     long *deleted) {
    struct sq_conn *c = sq_conn(t);
    if (!c) return STORE_ERR;
    int exists = sq_table(c, coll, false);
    if (exists != 1) return exists ? STORE_ERR : STORE_OK;
    struct sq_q q;
    sq_q_init(&q);
    sqlite3_str_appendf(q.sql, "DELETE FROM \"%s\"", coll);
    sq_where(&q, f);
    int rc = sq_run(c, &q, "delete");
    if (rc == STORE_OK) *deleted = (long)sqlite3_changes64(c->db);
    sq_q_free(&q);
    return rc;
}

static int sq_sample(store_t *s, struct store_tls *t, const char *coll, const store_filter_t *f,
                     long n, cJSON **out) {
    struct sq_conn *c = sq_conn(t);
    if (!c) return STORE_ERR;
    int exists = sq_table(c, coll, false);
    if (exists != 1) {
        *out = exists ? NULL : cJSON_CreateArray();
        return *out ? STORE_OK : STORE_ERR;
    }
    struct sq_q q;
    sq_q_init(&q);
    sqlite3_str_appendf(q.sql, "SELECT doc FROM \"%s\"", coll);
    sq_where(&q, f);
    sqlite3_str_appendf(q.sql, " ORDER BY random() LIMIT ?%d",
                        sq_arg(&q, cJSON_CreateNumber((double)n)));
    int rc = sq_docs(c, &q, out);
    sq_q_free(&q);
    return rc;
}

static int sq_begin(store_t *s, struct store_tls *t) {
    struct sq_conn *c = (struct sq_conn *)t;
    struct sq_store *q = s->impl;
    pthread_mutex_lock(&q->write);
    int rc = sq_exec(c->db, "BEGIN IMMEDIATE");
    if (rc != STORE_OK) pthread_mutex_unlock(&q->write);
    return rc;
}

/* Ends whatever transaction is open; tables created in it may be gone. */
static int sq_abort(struct sq_conn *c) {
    sq_forget_tables(c);
    return sqlite3_get_autocommit(c->db) ? STORE_OK : sq_exec(c->db, "ROLLBACK");
}

static int sq_rollback(store_t *s, struct store_tls *t) {
    int rc = sq_abort((struct sq_conn *)t);
    pthread_mutex_unlock(&((struct sq_store *)s->impl)->write);
    return rc;
}

static int sq_commit(store_t *s, struct store_tls *t) {
    struct sq_conn *c = (struct sq_conn *)t;
    int rc = STORE_OK;
    if (sqlite3_get_autocommit(c->db)) {
        rc = store_fail(STORE_ERR, "sqlite: commit: the transaction was already rolled back");
    } else if (sq_exec(c->db, "COMMIT") != STORE_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", store_errmsg());
        sq_abort(c);
        rc = store_fail(STORE_ERR, "%s", msg);
    }
    pthread_mutex_unlock(&((struct sq_store *)s->impl)->write);
    return rc;
}

const struct store_ops store_sqlite_ops = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .tls_open = sq_tls_open,
    .tls_close = sq_tls_close,
    .ping = sq_ping,
    .ensure_collection = sq_ensure_collection,
    .ensure_index = sq_ensure_index,
    .insert = sq_insert,
    .find = sq_find,
    .count = sq_count,
    .update = sq_update,
    .delete = sq_delete,
    .sample = sq_sample,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
};
