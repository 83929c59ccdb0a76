/* log -- one JSON object per line on stdout (12-factor logs as an event stream).
 *
 * Every line carries "ts" (UTC ISO-8601 with ms), "level", "service" and "msg", plus any
 * extra fields the caller passes. LOG_LEVEL filters; LOG_FORMAT=text prints
 * "ts level service msg k=v" for humans instead of JSON (choices and defaults: the rows of
 * log_config_vars in log.c).
 * Lines are always valid UTF-8: bytes that are not (a raw request path, say) become U+FFFD.
 * Thread-safe: a line is written with one fwrite under the stdio lock. */
#ifndef TIZZA_LOG_H
#define TIZZA_LOG_H

#include <cjson/cJSON.h>

#include "config.h"

enum log_level { LOG_DEBUG = 0, LOG_INFO = 1, LOG_WARN = 2, LOG_ERROR = 3 };

/* LOG_LEVEL and LOG_FORMAT (config.h's table). */
extern const config_var_t log_config_vars[];

/* Declares log_config_vars and reads LOG_LEVEL / LOG_FORMAT (config.h semantics: an invalid
 * value exits 2). */
void log_init(const char *service);

int log_enabled(enum log_level level);

/* printf-style message. */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Message plus extra fields; takes ownership of `fields` (a cJSON object, may be NULL). */
void log_fields(enum log_level level, const char *msg, cJSON *fields);

#endif
