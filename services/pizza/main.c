/* tizza-pizza -- pizzerias and their pizzas (SPEC §5 pizza, proto-docs/pizza.openapi.yaml).
 * main() only wires the service definition: the routes live in pizzerias.c, pizzas.c and
 * pictures.c, the shared handler helpers in common.c, the events in events.c. */
#include "pizza.h"

#include "config.h"
#include "remote.h"

static const config_var_t pizza_config_vars[] = {
    {.name = "LIKES_URL",
     .type = CONFIG_URL,
     .def = "http://127.0.0.1:8003",
     .help = "the likes service, asked by /pizzas/random"},
    {.name = NULL},
};

static const config_var_t *const pizza_config[] = {pizza_config_vars, remote_config_vars, NULL};

static int migrate(store_t *s) { return pizza_migrate(s); }

static int setup(service_t *svc) {
    remote_config_from_env();
    const char *likes_url = config_url("LIKES_URL");
    pizzerias_routes(svc);
    pizzas_routes(svc, likes_url);
    pictures_routes(svc);
    pizza_events(svc);
    return 0;
}

static const service_def_t pizza_service = {
    .name = "pizza",
    .default_port = 8002,
    .api_versions = "v1",
    .summary = "pizza: pizzerias and their pizzas (API v1)",
    .config = pizza_config,
    .uses_broker = true,
    .remote_keys = true,
    .load_keys = authn_load_remote_keys,
    .migrate = migrate,
    .setup = setup,
    .teardown = pizzas_free,
};

int main(int argc, char **argv) { return service_main(&pizza_service, argc, argv); }
