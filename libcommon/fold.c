/* fold -- the search form of a text; see fold.h. */
#include "fold.h"

#include "alloc.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

char *text_fold(const char *s) {
    utf8proc_uint8_t *out = NULL;
    utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)s, 0, &out,
                                      UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE |
                                          UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK);
    if (n < 0) return NULL;
    char *copy = xstrdup((const char *)out); /* ours to free with free(), whatever the hooks */
    free(out);
    return copy;
}
