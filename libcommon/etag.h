/* etag -- optimistic concurrency (RFC 9110 §8.8.3, §13): a stored resource's version as
 * its strong ETag, If-None-Match on reads (304), If-Match on writes (412).
 *
 * A document's version is its member "version": 1 when created, one more on every change
 * (etag_bump()); one stored before versions existed is version 0 until its first change.
 * The ETag is "<version>" in quotes: it names one state of one URL's representation.
 *
 * The check and the write are one transaction (store_transact): the handler reads the
 * document again inside it, checks If-Match against that, then writes. On SQLite the
 * transaction holds the write lock from its start (BEGIN IMMEDIATE); on MongoDB two such
 * transactions that both read version n conflict on their writes, the loser runs again,
 * reads n + 1 and answers 412. So of two writes sent with the same If-Match exactly one
 * succeeds. A write without If-Match is unconditional (last writer wins), as before. */
#ifndef TIZZA_ETAG_H
#define TIZZA_ETAG_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "http.h"
#include "store.h"

#define ETAG_FIELD "version"

/* The stored document's version (0 when it has none). */
long etag_version(const cJSON *doc);
/* The ETag of doc into out ("\"<version>\""). */
void etag_of(const cJSON *doc, char out[32]);
/* Adds the ETag header of doc to the answer. */
void etag_add(http_req_t *req, const cJSON *doc);
/* True when an If-None-Match value names `tag` (weak comparison, as for GET) or is "*". */
bool etag_none_match(const char *if_none_match, const char *tag);
/* A read: when If-None-Match names doc's ETag (weak comparison) or is "*", answers 304
 * with the ETag and returns true. */
bool etag_not_modified(http_req_t *req, const cJSON *doc);
/* A write: true when the request has no If-Match, or it is "*" (doc exists), or it names
 * doc's ETag (strong comparison: a W/ tag never matches). */
bool etag_if_match(http_req_t *req, const cJSON *doc);
/* Answers 412 with the current ETag of doc: the client's copy is stale. */
void etag_reply_stale(http_req_t *req, const cJSON *doc);
/* Sets set's "version" to doc's + 1: the write that changes doc. */
void etag_bump(cJSON *set, const cJSON *doc);

/* The read of a conditional write, inside its transaction: the first document of `coll`
 * matching f into *fresh (what was there is freed first: a run may repeat) and req's
 * If-Match checked on it. STORE_OK when it holds; STORE_ABORTED with *stale set when it
 * does not (answer with etag_reply_stale(req, *fresh) after the transaction); otherwise
 * the store's code (STORE_NOTFOUND, ...). The caller frees *fresh. */
int etag_read(store_t *s, http_req_t *req, const char *coll, const store_filter_t *f, cJSON **fresh,
              bool *stale);
/* The same for the document with this id. */
int etag_read_id(store_t *s, http_req_t *req, const char *coll, const char *id, cJSON **fresh,
                 bool *stale);

#endif
