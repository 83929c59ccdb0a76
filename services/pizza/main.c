/* tizza-pizza -- pizzerias and their pizzas (SPEC §5 pizza, proto-docs/pizza.openapi.yaml).
 * main() only wires the service definition: the routes live in pizzerias.c and pizzas.c,
 * the shared handler helpers in common.c, the events in events.c. */
#include "pizza.h"

#include "config.h"
#include "remote.h"

static int migrate(store_t *s) { return pizza_migrate(s); }

static int setup(service_t *svc) {
    remote_config_from_env();
    const char *likes_url = config_url("LIKES_URL", "http://127.0.0.1:8003");
    pizzerias_routes(svc);
    pizzas_routes(svc, likes_url);
    pizza_events(svc);
    return 0;
}

static const service_def_t pizza_service = {
    .name = "pizza",
    .default_port = 8002,
    .api_versions = "v1",
    .summary = "pizza: pizzerias and their pizzas (API v1)",
    .env_help =
        "  LIKES_URL           likes service, asked by /pizzas/random "
        "(http://127.0.0.1:8003)\n"
        "  REMOTE_TIMEOUT_MS   remote call timeout (3000); also REMOTE_CONNECT_TIMEOUT_MS,\n"
        "                      REMOTE_RETRIES, REMOTE_BREAKER_FAILURES/_COOLDOWN_MS\n",
    .uses_broker = true,
    .remote_keys = true,
    .load_keys = authn_load_remote_keys,
    .migrate = migrate,
    .setup = setup,
    .teardown = pizzas_free,
};

int main(int argc, char **argv) { return service_main(&pizza_service, argc, argv); }
