/* tizza-likes -- one verdict (like or dislike) per user and pizza (SPEC §5 likes). main()
 * only wires the service definition: the routes live in likes.c, the event consumers in
 * events.c. Pizzas are checked and embedded through the pizza remote model (PIZZA_URL). */
#include "likes.h"

#include "authn.h"
#include "config.h"
#include "remote.h"

static const config_var_t likes_config_vars[] = {
    {.name = "PIZZA_URL",
     .type = CONFIG_URL,
     .def = "http://127.0.0.1:8002",
     .help = "the pizza service, for the remote model (pizza exists, expand)"},
    {.name = NULL},
};

static const config_var_t *const likes_config[] = {likes_config_vars, remote_config_vars, NULL};

static int migrate(store_t *s) { return likes_migrate(s); }

static int setup(service_t *svc) {
    remote_config_from_env();
    likes_routes(svc, config_url("PIZZA_URL"));
    likes_events(svc);
    return 0;
}

static const service_def_t likes_service = {
    .name = "likes",
    .default_port = 8003,
    .api_versions = "v1",
    .summary = "likes: one like or dislike per user and pizza (API v1)",
    .config = likes_config,
    .uses_broker = true,
    .remote_keys = true,
    .load_keys = authn_load_remote_keys,
    .migrate = migrate,
    .setup = setup,
    .teardown = likes_free,
};

int main(int argc, char **argv) { return service_main(&likes_service, argc, argv); }
