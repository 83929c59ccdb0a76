/* test_config.c -- environment configuration (config.c: the declared rows, the getters,
 * --help), libcommon's tables, and the logger's env handling and line format (log.c). The fatal
 * path (exit 2 plus one stderr line) runs in a forked child whose stderr is a pipe. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "authn.h"
#include "config.h"
#include "conn.h"
#include "events.h"
#include "http.h"
#include "log.h"
#include "remote.h"
#include "store.h"
#include "testlib.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROG "test-prog"

/* --- helpers ---------------------------------------------------------------------------- */

/* Runs fn in a child (exit 0 when fn returns: the value was accepted); returns its exit
 * status (-1 if it did not exit) and its stderr. */
static int run_child(void (*fn)(void), char *err, size_t size) {
    int st = test_in_child(fn, err, size);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Expects fn to exit 2 printing exactly `line`. */
static void expect_fail(void (*fn)(void), const char *line) {
    char err[512];
    assert_int_equal(run_child(fn, err, sizeof err), 2);
    assert_string_equal(err, line);
}

static const char *const stores[] = {"sqlite", "mongodb", NULL};

static long computed_default(void) { return 42; }

/* The rows these tests read. */
static const config_var_t test_vars[] = {
    {.name = "TZ_STR", .type = CONFIG_STR, .def = "dflt", .help = "a string"},
    {.name = "TZ_STR_NONE", .type = CONFIG_STR, .def_doc = "none", .help = "no default"},
    {.name = "TZ_LONG", .type = CONFIG_LONG, .def = "5", .min = 1, .max = 10, .help = "small"},
    {.name = "TZ_NEG", .type = CONFIG_LONG, .def = "0", .min = -5, .max = 5, .help = "signed"},
    {.name = "TZ_PORT",
     .type = CONFIG_LONG,
     .def = "8001",
     .min = 1,
     .max = 65535,
     .help = "a port"},
    {.name = "TZ_COMPUTED",
     .type = CONFIG_LONG,
     .def_fn = computed_default,
     .def_doc = "the answer",
     .min = 1,
     .max = 100,
     .help = "computed default"},
    {.name = "TZ_OVERRIDE",
     .type = CONFIG_LONG,
     .def_doc = "the binary's",
     .min = 1,
     .max = 65535,
     .help = "default set at run time"},
    {.name = "TZ_BOOL", .type = CONFIG_BOOL, .def = "false", .help = "off by default"},
    {.name = "TZ_BOOL_ON", .type = CONFIG_BOOL, .def = "true", .help = "on by default"},
    {.name = "TZ_ENUM",
     .type = CONFIG_ENUM,
     .def = "sqlite",
     .choices = stores,
     .help = "a backend"},
    {.name = "TZ_URL", .type = CONFIG_URL, .def = "http://127.0.0.1:8001/", .help = "a URL"},
    {.name = "TZ_URL_NONE", .type = CONFIG_URL, .help = "a URL without default"},
    {.name = "TZ_RATE", .type = CONFIG_RATE, .def = "10/20", .help = "a rate"},
    {.name = NULL},
};

static void child_long(void) { config_long("TZ_LONG"); }
static void child_long_neg(void) { config_long("TZ_NEG"); }
static void child_bool(void) { config_bool("TZ_BOOL"); }
static void child_enum(void) { config_enum("TZ_ENUM"); }
static void child_url(void) { config_url("TZ_URL"); }
static void child_rate(void) {
    double pm, burst;
    config_rate("TZ_RATE", &pm, &burst);
}
static void child_fail(void) { config_fail("PORT", "must be a port"); }

/* --- config ------------------------------------------------------------------------------ */

static void test_str(void **state) {
    unsetenv("TZ_STR");
    assert_string_equal(config_str("TZ_STR"), "dflt");
    assert_null(config_str("TZ_STR_NONE"));
    setenv("TZ_STR", "", 1);
    assert_string_equal(config_str("TZ_STR"), "dflt");
    setenv("TZ_STR", "value", 1);
    assert_string_equal(config_str("TZ_STR"), "value");
    unsetenv("TZ_STR");
}

static void test_long_good(void **state) {
    unsetenv("TZ_LONG");
    assert_int_equal(config_long("TZ_LONG"), 5);
    setenv("TZ_LONG", "", 1);
    assert_int_equal(config_long("TZ_LONG"), 5);
    setenv("TZ_LONG", "7", 1);
    assert_int_equal(config_long("TZ_LONG"), 7);
    setenv("TZ_LONG", "1", 1);
    assert_int_equal(config_long("TZ_LONG"), 1);
    setenv("TZ_LONG", "10", 1);
    assert_int_equal(config_long("TZ_LONG"), 10);
    setenv("TZ_LONG", "+4", 1);
    assert_int_equal(config_long("TZ_LONG"), 4);
    setenv("TZ_NEG", "-5", 1);
    assert_int_equal(config_long("TZ_NEG"), -5);
    unsetenv("TZ_NEG");
    setenv("TZ_PORT", "65535", 1);
    assert_int_equal(config_long("TZ_PORT"), 65535);
    unsetenv("TZ_PORT");
    assert_int_equal(config_long("TZ_PORT"), 8001);
    unsetenv("TZ_LONG");
}

static void test_long_defaults(void **state) {
    unsetenv("TZ_COMPUTED");
    unsetenv("TZ_OVERRIDE");
    assert_int_equal(config_long("TZ_COMPUTED"), 42);
    setenv("TZ_COMPUTED", "7", 1);
    assert_int_equal(config_long("TZ_COMPUTED"), 7);
    unsetenv("TZ_COMPUTED");
    config_set_default("TZ_OVERRIDE", "8004");
    assert_int_equal(config_long("TZ_OVERRIDE"), 8004);
    config_set_default("TZ_OVERRIDE", "8003"); /* the latest counts */
    assert_int_equal(config_long("TZ_OVERRIDE"), 8003);
    setenv("TZ_OVERRIDE", "9000", 1);
    assert_int_equal(config_long("TZ_OVERRIDE"), 9000);
    unsetenv("TZ_OVERRIDE");
}

static void test_long_bad(void **state) {
    const char *line = PROG ": config: TZ_LONG: must be an integer from 1 to 10\n";
    const char *bad[] = {
        "abc", "12x", " 5", "5 ", "0x10", "1.5", "-", "+", "11", "0", "99999999999999999999999",
        "--1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv("TZ_LONG", bad[i], 1);
        expect_fail(child_long, line);
    }
    setenv("TZ_NEG", "-6", 1);
    expect_fail(child_long_neg, PROG ": config: TZ_NEG: must be an integer from -5 to 5\n");
    unsetenv("TZ_NEG");
    /* The good path in a child exits 0, so the helper itself can tell the two apart. */
    char err[64];
    setenv("TZ_LONG", "3", 1);
    assert_int_equal(run_child(child_long, err, sizeof err), 0);
    assert_string_equal(err, "");
    unsetenv("TZ_LONG");
}

static void test_bool(void **state) {
    const char *yes[] = {"1", "true", "TRUE", "yes", "Yes", "on", "ON"};
    const char *no[] = {"0", "false", "False", "no", "NO", "off", "Off"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        setenv("TZ_BOOL", yes[i], 1);
        assert_true(config_bool("TZ_BOOL"));
        setenv("TZ_BOOL_ON", no[i], 1);
        assert_false(config_bool("TZ_BOOL_ON"));
    }
    unsetenv("TZ_BOOL");
    unsetenv("TZ_BOOL_ON");
    assert_true(config_bool("TZ_BOOL_ON"));
    assert_false(config_bool("TZ_BOOL"));
    setenv("TZ_BOOL_ON", "", 1);
    assert_true(config_bool("TZ_BOOL_ON"));
    unsetenv("TZ_BOOL_ON");

    const char *line = PROG ": config: TZ_BOOL: must be true or false (or 1/0, yes/no, on/off)\n";
    const char *bad[] = {"2", "maybe", "tru", "yes ", "y", "-1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv("TZ_BOOL", bad[i], 1);
        expect_fail(child_bool, line);
    }
    unsetenv("TZ_BOOL");
}

static void test_enum(void **state) {
    unsetenv("TZ_ENUM");
    assert_ptr_equal(config_enum("TZ_ENUM"), stores[0]);
    setenv("TZ_ENUM", "mongodb", 1);
    assert_ptr_equal(config_enum("TZ_ENUM"), stores[1]);
    setenv("TZ_ENUM", "MongoDB", 1);
    assert_ptr_equal(config_enum("TZ_ENUM"), stores[1]);

    setenv("TZ_ENUM", "postgres", 1);
    expect_fail(child_enum, PROG ": config: TZ_ENUM: must be one of sqlite, mongodb\n");
    setenv("TZ_ENUM", "sqlite3", 1);
    expect_fail(child_enum, PROG ": config: TZ_ENUM: must be one of sqlite, mongodb\n");
    unsetenv("TZ_ENUM");
}

static void test_rate(void **state) {
    double pm = -1, burst = -1;
    unsetenv("TZ_RATE");
    config_rate("TZ_RATE", &pm, &burst);
    assert_true(pm == 10 && burst == 20);
    setenv("TZ_RATE", "3", 1);
    config_rate("TZ_RATE", &pm, &burst);
    assert_true(pm == 3 && burst == 3);
    setenv("TZ_RATE", "0.5/2", 1);
    config_rate("TZ_RATE", &pm, &burst);
    assert_true(pm == 0.5 && burst == 2);
    setenv("TZ_RATE", "0", 1);
    config_rate("TZ_RATE", &pm, &burst);
    assert_true(pm == 0);
    const char *line = PROG ": config: TZ_RATE: must be per_minute[/burst] (numbers), or 0 to "
                            "disable\n";
    const char *bad[] = {"fast", "5/", "/5", "-1", "5/0.5", "5/x", "5 per minute"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv("TZ_RATE", bad[i], 1);
        expect_fail(child_rate, line);
    }
    unsetenv("TZ_RATE");
}

static void test_url_good(void **state) {
    unsetenv("TZ_URL");
    assert_string_equal(config_url("TZ_URL"), "http://127.0.0.1:8001");
    assert_null(config_url("TZ_URL_NONE"));
    setenv("TZ_URL", "https://auth.example/api//", 1);
    assert_string_equal(config_url("TZ_URL"), "https://auth.example/api");
    setenv("TZ_URL", "http://localhost:8002", 1);
    assert_string_equal(config_url("TZ_URL"), "http://localhost:8002");
    setenv("TZ_URL", "HTTP://[::1]:8003/", 1);
    assert_string_equal(config_url("TZ_URL"), "HTTP://[::1]:8003");
    /* The result is a copy: changing the environment does not change it. */
    const char *kept = config_url("TZ_URL");
    setenv("TZ_URL", "http://other", 1);
    assert_string_equal(kept, "HTTP://[::1]:8003");
    unsetenv("TZ_URL");
}

static void test_url_bad(void **state) {
    const char *line = PROG ": config: TZ_URL: must be an http:// or https:// URL with a host\n";
    const char *bad[] = {"ftp://example.com", "127.0.0.1:8001",      "http://",
                         "http:///path",      "http://exa mple.com", "mongodb://localhost",
                         "example.com",       "http//example.com",   "http://host:99999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv("TZ_URL", bad[i], 1);
        expect_fail(child_url, line);
    }
    unsetenv("TZ_URL");
}

static void test_fail_line(void **state) {
    expect_fail(child_fail, PROG ": config: PORT: must be a port\n");
    config_set_program("/usr/local/bin/tizza-auth"); /* a path is reduced to its name */
    expect_fail(child_fail, "tizza-auth: config: PORT: must be a port\n");
    config_set_program(PROG);
}

/* --- declarations ---------------------------------------------------------------------- */

/* Runs fn in a child and expects it to abort (a programming error), naming `name`. */
static void expect_abort(void (*fn)(void), const char *name) {
    char err[512];
    assert_int_equal(run_child(fn, err, sizeof err), -1);
    assert_non_null(strstr(err, name));
}

static void child_undeclared(void) { config_str("TZ_NOT_DECLARED"); }
static void child_undeclared_long(void) { config_long("TZ_NOT_DECLARED"); }
static void child_wrong_type(void) { config_long("TZ_STR"); }
static void child_undeclared_default(void) { config_set_default("TZ_NOT_DECLARED", "1"); }
static const config_var_t again[] = {
    {.name = "TZ_OTHER", .type = CONFIG_STR, .help = "fine"},
    {.name = "TZ_STR", .type = CONFIG_STR, .help = "declared twice"},
    {.name = NULL},
};
static void child_declared_twice(void) { config_declare(again); }
static const config_var_t late[] = {
    {.name = "TZ_LATE", .type = CONFIG_STR, .help = "after --help was printed"},
    {.name = NULL},
};
static void child_after_seal(void) {
    config_seal();
    config_declare(test_vars); /* already declared: fine */
    config_declare(late);
}

static void test_undeclared_aborts(void **state) {
    setenv("TZ_NOT_DECLARED", "x", 1);
    expect_abort(child_undeclared, "TZ_NOT_DECLARED");
    expect_abort(child_undeclared_long, "TZ_NOT_DECLARED");
    unsetenv("TZ_NOT_DECLARED");
    expect_abort(child_undeclared, "TZ_NOT_DECLARED"); /* unset or not */
    expect_abort(child_wrong_type, "TZ_STR");
    expect_abort(child_undeclared_default, "TZ_NOT_DECLARED");
    expect_abort(child_declared_twice, "TZ_STR");
    expect_abort(child_after_seal, "TZ_LATE");
    assert_null(config_lookup("TZ_NOT_DECLARED"));
    assert_non_null(config_lookup("TZ_STR"));
    config_declare(test_vars); /* the same table again is one declaration */
}

/* libcommon's own tables: declared together (no name twice), every row with its help, a
 * LONG default within its range, an ENUM default among its choices, a computed default
 * described for --help. */
static void test_libcommon_tables(void **state) {
    const config_var_t *const tables[] = {
        log_config_vars,          http_config_vars,   conn_config_vars,
        store_config_vars,        events_config_vars, authn_config_vars,
        authn_remote_config_vars, remote_config_vars, test_vars};
    int rows = 0;
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
        config_declare(tables[t]);
        for (const config_var_t *v = tables[t]; v->name; v++, rows++) {
            assert_true(v->help && *v->help);
            assert_ptr_equal(config_lookup(v->name), v);
            if (v->def_fn || (!v->def && v->type != CONFIG_STR && v->type != CONFIG_URL))
                assert_non_null(v->def_doc);
            if (v->type == CONFIG_LONG && v->def) {
                long x = strtol(v->def, NULL, 10);
                assert_true(v->min <= x && x <= v->max);
            }
            if (v->type == CONFIG_ENUM) {
                bool found = false;
                for (size_t i = 0; v->choices[i]; i++) found |= !strcmp(v->choices[i], v->def);
                assert_true(found);
            }
        }
    }
    assert_true(rows > 30);
    /* the settings whose defaults once drifted */
    assert_string_equal(config_lookup("HTTP_THREADS")->def_doc, "online CPUs, at most 8");
    assert_non_null(config_lookup("AMQP_PREFETCH"));
    assert_non_null(config_lookup("TIZZA_LIB_DIR"));
}

/* --help prints every declared row with its default and range. */
static void test_help(void **state) {
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    config_set_default("TZ_OVERRIDE", "8002");
    config_print_help(out);
    fclose(out);
    test_defer_free(text);
    for (const config_var_t *v = test_vars; v->name; v++) {
        char head[64];
        snprintf(head, sizeof head, "  %s ", v->name);
        const char *at = strstr(text, head);
        assert_true(at && (at == text || at[-1] == '\n'));
    }
    assert_non_null(strstr(text, "  TZ_LONG             small (5; 1 to 10)\n"));
    assert_non_null(
        strstr(text, "  TZ_OVERRIDE         default set at run time (8002; 1 to 65535)\n"));
    assert_non_null(
        strstr(text, "  TZ_COMPUTED         computed default (the answer; 1 to 100)\n"));
    assert_non_null(strstr(text, "  TZ_ENUM             a backend (sqlite; sqlite, mongodb)\n"));
    assert_non_null(strstr(text, "  TZ_STR_NONE         no default (none)\n"));
    assert_non_null(strstr(text, "  TZ_URL_NONE         a URL without default\n"));
    assert_non_null(strstr(text, "  TZ_RATE             a rate (10/20)\n"));
    assert_non_null(strstr(text, "  LOG_LEVEL "));
    assert_non_null(strstr(text, "  HTTP_THREADS "));
    /* unwrapped, a row reads as one line */
    char *flat = test_defer_free(strdup(text)), *w = flat;
    for (const char *r = text; *r; r++) {
        if (r[0] == '\n' && strncmp(r + 1, "                      ", 22) == 0) {
            *w++ = ' ';
            r += 22;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
    assert_non_null(strstr(flat, "  HTTP_THREADS        event-loop threads, all on one port with "
                                 "SO_REUSEPORT (online CPUs, at most 8; 1 to 64)\n"));
    /* a name longer than the column gets a line of its own; no line runs past 96 */
    assert_non_null(strstr(text, "\n  REMOTE_BREAKER_COOLDOWN_MS\n                      "));
    for (char *line = text, *nl; (nl = strchr(line, '\n')); line = nl + 1)
        assert_true(nl - line <= 96);
}

/* --- log ----------------------------------------------------------------------------------- */

struct capture {
    FILE *tmp;
    int saved;
};

static void capture_start(struct capture *c) {
    char path[PATH_MAX];
    fflush(stdout);
    c->tmp = fopen(test_tmppath(path, sizeof path, "stdout"), "w+");
    assert_non_null(c->tmp);
    c->saved = dup(1);
    dup2(fileno(c->tmp), 1);
}

/* Restores stdout and returns what was written, freed by the teardown. */
static char *capture_end(struct capture *c) {
    fflush(stdout);
    dup2(c->saved, 1);
    close(c->saved);
    fseek(c->tmp, 0, SEEK_END);
    long n = ftell(c->tmp);
    rewind(c->tmp);
    char *buf = test_defer_free(calloc(1, (size_t)n + 1));
    size_t got = fread(buf, 1, (size_t)n, c->tmp);
    fclose(c->tmp);
    assert_int_equal(got, (size_t)n);
    return buf;
}

static void log_env(const char *level, const char *format) {
    if (level)
        setenv("LOG_LEVEL", level, 1);
    else
        unsetenv("LOG_LEVEL");
    if (format)
        setenv("LOG_FORMAT", format, 1);
    else
        unsetenv("LOG_FORMAT");
}

static void child_log_init(void) { log_init("svc"); }

static void test_log_init(void **state) {
    log_env(NULL, NULL);
    log_init("svc");
    assert_false(log_enabled(LOG_DEBUG));
    assert_true(log_enabled(LOG_INFO));
    assert_true(log_enabled(LOG_ERROR));

    log_env("warn", "json");
    log_init("svc");
    assert_false(log_enabled(LOG_INFO));
    assert_true(log_enabled(LOG_WARN));

    log_env("DEBUG", "TEXT");
    log_init("svc");
    assert_true(log_enabled(LOG_DEBUG));

    log_env("verbose", NULL);
    expect_fail(child_log_init,
                PROG ": config: LOG_LEVEL: must be one of debug, info, warn, error\n");
    log_env(NULL, "yaml");
    expect_fail(child_log_init, PROG ": config: LOG_FORMAT: must be one of json, text\n");
    log_env(NULL, NULL);
}

static void test_log_json_line(void **state) {
    log_env("info", NULL);
    log_init("tizza-test");

    struct capture c;
    capture_start(&c);
    log_msg(LOG_DEBUG, "hidden %d", 1);
    log_msg(LOG_INFO, "hello %s %d", "world", 42);
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "route", "/api/v1/pizzas");
    cJSON_AddNumberToObject(f, "status", 200);
    cJSON_AddStringToObject(f, "msg", "dropped: reserved key");
    cJSON_AddStringToObject(f, "quote", "a\"b\nc");
    log_fields(LOG_WARN, "request", f);
    log_fields(LOG_DEBUG, "hidden too", cJSON_CreateObject()); /* freed, not printed */
    char *out = capture_end(&c);

    char *nl = strchr(out, '\n');
    assert_non_null(nl);
    *nl = '\0';
    char *second = nl + 1;
    nl = strchr(second, '\n');
    assert_non_null(nl);
    *nl = '\0';
    assert_string_equal(nl + 1, ""); /* exactly two lines */

    cJSON *a = test_defer_json(cJSON_Parse(out));
    assert_non_null(a);
    const char *keys[] = {"ts", "level", "service", "msg"};
    const cJSON *it = a->child;
    for (int i = 0; i < 4; i++, it = it->next) {
        assert_non_null(it);
        assert_string_equal(it->string, keys[i]);
    }
    assert_null(it);
    const char *ts = cJSON_GetObjectItem(a, "ts")->valuestring;
    assert_int_equal(strlen(ts), 24);
    assert_int_equal(ts[23], 'Z');
    assert_string_equal(cJSON_GetObjectItem(a, "level")->valuestring, "info");
    assert_string_equal(cJSON_GetObjectItem(a, "service")->valuestring, "tizza-test");
    assert_string_equal(cJSON_GetObjectItem(a, "msg")->valuestring, "hello world 42");

    cJSON *b = test_defer_json(cJSON_Parse(second));
    assert_non_null(b);
    const char *bkeys[] = {"ts", "level", "service", "msg", "route", "status", "quote"};
    it = b->child;
    for (int i = 0; i < 7; i++, it = it->next) {
        assert_non_null(it);
        assert_string_equal(it->string, bkeys[i]);
    }
    assert_null(it);
    assert_string_equal(cJSON_GetObjectItem(b, "level")->valuestring, "warn");
    assert_string_equal(cJSON_GetObjectItem(b, "msg")->valuestring, "request");
    assert_int_equal(cJSON_GetObjectItem(b, "status")->valueint, 200);
    assert_string_equal(cJSON_GetObjectItem(b, "quote")->valuestring, "a\"b\nc");
}

static void test_log_long_message(void **state) {
    log_env(NULL, NULL);
    log_init("svc");
    char big[3000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    struct capture c;
    capture_start(&c);
    log_msg(LOG_ERROR, "%s!", big);
    char *out = capture_end(&c);
    cJSON *a = test_defer_json(cJSON_Parse(out));
    assert_non_null(a);
    const char *msg = cJSON_GetObjectItem(a, "msg")->valuestring;
    assert_int_equal(strlen(msg), sizeof big);
    assert_int_equal(msg[sizeof big - 1], '!');
}

static void test_log_text_line(void **state) {
    log_env(NULL, "text");
    log_init("svc");
    struct capture c;
    capture_start(&c);
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "user", "alice");
    cJSON_AddNumberToObject(f, "n", 3);
    cJSON_AddStringToObject(f, "note", "two words");
    cJSON_AddBoolToObject(f, "ok", 1);
    log_fields(LOG_ERROR, "boom\nsecond line", f);
    char *out = capture_end(&c);
    /* "<ts> error svc boom second line user=alice n=3 note="two words" ok=true\n" */
    assert_int_equal(out[23], 'Z');
    assert_string_equal(out + 24,
                        " error svc boom second line user=alice n=3 note=\"two words\" ok=true\n");
    log_env(NULL, NULL);
    log_init("svc");
}

static void *log_worker(void *arg) {
    for (int i = 0; i < 200; i++) {
        cJSON *f = cJSON_CreateObject();
        cJSON_AddNumberToObject(f, "thread", (double)(intptr_t)arg);
        cJSON_AddNumberToObject(f, "i", i);
        cJSON_AddStringToObject(f, "pad", "................................................");
        log_fields(LOG_INFO, "concurrent", f);
    }
    return NULL;
}

static void test_log_threads_whole_lines(void **state) {
    log_env(NULL, NULL);
    log_init("svc");
    struct capture c;
    capture_start(&c);
    pthread_t t[4];
    for (intptr_t i = 0; i < 4; i++) pthread_create(&t[i], NULL, log_worker, (void *)i);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    char *out = capture_end(&c);

    int lines = 0, per[4] = {0};
    for (char *save = NULL, *line = strtok_r(out, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        cJSON *j = test_defer_json(cJSON_Parse(line));
        assert_non_null(j); /* an interleaved line would not parse */
        int th = cJSON_GetObjectItem(j, "thread")->valueint;
        assert_true(th >= 0 && th < 4);
        assert_int_equal(cJSON_GetObjectItem(j, "i")->valueint, per[th]); /* in order */
        per[th]++;
        lines++;
        test_release(j);
    }
    assert_int_equal(lines, 800);
}

int main(void) {
    config_set_program(PROG);
    config_declare(test_vars);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_str),
        cmocka_unit_test(test_long_good),
        cmocka_unit_test(test_long_defaults),
        cmocka_unit_test(test_long_bad),
        cmocka_unit_test(test_bool),
        cmocka_unit_test(test_enum),
        cmocka_unit_test(test_rate),
        cmocka_unit_test(test_url_good),
        cmocka_unit_test(test_url_bad),
        cmocka_unit_test(test_fail_line),
        cmocka_unit_test(test_undeclared_aborts),
        cmocka_unit_test(test_libcommon_tables),
        cmocka_unit_test_teardown(test_help, test_cleanup),
        cmocka_unit_test(test_log_init),
        cmocka_unit_test_teardown(test_log_json_line, test_cleanup),
        cmocka_unit_test_teardown(test_log_long_message, test_cleanup),
        cmocka_unit_test_teardown(test_log_text_line, test_cleanup),
        cmocka_unit_test_teardown(test_log_threads_whole_lines, test_cleanup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
