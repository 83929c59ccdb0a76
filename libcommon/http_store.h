/* http_store -- the HTTP answer of a handler whose store call failed.
 *
 * Every store failure is answered 503, problem+json, detail "the store is unavailable":
 * STORE_ERR (the backend failed or is down) and STORE_RETRY (a transaction still conflicted
 * after store_transact's runs) alike. The request itself was fine and may succeed later, so
 * 503, never 500 (a bug on this request). The store is not pinged to tell "down" from
 * "failed": a ping of a failing MongoDB can take its whole server-selection timeout and would
 * say nothing about this request anyway. STORE_NOTFOUND and STORE_CONFLICT are no failures:
 * they mean what the handler makes of them (404, 409, ...) and are not answered here.
 *
 * Apart from http_req.c (as json_body.c is) so that code answering through the unit tests'
 * stub http functions can use it without pulling http_req.o in. */
#ifndef TIZZA_HTTP_STORE_H
#define TIZZA_HTTP_STORE_H

typedef struct http_req http_req_t; /* http.h */

/* Logs `what` (the operation, e.g. "list users"), rc and store_errmsg() as an error, then
 * answers 503 (see the top). rc is the failed call's store_rc, only logged. */
void http_reply_store_error(http_req_t *req, int rc, const char *what);

#endif
