/* pizza -- the service's shared declarations (Tizza culinary service, API v1). */
#ifndef TIZZA_PIZZA_H
#define TIZZA_PIZZA_H

#include "authn.h"
#include "service.h"

#define PIZZERIAS "pizzerias"
#define PIZZAS    "pizzas"

/* Most ids accepted by ?ids= and by one page of ids. */
#define PIZZA_IDS_MAX 100

/* common.c: small helpers every handler file uses */
int pizza_migrate(store_t *s);
/* Logs the store error and answers 503. */
void pizza_store_error(http_req_t *req, const char *what);
/* True when the caller is `owner_id` or an admin. */
bool pizza_may_write(const authn_user_t *u, const char *owner_id);
/* Adds "Location: <absolute url of prefix/id>". */
void pizza_add_location(http_req_t *req, const char *prefix, const char *id);
/* Parses a comma-separated list of 1..PIZZA_IDS_MAX valid ids and adds `field` IN (list)
 * to f. 0, or -1 after adding an error for `param` to `problem`. */
int pizza_filter_ids(const char *list, const char *field, const char *param, store_filter_t *f,
                     cJSON *problem);
/* An update of the stored `doc` of `coll` by its id: `set` (non-empty) plus updated_at is
 * written, then merged into doc. 0 when done; otherwise answered -- 503 on a store error,
 * 404 "no such <what>" when the row went away meanwhile -- and -1. */
int pizza_update(http_req_t *req, store_t *s, const char *coll, const char *what, cJSON *doc,
                 cJSON *set);
/* Answers `problem` when it has errors (400) and returns -1; else frees it, returns 0. */
int pizza_reply_if_invalid(http_req_t *req, cJSON *problem);

/* pizzerias.c: /api/v1/pizzerias */
void pizzerias_routes(service_t *svc);

/* pizzas.c: /api/v1/pizzas (and /random, which asks likes at `likes_url`) */
void pizzas_routes(service_t *svc, const char *likes_url);
/* The public representation of a stored pizza (drops internal fields); takes `doc`. */
cJSON *pizza_view(cJSON *doc);

/* events.c: pizza.deleted publishing and the user.deleted consumer */
/* Deletes every pizza matching `f` and writes one pizza.deleted into the outbox for each;
 * must run inside the caller's store transaction. *removed (may be NULL) = pizzas deleted. */
int pizzas_erase(store_t *s, const store_filter_t *f, long *removed);
void pizza_events(service_t *svc);

#endif
