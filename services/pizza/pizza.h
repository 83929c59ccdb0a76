/* pizza -- the service's shared declarations (Tizza culinary service, API v1). */
#ifndef TIZZA_PIZZA_H
#define TIZZA_PIZZA_H

#include "authn.h"
#include "service.h"

#define PIZZERIAS "pizzerias"
#define PIZZAS    "pizzas"
/* a pizza's folded title (fold.h), internal: ?title__icontains= searches it */
#define TITLE_SEARCH "title_search"

/* common.c: small helpers every handler file uses */
int pizza_migrate(store_t *s);
/* True when the caller is `owner_id` or an admin. */
bool pizza_may_write(const authn_user_t *u, const char *owner_id);
/* An update of the stored `doc` of `coll` by its id, in one transaction that reads it again
 * and checks the request's If-Match on that (etag.h): `set` (non-empty) plus updated_at and
 * the next version is written, and doc becomes the stored state. 0 when done; otherwise
 * answered -- 412 with the current ETag, http_reply_store_error, 404 "no such <what>" when
 * the row went away meanwhile -- and -1. */
int pizza_update(http_req_t *req, store_t *s, const char *coll, const char *what, cJSON *doc,
                 cJSON *set);

/* pizzerias.c: /api/v1/pizzerias */
void pizzerias_routes(service_t *svc);

/* pizzas.c: /api/v1/pizzas (and /random, which asks likes at `likes_url`); the likes remote
 * model is kept as the service's data until pizzas_free(). Every route's ctx is the
 * service. */
void pizzas_routes(service_t *svc, const char *likes_url);
void pizzas_free(service_t *svc);
/* The public representation of a stored pizza (drops internal fields); takes `doc`. */
cJSON *pizza_view(cJSON *doc);
/* The pizza named by the path parameter "id" when `u` may change it (its owner or an
 * admin), else NULL when answered (404/403/503). Caller frees. */
cJSON *pizza_load_for_write(http_req_t *req, store_t *s, const authn_user_t *u);
/* "approved", "rejected" or "pending": the review state of a stored pizza. */
const char *pizza_review_of(const cJSON *doc);
/* Puts review state `status` into `obj` (a new doc or an update's set): approved, who may
 * see it, review_status and the rejection's reason (NULL: none). */
void pizza_review_set(cJSON *obj, const char *status, const char *reason, const char *owner_id);

/* pictures.c: /api/v1/pizzas/{id}/picture */
#define PICTURES "pictures"
void pictures_routes(service_t *svc);
/* Deletes the pictures of pizza `pizza_id`, in the caller's transaction. */
int pictures_erase(store_t *s, const char *pizza_id);

/* events.c: pizza.deleted publishing and the user.deleted consumer */
/* Deletes every pizza matching `f` and writes one pizza.deleted into the outbox for each;
 * must run inside the caller's store transaction. *removed (may be NULL) = pizzas deleted. */
int pizzas_erase(store_t *s, const store_filter_t *f, long *removed);
void pizza_events(service_t *svc);

#endif
