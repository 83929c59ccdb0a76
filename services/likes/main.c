/* tizza-likes -- one verdict (like or dislike) per user and pizza (SPEC §5 likes). main()
 * only wires the service definition: the routes live in likes.c, the event consumers in
 * events.c. Pizzas are checked and embedded through the pizza remote model (PIZZA_URL). */
#include "likes.h"

#include "authn.h"
#include "config.h"
#include "remote.h"

static const char env_help[] =
    "  PIZZA_URL           pizza service for the remote model (http://127.0.0.1:8002)\n"
    "  REMOTE_CONNECT_TIMEOUT_MS, REMOTE_TIMEOUT_MS\n"
    "                      remote call timeouts (500, 3000)\n"
    "  REMOTE_RETRIES      retries of idempotent remote calls (2)\n"
    "  REMOTE_BREAKER_FAILURES, REMOTE_BREAKER_COOLDOWN_MS\n"
    "                      circuit breaker per remote service (5, 5000)\n";

static int migrate(store_t *s) { return likes_migrate(s); }

static int setup(service_t *svc) {
    remote_config_from_env();
    likes_routes(svc, config_url("PIZZA_URL", "http://127.0.0.1:8002"));
    likes_events(svc);
    return 0;
}

static const service_def_t likes_service = {
    .name = "likes",
    .default_port = 8003,
    .api_versions = "v1",
    .summary = "likes: one like or dislike per user and pizza (API v1)",
    .env_help = env_help,
    .uses_broker = true,
    .remote_keys = true,
    .load_keys = authn_load_remote_keys,
    .migrate = migrate,
    .setup = setup,
    .teardown = likes_free,
};

int main(int argc, char **argv) { return service_main(&likes_service, argc, argv); }
