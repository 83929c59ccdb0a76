/* testlib.h -- helpers for the cmocka unit tests (header-only: each test binary is one .c).
 *
 * Temporary files: test_tmpdir() is a directory of this process's own, made on first use
 * under $TMPDIR (/tmp when unset or empty) and removed with everything in it when the
 * process exits, whether its tests passed or not.
 *
 * Child processes: test_in_child() runs a function that should end the process (abort,
 * exit) in a child and reports how it ended and what it wrote to stderr.
 *
 * Cleanups: a failed assertion longjmps out of the test body, so what the body opened is
 * only released if a teardown releases it. The body registers it with test_defer() (or a
 * typed helper: test_defer_store(), test_defer_filter(), test_defer_json(), test_defer_free(),
 * test_defer_ratelimit(), test_defer_req() (with http_internal.h), test_thread());
 * test_cleanup(), as the test's teardown or called from it, runs what was registered,
 * newest first. test_release() runs one registered cleanup early. Main thread only. */
#ifndef TIZZA_TESTLIB_H
#define TIZZA_TESTLIB_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ratelimit.h"
#include "store.h"

/* ---- temporary files ---------------------------------------------------------------- */

static char test_tmpdir_path[PATH_MAX];
static pid_t test_tmpdir_pid; /* its owner: a forked child that exits leaves it alone */

static inline int test_rm_entry(const char *path, const struct stat *st, int type,
                                struct FTW *ftw) {
    if (remove(path) != 0) perror(path);
    return 0;
}

static inline void test_tmpdir_remove(void) {
    if (test_tmpdir_path[0] && getpid() == test_tmpdir_pid)
        nftw(test_tmpdir_path, test_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* $TMPDIR/tizza-<program>.XXXXXX, made on the first call, removed at exit. */
static inline const char *test_tmpdir(void) {
    if (!test_tmpdir_path[0]) {
        const char *tmp = getenv("TMPDIR");
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s/tizza-%s.XXXXXX", tmp && *tmp ? tmp : "/tmp",
                 program_invocation_short_name);
        if (!mkdtemp(dir)) fail_msg("mkdtemp(%s): %s", dir, strerror(errno));
        memcpy(test_tmpdir_path, dir, sizeof dir);
        test_tmpdir_pid = getpid();
        atexit(test_tmpdir_remove);
    }
    return test_tmpdir_path;
}

/* "<test_tmpdir()>/<name>" in buf; returns buf. */
static inline char *test_tmppath(char *buf, size_t size, const char *name) {
    int n = snprintf(buf, size, "%s/%s", test_tmpdir(), name);
    if (n < 0 || (size_t)n >= size) fail_msg("path too long: %s/%s", test_tmpdir(), name);
    return buf;
}

/* ---- child processes ----------------------------------------------------------------- */

/* Runs fn() in a forked child whose stderr goes to err[size] (NUL-terminated); a child whose
 * fn returns exits 0. Returns the child's wait status (WIFEXITED, WTERMSIG, ...). */
static inline int test_in_child(void (*fn)(void), char *err, size_t size) {
    int p[2];
    assert_int_equal(pipe(p), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        dup2(p[1], 2);
        close(p[1]);
        fn();
        _exit(0);
    }
    close(p[1]);
    size_t n = 0;
    ssize_t r;
    while (n + 1 < size && (r = read(p[0], err + n, size - 1 - n)) > 0) n += (size_t)r;
    err[n] = '\0';
    close(p[0]);
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return st;
}

/* ---- cleanups ------------------------------------------------------------------------ */

typedef void (*test_cleanup_fn)(void *ptr);

static struct test_deferred {
    test_cleanup_fn fn;
    void *ptr;
} * test_deferred;
static size_t test_ndeferred, test_capdeferred;
static pid_t test_deferred_pid;

static inline int test_cleanup(void **state) {
    while (test_ndeferred > 0) {
        struct test_deferred d = test_deferred[--test_ndeferred];
        d.fn(d.ptr);
    }
    free(test_deferred);
    test_deferred = NULL;
    test_capdeferred = 0;
    return 0;
}

/* Cleanups still registered at exit belong to a test whose teardown never called
 * test_cleanup(): run them, and fail. */
static inline void test_check_cleaned_up(void) {
    if (test_ndeferred == 0 || getpid() != test_deferred_pid) return;
    fprintf(stderr, "testlib: %zu cleanup(s) left at exit: a test lacks test_cleanup()\n",
            test_ndeferred);
    test_cleanup(NULL);
    test_tmpdir_remove();
    _exit(1);
}

/* Registers fn(ptr) for test_cleanup() and returns ptr; a NULL ptr registers nothing. */
static inline void *test_defer(test_cleanup_fn fn, void *ptr) {
    if (!ptr) return NULL;
    if (!test_deferred_pid) {
        test_deferred_pid = getpid();
        atexit(test_check_cleaned_up);
    }
    if (test_ndeferred == test_capdeferred) {
        size_t cap = test_capdeferred ? 2 * test_capdeferred : 16;
        struct test_deferred *d = realloc(test_deferred, cap * sizeof *d);
        if (!d) {
            fn(ptr);
            fail_msg("test_defer: out of memory");
        }
        test_deferred = d;
        test_capdeferred = cap;
    }
    test_deferred[test_ndeferred++] = (struct test_deferred){fn, ptr};
    return ptr;
}

/* Runs the cleanup registered for ptr now, and forgets it. NULL: nothing. */
static inline void test_release(void *ptr) {
    if (!ptr) return;
    for (size_t i = test_ndeferred; i-- > 0;) {
        if (test_deferred[i].ptr != ptr) continue;
        struct test_deferred d = test_deferred[i];
        memmove(&test_deferred[i], &test_deferred[i + 1], (--test_ndeferred - i) * sizeof d);
        d.fn(d.ptr);
        return;
    }
    fail_msg("test_release(%p): nothing registered", ptr);
}

static inline void *test_defer_free(void *p) { return test_defer(free, p); }

static inline void test_json_delete(void *j) { cJSON_Delete(j); }
static inline cJSON *test_defer_json(cJSON *j) { return test_defer(test_json_delete, j); }

static inline void test_store_close(void *s) { store_close(s); }
static inline store_t *test_defer_store(store_t *s) { return test_defer(test_store_close, s); }

static inline void test_filter_free(void *f) { store_filter_free(f); }
static inline store_filter_t *test_defer_filter(store_filter_t *f) {
    return test_defer(test_filter_free, f);
}

static inline void test_ratelimit_free(void *rl) { ratelimit_free(rl); }
static inline ratelimit_t *test_defer_ratelimit(ratelimit_t *rl) {
    return test_defer(test_ratelimit_free, rl);
}

#ifdef TIZZA_HTTP_INTERNAL_H /* requests made by hand (http_internal.h included first) */
static inline void test_req_free(void *req) { http_req_free(req); }
static inline http_req_t *test_defer_req(http_req_t *req) { return test_defer(test_req_free, req); }
/* Ends a varargs list of name, value pairs. */
#define TEST_END ((const char *)NULL)
#endif

static inline void test_thread_join(void *th) {
    pthread_join(*(pthread_t *)th, NULL);
    free(th);
}

/* Runs fn(arg) on a new thread, joined by test_cleanup() or test_release(). arg must
 * outlive the body: static, or registered before the thread starts. */
static inline pthread_t *test_thread(void *(*fn)(void *), void *arg) {
    pthread_t *th = malloc(sizeof *th);
    assert_non_null(th);
    if (pthread_create(th, NULL, fn, arg) != 0) {
        free(th);
        fail_msg("pthread_create failed");
        return NULL; /* not reached: fail_msg() leaves the test */
    }
    return test_defer(test_thread_join, th);
}

#endif
