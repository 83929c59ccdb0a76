/* config.c -- typed, validated getters over the environment.
 *
 * Every getter treats an unset or empty variable as "use the default" (the default itself is
 * trusted, it is not validated). A value that is set but invalid is fatal: config_fail()
 * prints exactly "<prog>: config: NAME: reason\n" on stderr and exits with status 2, before
 * the service binds a port or touches a store. The reason says what is expected; it never
 * echoes the value (URLs may carry credentials).
 *
 *   config_long  decimal integer, optional sign, nothing else; must be in [min, max].
 *   config_bool  1/0, true/false, yes/no, on/off, any case.
 *   config_enum  one of the choices, any case; returns the canonical choice string.
 *
 * config_url lives in config_url.c: it needs libcurl's URL parser, and keeping it apart
 * keeps libcurl out of binaries that never read a URL (tizza-auth). */
#include "config.h"

#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static char config_prog[64] = "tizza";

void config_set_program(const char *prog) {
    if (!prog || !*prog) return;
    const char *slash = strrchr(prog, '/'); /* argv[0] may be a path */
    str_copy(config_prog, slash ? slash + 1 : prog, sizeof config_prog);
}

void config_fail(const char *name, const char *reason) {
    fprintf(stderr, "%s: config: %s: %s\n", config_prog, name ? name : "?",
            reason ? reason : "invalid value");
    fflush(stderr);
    exit(2);
}

/* The variable's value, or NULL when unset or empty. */
static const char *env_value(const char *name) {
    const char *v = getenv(name);
    return (v && *v) ? v : NULL;
}

const char *config_str(const char *name, const char *def) {
    const char *v = env_value(name);
    return v ? v : def;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

long config_long(const char *name, long def, long min, long max) {
    const char *v = env_value(name);
    if (!v) return def;

    const char *digits = (*v == '-' || *v == '+') ? v + 1 : v;
    char *end = NULL;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (!is_digit(*digits) || *end != '\0' || errno == ERANGE || x < min || x > max) {
        char reason[96];
        snprintf(reason, sizeof reason, "must be an integer from %ld to %ld", min, max);
        config_fail(name, reason);
    }
    return x;
}

bool config_bool(const char *name, bool def) {
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    const char *v = env_value(name);
    if (!v) return def;
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcasecmp(v, yes[i]) == 0) return true;
        if (strcasecmp(v, no[i]) == 0) return false;
    }
    config_fail(name, "must be true or false (or 1/0, yes/no, on/off)");
}

const char *config_enum(const char *name, const char *def, const char *const *choices) {
    const char *v = env_value(name);
    if (!v) return def;
    for (size_t i = 0; choices && choices[i]; i++)
        if (strcasecmp(v, choices[i]) == 0) return choices[i];

    char reason[256] = "must be one of ";
    size_t n = strlen(reason);
    for (size_t i = 0; choices && choices[i] && n < sizeof reason; i++)
        n += (size_t)snprintf(reason + n, sizeof reason - n, "%s%s", i ? ", " : "", choices[i]);
    config_fail(name, reason);
}
