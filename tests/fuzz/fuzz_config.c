/* fuzz_config -- config.h's getters on a value from the environment.
 *
 * Input: byte 0 picks the getter (config_long, config_bool, config_enum, config_url) and the
 * bounds or choices of the one declared row; the rest, cut at its first NUL and at 1024
 * bytes, is the value of the variable FUZZ_CONFIG (a putenv()ed buffer of this file,
 * rewritten for each input).
 *
 * An invalid value makes config_fail() print one line and exit(2): the end of the process,
 * which libFuzzer would take for a crash. config.c offers no hook, so this target is linked
 * with -Wl,--wrap=exit (Makefile, FUZZ_LDFLAGS_config): while a getter runs, __wrap_exit()
 * jumps back here instead (longjmp; config_fail() holds no resources by then); at any other
 * time it is exit(). stderr is pointed at a memory buffer meanwhile, which holds the line.
 *
 * Checked (abort when broken), against config.h and the top of config.c:
 *   an empty value gives the default;
 *   config_long  accepts exactly an optional sign and decimal digits whose value is within
 *                [min, max], and returns that value;
 *   config_bool  accepts exactly 1/0, true/false, yes/no, on/off in any case, and reads them;
 *   config_enum  accepts exactly the choices in any case and returns the choice's own string;
 *   config_url   returns the value with only trailing '/' removed (none when it has '?'
 *                or '#'), starting with http:// or https://;
 *   a refusal prints exactly "fuzz_config: config: FUZZ_CONFIG: <reason>\n": the reason
 *                says what is expected and never echoes the value.
 *
 * config_url keeps a copy of every value it accepts until exit (by design, config_url.c), so
 * such an input ends with more mallocs than frees and libFuzzer runs a leak check after it:
 * slow (a few thousand inputs a second) until libFuzzer stops doing that after 1000 of them. */
#include "fuzz.h"
#include "config.h"

#include <limits.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NAME      "FUZZ_CONFIG"
#define PREFIX    "fuzz_config: config: " NAME ": "
#define VALUE_MAX 1024

static char env[sizeof NAME + 1 + VALUE_MAX + 1] = NAME "=";
static char *const value = env + sizeof NAME;

/* ---- exit(2) of config_fail() back to the caller ---- */

void __real_exit(int status) __attribute__((noreturn));
void __wrap_exit(int status) __attribute__((noreturn));

static jmp_buf trap;
static volatile bool armed;
static volatile int exit_status;
static char line[1024];
static FILE *capture;

void __wrap_exit(int status) {
    if (!armed) __real_exit(status);
    armed = false;
    exit_status = status;
    longjmp(trap, 1);
}

/* The one declared row, FUZZ_CONFIG, rewritten for each call (config.c keeps the pointer). */
static config_var_t rows[2] = {{.name = NAME, .help = "the fuzzed variable"}, {.name = NULL}};
static char def_text[32];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    config_set_program("fuzz_config");
    config_declare(rows);
    capture = fmemopen(line, sizeof line, "w");
    if (!capture || putenv(env) != 0) abort();
    return 0;
}

/* ---- the getters ---- */

static const struct {
    long min, max, def;
} ranges[] = {
    {1, 65535, 8001},                /* PORT */
    {0, 600000, 30000},              /* DRAIN_MS, AUTH_WAIT_MS */
    {1024, 16 * 1024 * 1024, 65536}, /* BODY_LIMIT */
    {-5, 5, 0},                      /* negative bounds */
    {LONG_MIN, LONG_MAX, 0},         /* every long */
    {0, 0, 0},                       /* one value */
};

static const char *const stores[] = {"sqlite", "mongodb", NULL};
static const char *const levels[] = {"debug", "info", "warn", "error", NULL};
static const char *const many[] = {"alpha-choice-number-one",
                                   "bravo-choice-number-two",
                                   "charlie-choice-number-three",
                                   "delta-choice-number-four",
                                   "echo-choice-number-five",
                                   "foxtrot-choice-number-six",
                                   "golf-choice-number-seven",
                                   "hotel-choice-number-eight",
                                   "india-choice-number-nine",
                                   "juliett-choice-number-ten",
                                   "kilo-choice-number-eleven",
                                   "lima-choice-number-twelve",
                                   NULL}; /* longer than the 256-byte reason */
static const char *const *const choice_lists[] = {stores, levels, many};

enum getter { LONG, BOOL, ENUM, URL };

/* One call; true when it returned (the result in *out), false when config_fail() ran. */
static bool call(enum getter g, unsigned variant, long *lout, bool *bout, const char **sout) {
    FILE *saved = stderr;
    memset(line, 0, sizeof line);
    rewind(capture);
    stderr = capture;
    if (setjmp(trap)) {
        stderr = saved;
        check(exit_status == 2);
        return false;
    }
    armed = true;
    switch (g) {
    case LONG: {
        unsigned r = variant % (sizeof ranges / sizeof ranges[0]);
        snprintf(def_text, sizeof def_text, "%ld", ranges[r].def);
        rows[0] = (config_var_t){.name = NAME, .type = CONFIG_LONG, .def = def_text,
                                 .min = ranges[r].min, .max = ranges[r].max};
        *lout = config_long(NAME);
        break;
    }
    case BOOL:
        rows[0] = (config_var_t){.name = NAME, .type = CONFIG_BOOL,
                                 .def = variant & 1 ? "true" : "false"};
        *bout = config_bool(NAME);
        break;
    case ENUM:
        rows[0] = (config_var_t){
            .name = NAME, .type = CONFIG_ENUM, .def = "default",
            .choices = choice_lists[variant % (sizeof choice_lists / sizeof choice_lists[0])]};
        *sout = config_enum(NAME);
        break;
    case URL:
        rows[0] = (config_var_t){.name = NAME, .type = CONFIG_URL, .def = "http://127.0.0.1:8001"};
        *sout = config_url(NAME);
        break;
    }
    armed = false;
    stderr = saved;
    return true;
}

/* ---- what the getters promise ---- */

/* An optional sign and decimal digits within [min, max]: *x its value. */
static bool decimal_in(const char *v, long min, long max, long *x) {
    bool neg = *v == '-';
    if (*v == '-' || *v == '+') v++;
    if (!*v) return false;
    long n = 0;
    for (; *v; v++) {
        if (*v < '0' || *v > '9') return false;
        if (__builtin_mul_overflow(n, 10, &n) ||
            __builtin_add_overflow(n, neg ? -(*v - '0') : *v - '0', &n))
            return false;
    }
    *x = n;
    return n >= min && n <= max;
}

static int bool_word(const char *v) {
    static const char *const yes[] = {"1", "true", "yes", "on"}, *const no[] = {"0", "false", "no",
                                                                                "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0) return 1;
        if (strcasecmp(v, no[i]) == 0) return 0;
    }
    return -1;
}

static void expect_line(const char *reason) {
    char want[sizeof line];
    snprintf(want, sizeof want, PREFIX "%s\n", reason);
    if (strcmp(line, want) != 0) fprintf(stderr, "config: printed %s", line);
    check(strcmp(line, want) == 0);
}

static void check_long(unsigned variant, bool ok, long got) {
    unsigned r = variant % (sizeof ranges / sizeof ranges[0]);
    long x = 0;
    bool valid = decimal_in(value, ranges[r].min, ranges[r].max, &x);
    if (!*value)
        check(ok && got == ranges[r].def);
    else if (ok)
        check(valid && got == x);
    else {
        check(!valid);
        char reason[96];
        snprintf(reason, sizeof reason, "must be an integer from %ld to %ld", ranges[r].min,
                 ranges[r].max);
        expect_line(reason);
    }
}

static void check_bool(unsigned variant, bool ok, bool got) {
    int word = bool_word(value);
    if (!*value)
        check(ok && got == (variant & 1));
    else if (ok)
        check(word >= 0 && got == word);
    else {
        check(word < 0);
        expect_line("must be true or false (or 1/0, yes/no, on/off)");
    }
}

static void check_enum(unsigned variant, bool ok, const char *got) {
    const char *const *choices =
        choice_lists[variant % (sizeof choice_lists / sizeof choice_lists[0])];
    const char *match = NULL;
    for (size_t i = 0; choices[i] && !match; i++)
        if (strcasecmp(value, choices[i]) == 0) match = choices[i];
    if (!*value)
        check(ok && strcmp(got, "default") == 0);
    else if (ok)
        check(match && got == match);
    else {
        check(!match);
        char reason[256] = "must be one of "; /* the list, cut to the reason's size */
        for (size_t i = 0; choices[i]; i++) {
            if (i) strncat(reason, ", ", sizeof reason - strlen(reason) - 1);
            strncat(reason, choices[i], sizeof reason - strlen(reason) - 1);
        }
        expect_line(reason);
    }
}

static void check_url(bool ok, const char *got) {
    const char *v = *value ? value : "http://127.0.0.1:8001";
    if (!ok) {
        expect_line("must be an http:// or https:// URL with a host");
        return;
    }
    size_t n = strlen(got);
    check(strncmp(got, v, n) == 0);
    check(strncasecmp(got, "http://", 7) == 0 || strncasecmp(got, "https://", 8) == 0);
    for (const char *rest = v + n; *rest; rest++) check(*rest == '/'); /* only '/' cut */
    if (strpbrk(v, "?#"))
        check(v[n] == '\0');
    else
        check(n > 0 && got[n - 1] != '/');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    size_t n = size - 1 < VALUE_MAX ? size - 1 : VALUE_MAX;
    memcpy(value, data + 1, n);
    value[n] = '\0';
    enum getter g = (enum getter)(data[0] % 4);
    unsigned variant = data[0] / 4;

    long l = 0;
    bool b = false;
    const char *s = NULL;
    bool ok = call(g, variant, &l, &b, &s);
    switch (g) {
    case LONG: check_long(variant, ok, l); break;
    case BOOL: check_bool(variant, ok, b); break;
    case ENUM: check_enum(variant, ok, s); break;
    case URL: check_url(ok, s); break;
    }
    return 0;
}
