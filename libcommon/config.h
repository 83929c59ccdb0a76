/* config -- configuration from the environment (12-factor), validated at start.
 *
 * Each getter returns the variable's value or the default when unset or empty. An invalid
 * value is fatal: the binary prints one line "<prog>: config: NAME: reason" on stderr and
 * exits with status 2. Call config_set_program() once first so the line names the binary. */
#ifndef TIZZA_CONFIG_H
#define TIZZA_CONFIG_H

#include <stdbool.h>

void config_set_program(const char *prog);

const char *config_str(const char *name, const char *def);
long config_long(const char *name, long def, long min, long max);
bool config_bool(const char *name, bool def);
/* One of the `choices` (NULL-terminated); returns the matching choice. */
const char *config_enum(const char *name, const char *def, const char *const *choices);
/* http(s)://... URL; trailing '/' is removed. Returned string lives until exit. */
const char *config_url(const char *name, const char *def);

/* Prints "<prog>: config: NAME: reason" and exits 2. */
void config_fail(const char *name, const char *reason) __attribute__((noreturn));

#endif
