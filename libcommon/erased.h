/* erased -- the accounts a service must no longer accept writes from.
 *
 * Every service that keeps user data (tweets, pizza, likes) remembers the ids of deleted
 * accounts in its own store collection "deleted_users" ({id, deleted_at}), fed by its
 * user.deleted consumer, and refuses their writes with 401. The in-memory mark of authn.h
 * covers the token lifetime in one process; this collection survives restarts and is the
 * record a write is checked against.
 *
 * The race. A create that checks deleted_users and then inserts, racing the erasure (delete
 * the user's rows, insert into deleted_users), must never leave a row of an erased user.
 * Checked outside the create's transaction, it can read the state before the erasure
 * commits and land after it. Checked inside, SQLite is safe (store_begin() is BEGIN
 * IMMEDIATE: the two transactions run one after the other), but MongoDB is not by itself:
 * its transactions are snapshot isolated and only abort on write-write conflicts, and the
 * create (reads deleted_users, inserts a row) and the erasure (deletes rows, inserts into
 * deleted_users) write no common document -- both commit, and the row survives (write skew).
 *
 * The guard closes it: one document per user in "writer_guards" ({id: user id, writes: n}),
 * that BOTH sides write inside their transaction -- every create increments it (inserting
 * {id, writes: 1} the first time) after its checked write, and the user.deleted consumer
 * before it deletes anything. Two such transactions that overlap now write one common
 * document, so on MongoDB one of them aborts with a write conflict (STORE_RETRY, store.h)
 * and runs again (store_transact(): while its budget lasts, then the create answers 503): a create run
 * again sees deleted_users and is refused (401); an erasure run again sees the new row and
 * deletes it. A create whose data belongs to someone else (an admin's pizza in a user's
 * pizzeria) writes the owner's guard too, and so does a pizzeria delete, so that a pizza
 * created in it meanwhile cannot be left behind. The guard is written on SQLite too, though
 * it is not needed there: one code path on both backends, tested once, for one small
 * indexed write per create. Writes by one user serialize on MongoDB as a result (two
 * concurrent creates by one user conflict and one runs again), which is harmless.
 *
 * Who wins. On MongoDB the first transaction to write a document keeps it and a later
 * writer is aborted at its write (WriteConflict) and runs again. So the user.deleted handler
 * writes the guard FIRST (erased_guard(), before it deletes anything) and a pizzeria delete
 * writes its owner's guard first too: they claim the guard before their longer part, and the
 * user's concurrent creates -- short, guard last -- are the ones that run again (and then
 * find the account erased, or the pizzeria gone). Otherwise a user who keeps creating could
 * keep aborting their own erasure. The consumer also sets the in-memory mark of
 * authn_mark_deleted() once its writes succeeded, before the commit, so this process refuses
 * the user's token even if that attempt still loses; a mark that outlives a failed attempt
 * is harmless, since the event is delivered again until the erasure commits.
 *
 * Contract.
 * - erased_migrate() creates both collections (idempotent), from the service's migrate.
 * - erased_consumer() is every service's user.deleted consumer: the guard first, the
 *   service's erase function, then erased_remember() and user.erased into the outbox, all
 *   INSIDE the one store transaction of the event, so they commit together or not at all.
 *   Store errors (STORE_RETRY included) make the consumer return EVENT_RETRY.
 * - Every handler that CREATES data does so through erased_create(): the check, its write
 *   and the guard in one store_transact() transaction, run again on a conflict.
 * - erased_require_writer() is the check alone, for handlers that only change or delete
 *   existing rows; they may check outside a transaction: the erasure deletes those rows
 *   anyway. */
#ifndef TIZZA_ERASED_H
#define TIZZA_ERASED_H

#include "authn.h"
#include "events.h"
#include "http.h"
#include "store.h"

/* Creates the collections deleted_users and writer_guards (idempotent). STORE_OK or the
 * store error. */
int erased_migrate(store_t *s);

/* Records user_id as deleted ({id, deleted_at}); it writes no guard (the consumer writes
 * it first). Idempotent: an id already there (a redelivered event, a concurrent consumer) is
 * success. Called by erased_consumer()'s handler, inside its transaction. STORE_OK or the
 * store error (STORE_RETRY: a conflict; run the transaction again). */
int erased_remember(store_t *s, const char *user_id);

/* What a service erases of a user, inside the consumer's transaction: deletes every row of
 * user_id and adds a count per kind to `removed` (e.g. {"tweets": 3}). STORE_OK or the store
 * error. */
typedef int (*erased_erase_fn)(store_t *s, const char *user_id, cJSON *removed, void *ctx);

/* A user.deleted consumer's registration, which erased_consumer() fills and its handler reads
 * (the spec's ctx points at it). The caller owns it; it must outlive the consumer. */
typedef struct {
    char queue[64]; /* "<service>.user-deleted" */
    const char *service;
    erased_erase_fn erase;
    void *ctx;
} erased_consumer_t;

/* The service's user.deleted consumer, to pass to service_consume(), registered in *c:
 * queue "<service>.user-deleted", bound as the topology says (user.deleted). Per event,
 * in the consumer's one transaction: a missing or malformed user_id is poison; then the
 * user's guard FIRST, erase(s, user_id, removed, ctx), erased_remember(), user.erased
 * {user_id, service, removed} into the outbox, and the in-memory mark (see "Who wins").
 * Any store error is
 * EVENT_RETRY; a conflict runs the whole transaction again within the delivery (events.h),
 * so erase() must be re-runnable. */
event_consumer_spec_t erased_consumer(erased_consumer_t *c, const char *service,
                                      erased_erase_fn erase, void *ctx);

/* The check of a write: authn_require() (answers 401 itself when there is no valid token),
 * then *u must not be in deleted_users. 0 when the write is allowed (*u filled). Otherwise
 * it has answered -- 401 "this account has been deleted" with "WWW-Authenticate: Bearer",
 * or 503 when the store failed (http_reply_store_error) -- and returns -1; the caller answers
 * nothing more.
 * It writes no guard: a handler that creates data uses erased_create() instead. */
int erased_require_writer(http_req_t *req, store_t *s, authn_user_t *u);

/* Writes user_id's guard ({id, writes: n}: writes + 1, created at 1) in the caller's
 * transaction: erased_create() writes the writer's; a create of data someone else owns, or
 * a delete of their pizzeria, calls it for the owner ("The guard" above). STORE_OK or the
 * store error (STORE_RETRY when a concurrent transaction created the guard first). */
int erased_guard(store_t *s, const char *user_id);

/* The transaction of a handler that CREATES data, through store_transact(), for the caller
 * `u` the handler has already authenticated (authn_require(): 401 before a body's 400, and
 * the token is verified once): the deleted-account check of erased_require_writer(), then
 * write(s, arg) (the handler's reads and writes), then the
 * writer's guard; committed, or rolled back and run again on STORE_RETRY (within
 * store_transact()'s budget). write() must therefore be re-runnable (store_transact()).
 * Returns STORE_OK once committed. STORE_ABORTED when the check answered (401/503:
 * http_replied(req) is then true) or write() returned it (its reason is in arg, and nothing
 * is answered). Otherwise, everything rolled back and nothing answered, write()'s store code
 * or the store error -- STORE_RETRY when every run conflicted -- which the caller answers
 * (http_reply_store_error for a store error). */
store_rc_t erased_create(http_req_t *req, store_t *s, const authn_user_t *u, store_txn_fn write,
                         void *arg);

#endif
