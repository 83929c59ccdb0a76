/* Unit tests for erased.c, without a running server.
 *
 * The http.h functions erased/authn use are defined here over a fake request (as in
 * test_authn.c), so the linker never needs http.o. Tokens are real (token_sign), so
 * erased_require_writer() runs the real authn_require().
 *
 * The first group runs on an in-memory SQLite store. The "race" groups replay the race
 * erased.h is about -- a create of user U against the erasure of U, each in its own
 * transaction and thread -- on an SQLite file and on MongoDB: the MongoDB test double
 * (tests/mongo_double.py, started here through tools/python.sh and stopped at the end), or
 * the server of MONGODB_TEST_URL when it is set. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cmocka.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <unistd.h>

#include "erased.h"
#include "testlib.h"
#include "token.h"
#include "util.h"

struct http_req {
    const char *authorization;
    int status, replies;
    char www_authenticate[64];
    char detail[128];
};

const char *http_header(const http_req_t *req, const char *name) {
    return strcasecmp(name, "Authorization") == 0 ? req->authorization : NULL;
}
const char *http_cookie(const http_req_t *req, const char *name) { return NULL; }
void http_add_header(http_req_t *req, const char *name, const char *value) {
    if (strcasecmp(name, "WWW-Authenticate") == 0)
        snprintf(req->www_authenticate, sizeof req->www_authenticate, "%s", value);
}
void http_reply_problem(http_req_t *req, int status, const char *detail) {
    req->status = status;
    req->replies++;
    snprintf(req->detail, sizeof req->detail, "%s", detail ? detail : "");
}

#define ALICE "aaaaaaaaaaaaaaaaaaaaaaaa"
#define BOB   "bbbbbbbbbbbbbbbbbbbbbbbb"

static token_key_t key;

static char *bearer_for(const char *sub) {
    int64_t now = (int64_t)time(NULL);
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "sub", sub);
    cJSON_AddStringToObject(c, "username", "someone");
    cJSON_AddStringToObject(c, "role", "user");
    cJSON_AddNumberToObject(c, "iat", (double)now);
    cJSON_AddNumberToObject(c, "exp", (double)(now + 600));
    cJSON_AddStringToObject(c, "jti", "jti-1");
    char *jwt = token_sign(&key, c);
    cJSON_Delete(c);
    assert_non_null(jwt);
    size_t n = strlen(jwt) + 8;
    char *h = malloc(n);
    snprintf(h, n, "Bearer %s", jwt);
    free(jwt);
    return test_defer_free(h); /* freed by the teardown */
}

static int setup(void **state) {
    token_key_generate(&key);
    authn_set_keys(&key, 1);
    char err[256];
    store_t *s = store_open("sqlite://:memory:", "erased", err, sizeof err);
    if (!s) fail_msg("store_open: %s", err);
    /* cmocka runs no teardown after a failed setup: close s here */
    if (erased_migrate(s) != STORE_OK || erased_migrate(s) != STORE_OK) { /* idempotent */
        store_close(s);
        fail_msg("erased_migrate: %s", store_errmsg());
    }
    *state = s;
    return 0;
}

static int teardown(void **state) {
    test_cleanup(state);
    store_close(*state);
    return 0;
}

static void test_remember_is_idempotent(void **state) {
    store_t *s = *state;
    assert_int_equal(store_begin(s), STORE_OK);
    assert_int_equal(erased_remember(s, ALICE), STORE_OK);
    assert_int_equal(erased_remember(s, ALICE), STORE_OK); /* redelivery */
    assert_int_equal(store_commit(s), STORE_OK);
    assert_int_equal(erased_remember(s, ALICE), STORE_OK); /* outside a transaction too */
    long n = -1;
    assert_int_equal(store_count(s, "deleted_users", NULL, &n), STORE_OK);
    assert_int_equal(n, 1);
    cJSON *doc = NULL;
    assert_int_equal(store_get(s, "deleted_users", ALICE, &doc), STORE_OK);
    test_defer_json(doc);
    const cJSON *at = cJSON_GetObjectItemCaseSensitive(doc, "deleted_at");
    assert_true(cJSON_IsString(at) && strlen(at->valuestring) >= 20);
}

static void test_rollback_forgets(void **state) {
    store_t *s = *state;
    assert_int_equal(store_begin(s), STORE_OK);
    assert_int_equal(erased_remember(s, BOB), STORE_OK);
    assert_int_equal(store_rollback(s), STORE_OK);
    cJSON *doc = NULL;
    assert_int_equal(store_get(s, "deleted_users", BOB, &doc), STORE_NOTFOUND);
}

static void test_require_writer(void **state) {
    store_t *s = *state;
    const char *alice = bearer_for(ALICE), *bob = bearer_for(BOB);
    authn_user_t u = {0};

    http_req_t anon = {0};
    assert_int_equal(erased_require_writer(&anon, s, &u), -1);
    assert_int_equal(anon.replies, 1);
    assert_int_equal(anon.status, 401);
    assert_string_equal(anon.detail, "authentication required");

    http_req_t live = {.authorization = bob};
    assert_int_equal(erased_require_writer(&live, s, &u), 0);
    assert_int_equal(live.replies, 0);
    assert_string_equal(u.id, BOB);

    assert_int_equal(erased_remember(s, ALICE), STORE_OK);
    http_req_t gone = {.authorization = alice};
    assert_int_equal(erased_require_writer(&gone, s, &u), -1);
    assert_int_equal(gone.replies, 1);
    assert_int_equal(gone.status, 401);
    assert_string_equal(gone.detail, "this account has been deleted");
    assert_string_equal(gone.www_authenticate, "Bearer");

    /* inside a transaction, as a creating handler calls it */
    assert_int_equal(store_begin(s), STORE_OK);
    http_req_t in_txn = {.authorization = alice};
    assert_int_equal(erased_require_writer(&in_txn, s, &u), -1);
    assert_int_equal(in_txn.status, 401);
    assert_int_equal(store_rollback(s), STORE_OK);
}

static void close_db(void *db) { sqlite3_close(db); }

/* A deleted_users that cannot be read (a table without the document columns): 503, once. */
static void test_store_error_is_503(void **state) {
    char path[PATH_MAX], err[256], url[PATH_MAX + 16];
    test_tmppath(path, sizeof path, "broken.db");
    sqlite3 *db = NULL;
    int rc = sqlite3_open(path, &db);
    test_defer(close_db, db); /* a handle even when the open failed */
    assert_int_equal(rc, SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE deleted_users (x INTEGER)", NULL, NULL, NULL),
                     SQLITE_OK);
    test_release(db);
    snprintf(url, sizeof url, "sqlite://%s", path);
    store_t *s = test_defer_store(store_open(url, "erased", err, sizeof err));
    if (!s) fail_msg("store_open(%s): %s", url, err);
    authn_user_t u = {0};
    http_req_t req = {.authorization = bearer_for(BOB)};
    assert_int_equal(erased_require_writer(&req, s, &u), -1);
    assert_int_equal(req.replies, 1);
    assert_int_equal(req.status, 503);
}

/* ---- erased_create ------------------------------------------------------------------ */

/* The create's write in these tests: one row {id, user_id} in "rows"; runs counted. */
struct row_write {
    const char *user_id;
    int runs;
    store_rc_t result; /* returned after the insert */
};

static store_rc_t write_row(store_t *s, void *arg) {
    struct row_write *w = arg;
    char id[ID_LEN + 1];
    id_new(id);
    w->runs++;
    cJSON *row = cJSON_CreateObject();
    cJSON_AddStringToObject(row, "id", id);
    cJSON_AddStringToObject(row, "user_id", w->user_id);
    int rc = store_insert(s, "rows", row);
    cJSON_Delete(row);
    return rc == STORE_OK ? w->result : rc;
}

static long rows_of(store_t *s, const char *user_id) {
    store_filter_t *f = store_filter_new();
    store_where_str(f, "user_id", STORE_EQ, user_id);
    long n = -1;
    int rc = store_count(s, "rows", f, &n);
    store_filter_free(f);
    assert_int_equal(rc, STORE_OK);
    return n;
}

/* writer_guards[user_id].writes, 0 when there is no guard. */
static int guard_writes(store_t *s, const char *user_id) {
    cJSON *g = NULL;
    int rc = store_get(s, "writer_guards", user_id, &g);
    if (rc == STORE_NOTFOUND) return 0;
    assert_int_equal(rc, STORE_OK);
    int n = (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(g, "writes"));
    cJSON_Delete(g);
    return n;
}

static void test_create(void **state) {
    store_t *s = *state;
    const char *bob = bearer_for(BOB);
    authn_user_t u = {0};

    http_req_t ok = {.authorization = bob};
    assert_int_equal(authn_require(&ok, &u), 0); /* the handler's, before erased_create() */
    struct row_write w = {BOB, 0, STORE_OK};
    assert_int_equal(erased_create(&ok, s, &u, write_row, &w), STORE_OK);
    assert_int_equal(ok.replies, 0); /* the caller answers a success */
    assert_int_equal(w.runs, 1);
    assert_false(store_in_txn(s));
    assert_int_equal(rows_of(s, BOB), 1);
    assert_int_equal(guard_writes(s, BOB), 1); /* created */
    assert_int_equal(erased_create(&ok, s, &u, write_row, &w), STORE_OK);
    assert_int_equal(guard_writes(s, BOB), 2); /* incremented */

    /* the write stops on its own account: everything rolled back, guard included; nothing
     * answered */
    http_req_t own = {.authorization = bob};
    struct row_write mine = {BOB, 0, STORE_ABORTED};
    assert_int_equal(erased_create(&own, s, &u, write_row, &mine), STORE_ABORTED);
    assert_int_equal(mine.runs, 1);
    assert_int_equal(own.replies, 0);
    assert_int_equal(rows_of(s, BOB), 2);
    assert_int_equal(guard_writes(s, BOB), 2);
    assert_false(store_in_txn(s));

    /* the erasure writes the guard too (the consumer: the guard, then the record) */
    assert_int_equal(erased_guard(s, BOB), STORE_OK);
    assert_int_equal(erased_remember(s, BOB), STORE_OK);
    assert_int_equal(guard_writes(s, BOB), 3);

    /* refused: 401 answered, the write never runs, nothing written */
    http_req_t gone = {.authorization = bob};
    struct row_write never = {BOB, 0, STORE_OK};
    assert_int_equal(erased_create(&gone, s, &u, write_row, &never), STORE_ABORTED);
    assert_int_equal(gone.replies, 1);
    assert_int_equal(gone.status, 401);
    assert_string_equal(gone.detail, "this account has been deleted");
    assert_string_equal(gone.www_authenticate, "Bearer");
    assert_int_equal(never.runs, 0);
    assert_int_equal(guard_writes(s, BOB), 3);
    assert_false(store_in_txn(s));
}

/* ---- the race ----------------------------------------------------------------------- */

/* One race: the create (erased_create of a row for user) against the erasure (the real
 * user.deleted handler of erased_consumer(): the guard, erase_rows(), the record and
 * user.erased), each through its retry loop. The OUTER side starts the other side (the
 * peer) on a thread of its own: the create at the start of its write (after its check), the
 * erasure after its deletes (after its guard). On SQLite the peer cannot begin before the
 * outer side commits (BEGIN IMMEDIATE), so it waits. On MongoDB:
 * - create outer: the erasure runs its whole transaction while the create is open;
 * - erasure outer: the create runs while the erasure is open, loses at the guard the
 *   erasure wrote first, and its second run waits until the erasure has committed (so the
 *   race does not depend on the retry pauses).
 * FOREIGN races are the pizza case of an admin adding a row to the user's "pizzeria": the
 * create is by another account, checks that the user's parent document still exists
 * (no_parent when not), inserts a row owned by the user and writes the user's guard
 * (erased_guard); the erasure deletes the parent too. */
enum side { CREATE, ERASE };

struct race {
    store_t *s;
    bool mongo;
    enum side outer;
    bool foreign;
    char user[ID_LEN + 1], creator[ID_LEN + 1];
    char *bearer;
    atomic_int create_runs; /* runs that reached the create's write */
    /* the create */
    http_req_t req;
    authn_user_t u;
    struct row_write w;
    int create_rc;
    bool no_parent; /* the create's last run found no parent (STORE_ABORTED) */
    /* the erasure */
    int erase_runs, erase_rc;
    long erased; /* rows deleted by the erasure's last run */
    cJSON *event;
    erased_consumer_t registration;
    event_consumer_spec_t consumer;
    atomic_bool outer_done; /* the outer side's transaction has ended */
    /* the peer */
    pthread_t *peer; /* joined by test_release(), or by the teardown */
    bool peer_started;
    atomic_bool peer_done;
    bool peer_done_early; /* the peer had finished when the outer side went on */
};

static void start_peer(struct race *r);

static store_rc_t race_create_write(store_t *s, void *arg) {
    struct race *r = arg;
    int run = atomic_fetch_add(&r->create_runs, 1) + 1;
    if (r->outer == CREATE && run == 1) start_peer(r);
    if (r->outer == ERASE && r->mongo && run == 2)
        while (!atomic_load(&r->outer_done)) usleep(1000);
    r->no_parent = false;
    if (!r->foreign) return write_row(s, &r->w);
    cJSON *parent = NULL;
    int rc = store_get(s, "parents", r->user, &parent);
    cJSON_Delete(parent);
    r->no_parent = rc == STORE_NOTFOUND;
    if (rc != STORE_OK) return r->no_parent ? STORE_ABORTED : rc;
    rc = write_row(s, &r->w);
    return rc == STORE_OK ? erased_guard(s, r->user) : rc;
}

/* The erasure's erase function (erased_erase_fn): the user's rows, and their parent. */
static int erase_rows(store_t *s, const char *user_id, cJSON *removed, void *ctx) {
    struct race *r = ctx;
    store_filter_t *f = store_filter_new();
    store_where_str(f, "user_id", STORE_EQ, user_id);
    int rc = store_delete(s, "rows", f, &r->erased);
    store_filter_free(f);
    if (rc == STORE_OK && r->foreign) rc = store_delete_id(s, "parents", user_id);
    if (rc != STORE_OK) return rc;
    cJSON_AddNumberToObject(removed, "rows", (double)r->erased);
    if (r->outer == ERASE && r->erase_runs == 1) start_peer(r);
    return STORE_OK;
}

/* One run of the consumer's transaction, as events.c runs a handler: its refusal rolls the
 * run back, and store_transact() runs it again when an operation lost a conflict. */
static store_rc_t race_erase(store_t *s, void *arg) {
    struct race *r = arg;
    r->erase_runs++;
    return r->consumer.fn(s, r->event, r->consumer.ctx) == EVENT_OK ? STORE_OK : STORE_ERR;
}

static void run_side(struct race *r, enum side side) {
    if (side == CREATE)
        r->create_rc = erased_create(&r->req, r->s, &r->u, race_create_write, r);
    else
        r->erase_rc = store_transact(r->s, race_erase, r);
}

static void *peer_main(void *arg) {
    struct race *r = arg;
    run_side(r, r->outer == CREATE ? ERASE : CREATE);
    atomic_store(&r->peer_done, true);
    return NULL;
}

static void start_peer(struct race *r) {
    assert_false(r->peer_started);
    r->peer_started = true;
    r->peer = test_thread(peer_main, r);
    if (!r->mongo)
        usleep(200 * 1000); /* SQLite: the peer is waiting in store_begin() */
    else if (r->outer == CREATE)
        test_release(r->peer); /* joins it: the erasure's whole transaction, inside ours */
    else
        /* until the create lost its first run and started its second */
        while (atomic_load(&r->create_runs) < 2 && !atomic_load(&r->peer_done)) usleep(1000);
    r->peer_done_early = atomic_load(&r->peer_done);
}

/* The race under way. Not on the stack: after a failed assertion the peer may still use it
 * until race_teardown() has joined it. */
static struct race the_race;

static void race(store_t *s, enum side outer, bool foreign, struct race *r) {
    memset(r, 0, sizeof *r);
    r->s = s;
    r->mongo = !strcmp(store_backend(s), "mongodb");
    r->outer = outer;
    r->foreign = foreign;
    id_new(r->user);
    id_new(r->creator);
    if (foreign) {
        cJSON *parent = cJSON_CreateObject();
        cJSON_AddStringToObject(parent, "id", r->user);
        int rc = store_insert(s, "parents", parent);
        cJSON_Delete(parent);
        assert_int_equal(rc, STORE_OK);
    }
    r->bearer = bearer_for(foreign ? r->creator : r->user);
    r->req.authorization = r->bearer;
    assert_int_equal(authn_require(&r->req, &r->u), 0); /* the handler's, first */
    r->w.user_id = r->user;
    r->create_rc = r->erase_rc = -99;
    r->event = test_defer_json(cJSON_CreateObject());
    cJSON_AddStringToObject(r->event, "user_id", r->user);
    r->consumer = erased_consumer(&r->registration, "race", erase_rows, r);
    run_side(r, outer);
    atomic_store(&r->outer_done, true);
    assert_true(r->peer_started);
    if (!r->mongo || outer == ERASE) test_release(r->peer);
}

/* How the create ended: committed; answered (its check refused the writer); no parent; or
 * "other" (a store error). */
static const char *create_outcome(const struct race *r) {
    if (r->create_rc == STORE_OK) return "committed";
    if (r->create_rc != STORE_ABORTED) return "other";
    if (r->req.replies > 0) return "answered";
    return r->no_parent ? "no parent" : "other";
}

/* What must hold whoever wins: the erasure is complete -- no row of the user survives -- and
 * the create was either refused or committed and then erased. */
static void assert_erased(store_t *s, const struct race *r) {
    assert_int_equal(r->erase_rc, STORE_OK);
    cJSON *gone = NULL;
    assert_int_equal(store_get(s, "deleted_users", r->user, &gone), STORE_OK);
    cJSON_Delete(gone);
    assert_int_equal(rows_of(s, r->user), 0);
    const char *outcome = create_outcome(r);
    if (strcmp(outcome, "answered") == 0) {
        assert_false(r->foreign); /* the creator is not the one erased */
        assert_int_equal(r->req.status, 401);
        assert_string_equal(r->req.detail, "this account has been deleted");
    } else if (strcmp(outcome, "no parent") == 0) {
        assert_true(r->foreign);
        assert_int_equal(r->req.replies, 0);
    } else {
        assert_int_equal(r->create_rc, STORE_OK);
        assert_int_equal(r->req.replies, 0);
        assert_int_equal(r->erased, 1); /* the erasure saw the row and deleted it */
    }
}

/* The create reads first; the erasure runs (and, on MongoDB, commits) inside it. */
static void race_create_first(store_t *s, bool foreign) {
    struct race *r = &the_race;
    race(s, CREATE, foreign, r);
    assert_erased(s, r);
    assert_int_equal(r->erase_runs, 1);
    if (r->mongo) {
        /* the create lost the conflict, ran again, and was refused (its writer erased) or
         * found no parent (the owner erased) */
        assert_true(r->peer_done_early);
        assert_int_equal(r->w.runs, 1);
        assert_string_equal(create_outcome(r), foreign ? "no parent" : "answered");
    } else {
        /* serialized: the create committed, then the erasure deleted its row */
        assert_false(r->peer_done_early);
        assert_int_equal(r->create_rc, STORE_OK);
    }
}

/* The erasure reads first; the create runs (and, on MongoDB, commits) inside it. */
static void race_erasure_first(store_t *s, bool foreign) {
    struct race *r = &the_race;
    race(s, ERASE, foreign, r);
    assert_erased(s, r);
    assert_int_equal(r->erase_runs, 1);
    if (r->mongo) {
        /* the erasure keeps the guard it wrote first: the create lost there, ran again after
         * the erasure committed, and was refused (its writer erased) or found no parent (the
         * owner erased); the row of its first runs was rolled back */
        assert_false(r->peer_done_early);
        assert_int_equal(r->w.runs, 2);
        assert_int_equal(r->erased, 0);
        assert_string_equal(create_outcome(r), foreign ? "no parent" : "answered");
    } else {
        /* serialized: the erasure committed, then the create was refused */
        assert_false(r->peer_done_early);
        assert_string_equal(create_outcome(r), foreign ? "no parent" : "answered");
        assert_int_equal(r->w.runs, 0);
    }
}

static void test_race_create_first(void **state) { race_create_first(*state, false); }
static void test_race_erasure_first(void **state) { race_erasure_first(*state, false); }
static void test_race_foreign_create_first(void **state) { race_create_first(*state, true); }
static void test_race_foreign_erasure_first(void **state) { race_erasure_first(*state, true); }

/* After a failure: the outer side's transaction ends, so the peer can finish and be joined. */
static int race_teardown(void **state) {
    atomic_store(&the_race.outer_done, true);
    if (store_in_txn(*state)) store_rollback(*state);
    return test_cleanup(state);
}

/* ---- race stores: an SQLite file, MongoDB ---------------------------------------------- */

static store_t *open_race_store(const char *url, const char *db) {
    char err[256];
    token_key_generate(&key);
    authn_set_keys(&key, 1);
    store_t *s = store_open(url, db, err, sizeof err);
    if (!s) {
        fprintf(stderr, "store_open(%s): %s\n", url, err);
        return NULL;
    }
    if (erased_migrate(s) != STORE_OK || outbox_migrate(s) != STORE_OK ||
        store_ensure_collection(s, "rows") != STORE_OK ||
        store_ensure_collection(s, "parents") != STORE_OK ||
        store_ensure_index(s, "rows", "user_id", false) != STORE_OK) {
        fprintf(stderr, "migrate: %s\n", store_errmsg());
        store_close(s);
        return NULL;
    }
    return s;
}

static int sqlite_race_setup(void **state) {
    char path[PATH_MAX], url[PATH_MAX + 16];
    snprintf(url, sizeof url, "sqlite://%s", test_tmppath(path, sizeof path, "race.db"));
    *state = open_race_store(url, "erased");
    return *state ? 0 : -1;
}

static int sqlite_race_teardown(void **state) {
    store_close(*state);
    return 0;
}

static pid_t double_pid;
static FILE *double_out; /* its stdout, open until it exits */

/* The repository's file REL (e.g. tests/mongo_double.py), looked for above the directory of
 * this executable, then in the working directory. */
static bool find_repo_file(const char *rel, char *path, size_t len) {
    char dir[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
    dir[n > 0 ? n : 0] = '\0';
    for (char *slash; (slash = strrchr(dir, '/')) != NULL;) {
        *slash = '\0';
        snprintf(path, len, "%s/%s", dir, rel);
        if (access(path, R_OK) == 0) return true;
    }
    snprintf(path, len, "%s", rel);
    return access(path, R_OK) == 0;
}

/* Starts the double; its port, or 0. */
static int start_double(void) {
    char script[PATH_MAX + 32], python[PATH_MAX + 32];
    int fds[2], port = 0;
    if (!find_repo_file("tests/mongo_double.py", script, sizeof script) ||
        !find_repo_file("tools/python.sh", python, sizeof python) || pipe(fds) != 0)
        return 0;
    double_pid = fork();
    if (double_pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execlp("bash", "bash", python, script, "--port", "0", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    double_out = fdopen(fds[0], "r");
    char line[64];
    if (double_pid > 0 && double_out && fgets(line, sizeof line, double_out) &&
        sscanf(line, "PORT %d", &port) == 1)
        return port;
    return 0;
}

static void stop_double(void) {
    if (double_pid > 0) {
        kill(double_pid, SIGTERM);
        waitpid(double_pid, NULL, 0);
        double_pid = 0;
    }
    if (double_out) fclose(double_out);
    double_out = NULL;
}

static int mongo_race_setup(void **state) {
    char url[256], db[64], id[ID_LEN + 1];
    const char *real = getenv("MONGODB_TEST_URL");
    if (real && *real) {
        snprintf(url, sizeof url, "%s", real);
    } else {
        int port = start_double();
        if (!port) {
            fprintf(stderr, "test_erased: cannot start tests/mongo_double.py\n");
            stop_double();
            return -1;
        }
        snprintf(url, sizeof url,
                 "mongodb://127.0.0.1:%d/?replicaSet=rs0&serverSelectionTimeoutMS=5000", port);
    }
    id_new(id);
    snprintf(db, sizeof db, "erased_%s", id);
    *state = open_race_store(url, db);
    if (!*state) stop_double();
    return *state ? 0 : -1;
}

static int mongo_race_teardown(void **state) {
    store_close(*state);
    stop_double();
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_remember_is_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_forgets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_require_writer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_error_is_503, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create, setup, teardown),
    };
    const struct CMUnitTest races[] = {
        cmocka_unit_test_teardown(test_race_create_first, race_teardown),
        cmocka_unit_test_teardown(test_race_erasure_first, race_teardown),
        cmocka_unit_test_teardown(test_race_foreign_create_first, race_teardown),
        cmocka_unit_test_teardown(test_race_foreign_erasure_first, race_teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    failed += cmocka_run_group_tests_name("race on sqlite", races, sqlite_race_setup,
                                          sqlite_race_teardown);
    failed += cmocka_run_group_tests_name("race on mongodb", races, mongo_race_setup,
                                          mongo_race_teardown);
    return failed;
}
