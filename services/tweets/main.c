/* tizza-tweets -- short posts by users (SPEC §5 tweets). main() only wires the service
 * definition; the routes live in tweets.c and the event consumer in events.c. */
#include "tweets.h"

#include "authn.h"

static int migrate(store_t *s) { return tweets_migrate(s); }

static int setup(service_t *svc) {
    tweets_routes(svc);
    tweets_events(svc);
    return 0;
}

static const service_def_t tweets_service = {
    .name = "tweets",
    .default_port = 8004,
    .api_versions = "v2",
    .summary = "tweets: short posts by Tizza users (API v2)",
    .uses_broker = true,
    .remote_keys = true,
    .load_keys = authn_load_remote_keys,
    .migrate = migrate,
    .setup = setup,
};

int main(int argc, char **argv) { return service_main(&tweets_service, argc, argv); }
