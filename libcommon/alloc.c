/* alloc -- allocation that cannot fail (see alloc.h).
 *
 * The default handler formats its line into a stack buffer and write()s it: nothing on the
 * way to abort() allocates. The cJSON hooks are set by a constructor, so they are in place
 * before anything parses or builds JSON, in every binary that links this file (everything
 * in libcommon allocates through it). */
#include "alloc.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void oom_default(size_t size) {
    char line[80];
    int n = snprintf(line, sizeof line, "out of memory allocating %zu bytes\n", size);
    if (n > 0) (void)!write(STDERR_FILENO, line, (size_t)n);
}

static _Atomic(void (*)(size_t)) oom_handler = oom_default;

void alloc_set_oom_handler(void (*handler)(size_t size)) {
    atomic_store(&oom_handler, handler ? handler : oom_default);
}

static void oom(size_t size) {
    void (*handler)(size_t) = atomic_load(&oom_handler);
    handler(size);
    abort();
}

void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) oom(n);
    return p;
}

void *xcalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) oom(n * size);
    return p;
}

void *xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) oom(n);
    return q;
}

char *xstrdup(const char *s) { return xstrndup(s, strlen(s)); }

char *xstrndup(const char *s, size_t n) {
    size_t len = strnlen(s, n);
    char *p = xmalloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *xvasprintf(const char *fmt, va_list ap) {
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    if (n < 0) abort(); /* a bad format: a programming error */
    char *out = xmalloc((size_t)n + 1);
    vsnprintf(out, (size_t)n + 1, fmt, again);
    va_end(again);
    return out;
}

char *xasprintf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *out = xvasprintf(fmt, ap);
    va_end(ap);
    return out;
}

__attribute__((constructor)) static void alloc_init(void) {
    cJSON_Hooks hooks = {.malloc_fn = xmalloc, .free_fn = free};
    cJSON_InitHooks(&hooks);
}
