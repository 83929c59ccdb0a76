/* likes -- the service's shared declarations (Tizza likes, API v1). */
#ifndef TIZZA_LIKES_H
#define TIZZA_LIKES_H

#include "service.h"

#define LIKES_COLL "likes"

/* likes.c: routes of /api/v1/likes, whose ctx is the service; pizza_url is where the pizza
 * remote model lives, kept as the service's data until likes_free(). */
void likes_routes(service_t *svc, const char *pizza_url);
void likes_free(service_t *svc);
int likes_migrate(store_t *s);

/* events.c: the user.deleted and pizza.deleted consumers */
void likes_events(service_t *svc);

#endif
