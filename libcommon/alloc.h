/* alloc -- the one out-of-memory policy: allocation cannot fail.
 *
 * xmalloc() and friends return memory or do not return: when the C library's allocator
 * returns NULL they call the out-of-memory handler, which writes "out of memory allocating
 * N bytes" to stderr and abort()s (like Redis' zmalloc_oom_handler). So no caller carries
 * an out-of-memory branch. A handler set with alloc_set_oom_handler() runs instead of the
 * default; should it return, the process aborts all the same.
 *
 * cJSON allocates through xmalloc too (cJSON_InitHooks, set before main() runs): a
 * cJSON_Create*, cJSON_Add*ToObject or cJSON_Print* never returns NULL for lack of memory.
 *
 * The MongoDB plugin (store_mongo.c) keeps its own NULL checks: it may only call back into
 * the symbols of PLUGIN_EXPORTS (Makefile), and it has three allocations. */
#ifndef TIZZA_ALLOC_H
#define TIZZA_ALLOC_H

#include <stdarg.h>
#include <stddef.h>

void *xmalloc(size_t n); /* xmalloc(0) returns a unique pointer, as malloc(1) would */
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* The first n bytes of s (fewer when s ends sooner), NUL-terminated. */
char *xstrndup(const char *s, size_t n);
/* printf into a fresh string. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* Runs instead of the default handler on an allocation of `size` bytes that failed. */
void alloc_set_oom_handler(void (*handler)(size_t size));

#endif
