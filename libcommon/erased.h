/* erased -- the accounts a service must no longer accept writes from.
 *
 * Every service that keeps user data (tweets, pizza, likes) remembers the ids of deleted
 * accounts in its own store collection "deleted_users" ({id, deleted_at}), fed by its
 * user.deleted consumer, and refuses their writes with 401. The in-memory mark of authn.h
 * covers the token lifetime in one process; this collection survives restarts and is the
 * record a write is checked against.
 *
 * Contract.
 * - erased_migrate() creates the collection (idempotent), from the service's migrate.
 * - erased_remember() is called by the user.deleted consumer INSIDE its store transaction,
 *   together with the deletion of the user's data, so both commit or neither does.
 * - erased_require_writer() is the check of every write handler. A handler that CREATES
 *   data must call it INSIDE the same store transaction as its write (store_begin, check,
 *   write, store_commit; store_rollback on any failure): on SQLite store_begin() is BEGIN
 *   IMMEDIATE, so the check queues behind a consumer transaction that is erasing the user
 *   and then sees its result; checked outside, a write can read the state before the
 *   erasure commits and land after it, and survive the erasure. Handlers that only change or
 *   delete existing rows may check outside a transaction: the erasure deletes those rows
 *   anyway.
 *   MongoDB caveat: its transactions are snapshot isolated and only write-write conflicts
 *   abort one of them. The consumer inserts into deleted_users and deletes the user's rows;
 *   a concurrent create reads deleted_users and inserts a new row; neither writes what the
 *   other wrote, so both may commit (write skew). On MongoDB the check inside the
 *   transaction does not by itself close the race. */
#ifndef TIZZA_ERASED_H
#define TIZZA_ERASED_H

#include "authn.h"
#include "http.h"
#include "store.h"

/* Creates the collection deleted_users (idempotent). STORE_OK or the store error. */
int erased_migrate(store_t *s);

/* Records user_id as deleted ({id, deleted_at}). Idempotent: an id already there (a
 * redelivered event, a concurrent consumer) is success. Call inside the consumer's store
 * transaction. STORE_OK or the store error. */
int erased_remember(store_t *s, const char *user_id);

/* The end of a user.deleted handler, inside its transaction, once the service deleted the
 * user's data: erased_remember(), then user.erased {user_id, service, removed} into the
 * outbox (`removed` is taken: counts per kind, e.g. {"tweets": 3}), then the in-memory mark
 * (authn_mark_deleted). STORE_OK or the store error (the handler returns EVENT_RETRY). */
int erased_report(store_t *s, const char *service, const char *user_id, cJSON *removed);

/* The check of a write: authn_require() (answers 401 itself when there is no valid token),
 * then *u must not be in deleted_users. 0 when the write is allowed (*u filled). Otherwise
 * it has answered -- 401 "this account has been deleted" with "WWW-Authenticate: Bearer",
 * or 503 when the store failed (logged) -- and returns -1; the caller answers nothing more
 * (and rolls back its transaction, if any). A caller that creates data must call it inside
 * the same store transaction as its write (see the top of this file). */
int erased_require_writer(http_req_t *req, store_t *s, authn_user_t *u);

#endif
