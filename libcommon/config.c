/* config.c -- the declared rows and the typed, validated getters over the environment.
 *
 * Tables are declared once at start (service_main(), or the module that reads them: see
 * config_declare) and kept as pointers, in order; the getters look the name up, check the
 * row's type, and read the environment. An unset or empty variable means the default (the
 * default itself is trusted, it is not validated, except by config_url). A value that is set
 * but invalid is fatal: config_fail() prints exactly "<prog>: config: NAME: reason\n" on
 * stderr and exits with status 2, before the service binds a port or touches a store. The
 * reason says what is expected; it never echoes the value (URLs may carry credentials).
 *
 *   CONFIG_LONG  decimal integer, optional sign, nothing else; must be in [min, max].
 *   CONFIG_BOOL  1/0, true/false, yes/no, on/off, any case.
 *   CONFIG_ENUM  one of the choices, any case; returns the canonical choice string.
 *   CONFIG_RATE  per_minute[/burst], non-negative numbers, burst at least 1 unless 0.
 *
 * config_url lives in config_url.c: it needs libcurl's URL parser, and keeping it apart
 * keeps libcurl out of binaries that never read a URL (tizza-auth). */
#include "config.h"

#include "util.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_TABLES    32
#define MAX_OVERRIDES 8
#define HELP_COLUMN   22 /* "  NAME" padded to here */
#define HELP_WIDTH    96

static char config_prog[64] = "tizza";

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static const config_var_t *tables[MAX_TABLES];
static int ntables;
static bool sealed;
static struct {
    const char *name;
    char text[256];
} overrides[MAX_OVERRIDES];
static int noverrides;

static const char *const type_names[] = {"string", "integer", "boolean", "choice", "URL", "rate"};

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

/* A programming error (an undeclared name, a getter of the wrong type): abort. */
static void config_bug(const char *name, const char *what) __attribute__((noreturn));
static void config_bug(const char *name, const char *what) {
    fprintf(stderr, "%s: config: %s: %s (a bug: see libcommon/config.h)\n", config_prog,
            name ? name : "?", what);
    fflush(stderr);
    abort();
}

/* ---- the declared rows ---------------------------------------------------------------- */

static const config_var_t *find_locked(const char *name) {
    for (int t = 0; t < ntables; t++)
        for (const config_var_t *v = tables[t]; v->name; v++)
            if (strcmp(v->name, name) == 0) return v;
    return NULL;
}

void config_declare(const config_var_t *table) {
    pthread_mutex_lock(&reg_lock);
    for (int t = 0; t < ntables; t++)
        if (tables[t] == table) {
            pthread_mutex_unlock(&reg_lock);
            return;
        }
    if (sealed) config_bug(table->name, "a table declared after --help was settled");
    if (ntables == MAX_TABLES) config_bug(table->name, "too many tables");
    for (const config_var_t *v = table; v->name; v++)
        if (find_locked(v->name)) config_bug(v->name, "declared twice");
    tables[ntables++] = table;
    pthread_mutex_unlock(&reg_lock);
}

void config_seal(void) {
    pthread_mutex_lock(&reg_lock);
    sealed = true;
    pthread_mutex_unlock(&reg_lock);
}

void config_check_all(void) {
    double a, b;
    for (int t = 0; t < ntables; t++)
        for (const config_var_t *v = tables[t]; v->name; v++) switch (v->type) {
            case CONFIG_LONG: config_long(v->name); break;
            case CONFIG_BOOL: config_bool(v->name); break;
            case CONFIG_ENUM: config_enum(v->name); break;
            case CONFIG_URL: config_url(v->name); break;
            case CONFIG_RATE: config_rate(v->name, &a, &b); break;
            case CONFIG_STR: break;
            }
}

const config_var_t *config_lookup(const char *name) {
    pthread_mutex_lock(&reg_lock);
    const config_var_t *v = name ? find_locked(name) : NULL;
    pthread_mutex_unlock(&reg_lock);
    return v;
}

/* The override of `name`'s default, or NULL. Under reg_lock. */
static const char *override_locked(const char *name) {
    for (int i = 0; i < noverrides; i++)
        if (strcmp(overrides[i].name, name) == 0) return overrides[i].text;
    return NULL;
}

void config_set_default(const char *name, const char *def) {
    const config_var_t *v = config_lookup(name);
    if (!v) config_bug(name, "a default set for a variable no table declares");
    pthread_mutex_lock(&reg_lock);
    int i = 0;
    while (i < noverrides && strcmp(overrides[i].name, v->name) != 0) i++;
    if (i == MAX_OVERRIDES) config_bug(name, "too many defaults set");
    if (i == noverrides) noverrides++;
    overrides[i].name = v->name;
    str_copy(overrides[i].text, def ? def : "", sizeof overrides[i].text);
    pthread_mutex_unlock(&reg_lock);
}

/* The row of `name`, which must be declared with `type`. */
static const config_var_t *row(const char *name, config_type_t type) {
    const config_var_t *v = config_lookup(name);
    if (!v) config_bug(name, "read but declared by no table");
    if (v->type != type) {
        char what[96];
        snprintf(what, sizeof what, "declared as %s, read as %s", type_names[v->type],
                 type_names[type]);
        config_bug(name, what);
    }
    return v;
}

/* The override of a row's default (config_set_default), or NULL. */
static const char *override_of(const config_var_t *v) {
    pthread_mutex_lock(&reg_lock);
    const char *o = override_locked(v->name);
    pthread_mutex_unlock(&reg_lock);
    return o;
}

/* The default text of a row: the override, else def (NULL when none). */
static const char *default_text(const config_var_t *v) {
    const char *o = override_of(v);
    return o ? o : v->def;
}

/* The variable's value, or NULL when unset or empty. */
static const char *env_value(const char *name) {
    const char *v = getenv(name);
    return (v && *v) ? v : NULL;
}

const char *config_text(const char *name, config_type_t type) {
    const config_var_t *v = row(name, type);
    const char *e = env_value(name);
    return e ? e : default_text(v);
}

/* ---- the getters ---------------------------------------------------------------------- */

const char *config_str(const char *name) { return config_text(name, CONFIG_STR); }

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Parses a decimal integer in [min, max]: true and *out, or false. */
static bool parse_long(const char *v, long min, long max, long *out) {
    const char *digits = (*v == '-' || *v == '+') ? v + 1 : v;
    char *end = NULL;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (!is_digit(*digits) || *end != '\0' || errno == ERANGE || x < min || x > max) return false;
    *out = x;
    return true;
}

long config_long(const char *name) {
    const config_var_t *r = row(name, CONFIG_LONG);
    const char *v = env_value(name);
    long x = 0;
    if (!v) {
        const char *o = override_of(r); /* the binary's own, before the row's */
        if (o) {
            if (!parse_long(o, LONG_MIN, LONG_MAX, &x)) config_bug(name, "default not a number");
            return x;
        }
        if (r->def_fn) return r->def_fn();
        if (!r->def || !parse_long(r->def, LONG_MIN, LONG_MAX, &x))
            config_bug(name, "no numeric default");
        return x;
    }
    if (!parse_long(v, r->min, r->max, &x)) {
        char reason[96];
        snprintf(reason, sizeof reason, "must be an integer from %ld to %ld", r->min, r->max);
        config_fail(name, reason);
    }
    return x;
}

/* 1 for yes, 0 for no, -1 for neither. */
static int bool_word(const char *v) {
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcasecmp(v, yes[i]) == 0) return 1;
        if (strcasecmp(v, no[i]) == 0) return 0;
    }
    return -1;
}

bool config_bool(const char *name) {
    const char *v = config_text(name, CONFIG_BOOL);
    int b = v ? bool_word(v) : 0;
    if (b < 0) config_fail(name, "must be true or false (or 1/0, yes/no, on/off)");
    return b == 1;
}

const char *config_enum(const char *name) {
    const config_var_t *r = row(name, CONFIG_ENUM);
    const char *e = env_value(name), *v = e ? e : default_text(r);
    if (!v) return NULL;
    for (size_t i = 0; r->choices && r->choices[i]; i++)
        if (strcasecmp(v, r->choices[i]) == 0) return r->choices[i];
    if (!e) return v; /* the default is trusted */

    char reason[256] = "must be one of ";
    size_t n = strlen(reason);
    for (size_t i = 0; r->choices && r->choices[i] && n < sizeof reason; i++)
        n += (size_t)snprintf(reason + n, sizeof reason - n, "%s%s", i ? ", " : "", r->choices[i]);
    config_fail(name, reason);
}

/* per_minute[/burst]: true with both, or false. A lone number is also the burst. */
static bool parse_rate(const char *v, double *per_minute, double *burst) {
    char *end = NULL;
    double pm = strtod(v, &end), b = pm;
    if (end == v) return false;
    if (*end == '/') {
        const char *start = end + 1;
        b = strtod(start, &end);
        if (end == start) return false;
    }
    if (*end || pm < 0 || b < 0 || (pm > 0 && b < 1)) return false;
    *per_minute = pm;
    *burst = b;
    return true;
}

void config_rate(const char *name, double *per_minute, double *burst) {
    const char *v = config_text(name, CONFIG_RATE);
    *per_minute = *burst = 0;
    if (v && !parse_rate(v, per_minute, burst))
        config_fail(name, "must be per_minute[/burst] (numbers), or 0 to disable");
}

/* ---- --help ---------------------------------------------------------------------------- */

/* Writes the words of `s` from column *col, wrapping at HELP_WIDTH to HELP_COLUMN. */
static void help_words(FILE *out, const char *s, int *col) {
    while (*s) {
        while (*s == ' ') s++;
        size_t n = strcspn(s, " ");
        if (!n) break;
        if (*col > HELP_COLUMN && *col + 1 + (int)n > HELP_WIDTH) {
            fprintf(out, "\n%*s", HELP_COLUMN, "");
            *col = HELP_COLUMN;
        } else if (*col > HELP_COLUMN) {
            fputc(' ', out);
            (*col)++;
        }
        fprintf(out, "%.*s", (int)n, s);
        *col += (int)n;
        s += n;
    }
}

/* "(default; range)" of a row in buf, or "" when there is neither. */
static void help_suffix(const config_var_t *v, char *buf, size_t len) {
    const char *o = override_of(v);
    const char *def = o ? o : (v->def_doc ? v->def_doc : v->def);
    size_t n = (size_t)snprintf(buf, len, "(%s", def && *def ? def : "");
    const char *sep = n > 1 ? "; " : "";
    if (v->type == CONFIG_LONG)
        n += (size_t)snprintf(buf + n, len - n, "%s%ld to %ld", sep, v->min, v->max);
    else if (v->type == CONFIG_ENUM)
        for (size_t i = 0; v->choices && v->choices[i] && n < len; i++)
            n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? ", " : sep, v->choices[i]);
    if (n <= 1 || n + 2 > len) {
        buf[0] = '\0';
        return;
    }
    buf[n] = ')';
    buf[n + 1] = '\0';
}

void config_print_help(FILE *out) {
    pthread_mutex_lock(&reg_lock);
    int n = ntables;
    const config_var_t *copy[MAX_TABLES];
    memcpy(copy, tables, sizeof copy);
    pthread_mutex_unlock(&reg_lock);
    for (int t = 0; t < n; t++)
        for (const config_var_t *v = copy[t]; v->name; v++) {
            int col = fprintf(out, "  %s", v->name);
            if (col > HELP_COLUMN - 2) {
                fputc('\n', out);
                col = 0;
            }
            fprintf(out, "%*s", HELP_COLUMN - col, "");
            col = HELP_COLUMN;
            char suffix[320];
            help_suffix(v, suffix, sizeof suffix);
            help_words(out, v->help ? v->help : "", &col);
            help_words(out, suffix, &col);
            fputc('\n', out);
        }
}
