/* tweets -- the service's shared declarations (Cloud Native Python tweets, API v2). */
#ifndef TIZZA_TWEETS_H
#define TIZZA_TWEETS_H

#include "service.h"

#define TWEET_MAX_CHARS 280

/* tweets.c: routes of /api/v2/tweets */
void tweets_routes(service_t *svc);
int tweets_migrate(store_t *s);

/* events.c: the user.deleted consumer */
void tweets_events(service_t *svc);

#endif
