/* config -- configuration from the environment (12-factor), validated at start.
 *
 * Every variable a binary reads is a row of a table (config_var_t): its name, type,
 * default, range or choices and a line of help. The getters take only the name and read
 * through its row, and `--help` prints the same rows, so what a binary reads, its defaults
 * and what --help says cannot drift apart. libcommon's modules keep their own tables next to
 * their code (log_config_vars, http_config_vars, ...); a service adds its rows through its
 * service_def_t (service.h), and service_main() declares them all before it prints --help or
 * reads anything.
 *
 * Each getter returns the variable's value or its default when unset or empty. An invalid
 * value is fatal: the binary prints one line "<prog>: config: NAME: reason" on stderr and
 * exits with status 2. Reading a name no declared row has, or with the getter of another
 * type, is a programming error: the process aborts (in every build), naming the variable.
 * Call config_set_program() once first so the line names the binary. */
#ifndef TIZZA_CONFIG_H
#define TIZZA_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

typedef enum {
    CONFIG_STR,  /* any text; default: `def` (may be NULL) */
    CONFIG_LONG, /* decimal integer, optional sign, in [min, max] */
    CONFIG_BOOL, /* 1/0, true/false, yes/no, on/off, any case */
    CONFIG_ENUM, /* one of `choices`, any case; reads as the canonical choice */
    CONFIG_URL,  /* http(s)://host..., trailing '/' removed (config_url.c) */
    CONFIG_RATE, /* per_minute[/burst] (numbers), 0 disables */
} config_type_t;

typedef struct {
    const char *name; /* "PAGE_SIZE"; NULL ends a table */
    config_type_t type;
    const char *def;            /* the default as text ("5", "false", "info", "10/10"), or NULL */
    long (*def_fn)(void);       /* CONFIG_LONG: a default computed at run time instead of def */
    const char *def_doc;        /* --help's words for a computed or absent default ("none") */
    long min, max;              /* CONFIG_LONG */
    const char *const *choices; /* CONFIG_ENUM, NULL-terminated */
    const char *help;           /* what it means, one sentence, for --help */
} config_var_t;

void config_set_program(const char *prog);

/* Makes the rows of `table` (ended by a row with a NULL name) readable; the same table
 * twice is one declaration. A name declared by two tables aborts, and so does a new table
 * after config_seal(): --help, printed from the declared rows, would not have shown it. */
void config_declare(const config_var_t *table);
/* No table may be declared after this (service_main(), once it has declared them all). */
void config_seal(void);
/* A default that depends on the binary (PORT, STORE_URL): replaces the row's for getters
 * and --help. The text is copied. Aborts on an undeclared name. */
void config_set_default(const char *name, const char *def);
/* Reads every declared variable through its typed getter, so that a bad value exits 2 now,
 * before anything is opened, rather than when a module first reads it. */
void config_check_all(void);
/* The declared row of `name`, or NULL. */
const config_var_t *config_lookup(const char *name);
/* Prints every declared row, in declaration order: "  NAME  help (default; range)". */
void config_print_help(FILE *out);

const char *config_str(const char *name);
long config_long(const char *name);
bool config_bool(const char *name);
const char *config_enum(const char *name);
/* Returned string lives until exit. */
const char *config_url(const char *name);
/* *per_minute 0 means disabled. */
void config_rate(const char *name, double *per_minute, double *burst);

/* For the getters (config_url.c): the value, or the default text when unset or empty (NULL
 * when none), after checking that `name` is declared with `type`. */
const char *config_text(const char *name, config_type_t type);

/* Prints "<prog>: config: NAME: reason" and exits 2. */
void config_fail(const char *name, const char *reason) __attribute__((noreturn));

#endif
