/* log.c -- structured logging to stdout, one event per line.
 *
 * JSON format (default): {"ts","level","service","msg", ...extra fields} built with cJSON and
 * printed compactly. Text format (LOG_FORMAT=text): "ts level service msg k=v ..." where
 * string values are printed bare when they contain no space, quote, '=' or control
 * character, and JSON-quoted otherwise; other values print as JSON.
 *
 * Every line is valid UTF-8, whatever the bytes it carries: cJSON escapes control characters
 * but copies other bytes as they are, so a request path or a member name that is not UTF-8
 * would make the line invalid JSON. A rendered line that is not valid UTF-8 has each byte that
 * does not start a well-formed sequence replaced by U+FFFD (utf8_scrub) before it is written;
 * such a byte can only sit inside a string, so the line stays the same JSON document.
 *
 * Each line is rendered into one heap buffer (newline included) and written with a single
 * fwrite under flockfile(stdout), then flushed, so lines from different threads never
 * interleave and a pipe reader sees each event as soon as it happens.
 *
 * Extra fields named ts, level, service or msg are dropped: the four standard keys always
 * come first and appear once. A `fields` value that is not an object is logged under the
 * key "fields".
 *
 * State (service, level, format) is set once by log_init() at start, before threads exist,
 * from LOG_LEVEL and LOG_FORMAT (log_config_vars: choices and defaults);
 * before that the defaults are service "tizza", level info, JSON. */
#include "log.h"

#include "alloc.h"
#include "config.h"
#include "util.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static char log_service[64] = "tizza";
static enum log_level log_min = LOG_INFO;
static bool log_text = false;

static const char *const level_choices[] = {"debug", "info", "warn", "error", NULL};

static const char *level_name(enum log_level level) {
    if ((int)level < 0 || level > LOG_ERROR) return "error";
    return level_choices[level];
}

static const char *const format_choices[] = {"json", "text", NULL};

const config_var_t log_config_vars[] = {
    {.name = "LOG_LEVEL",
     .type = CONFIG_ENUM,
     .def = "info",
     .choices = level_choices,
     .help = "least severe level logged"},
    {.name = "LOG_FORMAT",
     .type = CONFIG_ENUM,
     .def = "json",
     .choices = format_choices,
     .help = "json: one object per line; text: for humans"},
    {.name = NULL},
};

void log_init(const char *service) {
    config_declare(log_config_vars);
    const char *lv = config_enum("LOG_LEVEL"), *fmt = config_enum("LOG_FORMAT");
    int level = LOG_INFO;
    for (int i = LOG_DEBUG; i <= LOG_ERROR; i++)
        if (lv == level_choices[i]) level = i;
    if (service && *service) str_copy(log_service, service, sizeof log_service);
    log_min = (enum log_level)level;
    log_text = strcmp(fmt, "text") == 0;
}

int log_enabled(enum log_level level) { return level >= log_min; }

/* Writes `len` bytes (a whole line) atomically with respect to other threads. */
static void write_line(const char *buf, size_t len) {
    flockfile(stdout);
    fwrite(buf, 1, len, stdout);
    fflush(stdout);
    funlockfile(stdout);
}

static bool reserved_key(const char *k) {
    return k &&
           (!strcmp(k, "ts") || !strcmp(k, "level") || !strcmp(k, "service") || !strcmp(k, "msg"));
}

/* Moves the members of `fields` (consumed) to the end of `line`. */
static void move_fields(cJSON *line, cJSON *fields) {
    if (!fields) return;
    if (!cJSON_IsObject(fields)) {
        cJSON_AddItemToObject(line, "fields", fields);
        return;
    }
    while (fields->child) {
        cJSON *item = cJSON_DetachItemViaPointer(fields, fields->child);
        if (reserved_key(item->string) || !cJSON_AddItemToObject(line, item->string, item))
            cJSON_Delete(item);
    }
    cJSON_Delete(fields);
}

static char *render_json(const char *ts, enum log_level level, const char *msg, cJSON *fields,
                         size_t *len) {
    cJSON *line = cJSON_CreateObject();
    cJSON_AddStringToObject(line, "ts", ts);
    cJSON_AddStringToObject(line, "level", level_name(level));
    cJSON_AddStringToObject(line, "service", log_service);
    cJSON_AddStringToObject(line, "msg", msg ? msg : "");
    move_fields(line, fields);

    char *body = cJSON_PrintUnformatted(line);
    cJSON_Delete(line);
    size_t n = strlen(body);
    char *out = xmalloc(n + 2);
    memcpy(out, body, n);
    out[n] = '\n';
    out[n + 1] = '\0';
    *len = n + 1;
    cJSON_free(body);
    return out;
}

static bool bare_ok(const char *s) {
    if (!*s) return false;
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || *s == '"' || *s == '=' || *s == 0x7f) return false;
    return true;
}

static void text_value(FILE *f, cJSON *v) {
    if (cJSON_IsString(v) && bare_ok(v->valuestring)) {
        fputs(v->valuestring, f);
        return;
    }
    char *s = cJSON_PrintUnformatted(v);
    fputs(s ? s : "?", f);
    cJSON_free(s);
}

static char *render_text(const char *ts, enum log_level level, const char *msg, cJSON *fields,
                         size_t *len) {
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    if (!f) {
        cJSON_Delete(fields);
        return NULL;
    }
    fprintf(f, "%s %s %s ", ts, level_name(level), log_service);
    for (const char *p = msg ? msg : ""; *p; p++) /* one event, one line */
        fputc((unsigned char)*p < ' ' ? ' ' : *p, f);
    if (cJSON_IsObject(fields)) {
        for (cJSON *it = fields->child; it; it = it->next) {
            if (reserved_key(it->string)) continue;
            fprintf(f, " %s=", it->string ? it->string : "?");
            text_value(f, it);
        }
    } else if (fields) {
        fputs(" fields=", f);
        text_value(f, fields);
    }
    fputc('\n', f);
    cJSON_Delete(fields);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

void log_fields(enum log_level level, const char *msg, cJSON *fields) {
    if (!log_enabled(level)) {
        cJSON_Delete(fields);
        return;
    }
    char ts[32];
    iso_now(ts);
    size_t len = 0;
    char *line = log_text ? render_text(ts, level, msg, fields, &len)
                          : render_json(ts, level, msg, fields, &len);
    if (line && utf8_len(line, len) < 0) {
        char *clean = utf8_scrub(line, len, &len);
        free(line);
        line = clean;
    }
    if (line) write_line(line, len);
    free(line);
}

void log_msg(enum log_level level, const char *fmt, ...) {
    if (!log_enabled(level)) return;
    va_list ap;
    va_start(ap, fmt);
    char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    log_fields(level, msg, NULL);
    free(msg);
}
