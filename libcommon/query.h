/* query -- a request's query string: its key=value pairs, and the numbers and id lists read
 * from it.
 *
 * The pairs are libevent's reading of the string (evhttp_parse_query_str), what handlers
 * have always seen through http_query(): the string is split at '&' into pairs (a '&' that
 * ends the string after a pair is ignored), a pair at its first '='. The key is taken as it
 * is (not decoded); the value is percent-decoded ("%41" is "A"; a '%' without two hex digits
 * stays), '+' is a space, and a decoded NUL ends it. One pair without '=' or with an empty
 * key (an empty pair too: "a=1&&b=2", "&a=1") makes the whole string malformed: no pairs at
 * all. A key may come more than once; pairs are given in order. */
#ifndef TIZZA_QUERY_H
#define TIZZA_QUERY_H

#include "util.h" /* ID_LEN */

typedef void (*query_pair_fn)(const char *key, const char *value, void *ctx);

/* Calls fn(key, value, ctx) for each pair of `qs` ("a=1&b=2", without the '?'), in order,
 * when the whole string is well-formed; the strings live only during the call. Returns the
 * number of pairs, or -1 when malformed (fn is not called). */
int query_parse(const char *qs, query_pair_fn fn, void *ctx);

/* A non-negative decimal number: 1 to 9 ASCII digits and nothing else, so no sign, space,
 * or value over 999999999 (leading zeros are fine). Returns 0 with the value in *out, else
 * -1 with *out unchanged. */
int query_nonneg(const char *s, long *out);

/* Pagination: ?limit= from 1 to QUERY_LIMIT_MAX and ?offset= >= 0, both query_nonneg(). */
#define QUERY_LIMIT_MAX 100
enum { QUERY_BAD_LIMIT = 1, QUERY_BAD_OFFSET = 2 };
/* Reads `limit` into *limit and `offset` into *offset; an absent one (NULL) or a bad one
 * leaves its output as it is (the caller's default). Returns 0, or the QUERY_BAD_* bits of
 * the values that are present and bad. */
int query_page(const char *limit, const char *offset, long *limit_out, long *offset_out);

/* An id list such as ?ids=a,b,c: 1 to QUERY_IDS_MAX ids (util.h: id_valid, 24 lowercase hex
 * digits), separated by single commas; nothing else, so no empty item, space or trailing
 * comma. The one limit of every such list, also the page of an ?ids= lookup. */
#define QUERY_IDS_MAX 100
typedef struct {
    int n;                         /* 1..QUERY_IDS_MAX once read */
    const char *id[QUERY_IDS_MAX]; /* id[0..n), pointing into buf; repeats are kept */
    char buf[QUERY_IDS_MAX * (ID_LEN + 1)];
} query_ids_t;
/* Reads `list` (NULL reads as "", which is no list) into *out: 0, or -1 with n = 0 and *why
 * the message for the parameter's errors[] entry ("at most 100 ids" once there is a 101st item,
 * whatever it holds; else "must be a comma-separated list of 24-hex ids"). */
int query_ids(const char *list, query_ids_t *out, const char **why);

#endif
