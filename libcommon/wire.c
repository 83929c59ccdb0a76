/* wire -- request bytes checked before evhttp reads them; see wire.h. */
#include "wire.h"

#include "alloc.h"

#include <http_parser.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/http.h>

struct wire {
    http_parser p; /* first: the callbacks get &p */
    size_t body_limit, upload_limit;
    wire_upload_fn is_upload; /* may be NULL: no uploads */
    void *upload_ctx;
    const char *chunk_end; /* end of the bytes being fed */
    int status;            /* the refusal, once refused */
    const char *detail;
    /* the request head being read */
    int hosts, transfer_encoding;
    int in_expect;   /* the value being read is Expect's */
    int expects;     /* Expect headers */
    char expect[16]; /* Expect's value, cut */
    size_t expect_len;
    char field[24]; /* the header name being read, lowercased, cut */
    size_t field_len;
    int in_value;        /* a value came after the name (the next name starts anew) */
    int value_cut_short; /* the last piece of value ended before the fed bytes did */
    char *target;        /* the request target, for libevent's URI parser */
    size_t target_len, target_cap;
};

static int refuse(wire_t *w, int status, const char *detail) {
    if (!w->status) {
        w->status = status;
        w->detail = detail;
    }
    return -1;
}

static int on_message_begin(http_parser *p) {
    wire_t *w = (wire_t *)p;
    w->hosts = w->transfer_encoding = 0;
    w->in_expect = 0;
    w->expects = 0;
    w->expect_len = 0;
    w->field_len = 0;
    w->in_value = w->value_cut_short = 0;
    w->target_len = 0;
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t n) {
    wire_t *w = (wire_t *)p;
    if (w->target_len + n + 1 > w->target_cap) {
        size_t cap = (w->target_len + n + 1) * 2;
        w->target = xrealloc(w->target, cap);
        w->target_cap = cap;
    }
    memcpy(w->target + w->target_len, at, n);
    w->target_len += n;
    w->target[w->target_len] = '\0';
    return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t n) {
    wire_t *w = (wire_t *)p;
    if (w->in_value) {
        w->in_value = 0;
        w->field_len = 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (at[i] == ' ' || at[i] == '\t') return refuse(w, 400, "white space in a header name");
        if (w->field_len < sizeof w->field - 1) w->field[w->field_len] = at[i];
        w->field_len++;
    }
    return 0;
}

static int is_field(const wire_t *w, const char *name) {
    return w->field_len == strlen(name) && strncasecmp(w->field, name, w->field_len) == 0;
}

static int on_header_value(http_parser *p, const char *at, size_t n) {
    wire_t *w = (wire_t *)p;
    if (!w->in_value) { /* the first piece of this header's value */
        w->in_value = 1;
        w->hosts += is_field(w, "host");
        w->transfer_encoding |= is_field(w, "transfer-encoding");
        w->in_expect = is_field(w, "expect");
        w->expects += w->in_expect;
    } else if (w->value_cut_short) {
        /* a second piece the fed bytes did not split: a continuation line (obs-fold) */
        return refuse(w, 400, "obsolete line folding in a header");
    }
    w->value_cut_short = at + n != w->chunk_end;
    for (size_t i = 0; w->in_expect && i < n; i++)
        if (w->expect_len < sizeof w->expect) w->expect[w->expect_len++] = at[i];
    return 0;
}

static int on_headers_complete(http_parser *p) {
    wire_t *w = (wire_t *)p;
    if (p->http_major != 1) return refuse(w, 505, "only HTTP/1.0 and HTTP/1.1 are served");
    if (p->method == HTTP_CONNECT) return refuse(w, 405, "CONNECT is not supported");
    if (w->hosts > 1 || (w->hosts == 0 && p->http_minor >= 1))
        return refuse(w, 400, "an HTTP/1.1 request needs exactly one Host header");
    if (w->expects > 1) return refuse(w, 417, "one Expect header at most");
    if (w->expect_len && (w->expect_len != 12 || strncasecmp(w->expect, "100-continue", 12)))
        return refuse(w, 417, "the only expectation served is 100-continue");
    if (w->transfer_encoding)
        return refuse(w, 411, "a request body needs Content-Length (no Transfer-Encoding)");
    if ((p->flags & F_CONTENTLENGTH) && p->content_length > w->body_limit &&
        !(w->is_upload && p->content_length <= w->upload_limit && w->target &&
          w->is_upload(http_method_str(p->method), w->target, w->upload_ctx)))
        return refuse(w, 413, "request body is over the limit");
    struct evhttp_uri *u =
        w->target ? evhttp_uri_parse_with_flags(w->target, EVHTTP_URI_NONCONFORMANT) : NULL;
    if (!u) return refuse(w, 400, "malformed request target");
    evhttp_uri_free(u);
    if (w->target_cap > 4096) { /* a long target: do not keep its buffer for the next */
        free(w->target);
        w->target = NULL;
        w->target_cap = 0;
    }
    w->target_len = 0;
    return 0;
}

static const http_parser_settings settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
};

static void set_head_limit(void) { http_parser_set_max_header_size(WIRE_HEAD_LIMIT); }

wire_t *wire_new(size_t body_limit) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, set_head_limit); /* the library's limit is process-wide */
    wire_t *w = xcalloc(1, sizeof *w);
    http_parser_init(&w->p, HTTP_REQUEST);
    w->body_limit = body_limit;
    return w;
}

void wire_allow_uploads(wire_t *w, size_t upload_limit, wire_upload_fn is_upload, void *ctx) {
    w->upload_limit = upload_limit;
    w->is_upload = is_upload;
    w->upload_ctx = ctx;
}

void wire_free(wire_t *w) {
    if (!w) return;
    free(w->target);
    free(w);
}

int wire_feed(wire_t *w, const char *data, size_t n, const char **detail) {
    while (!w->status && n > 0) {
        w->chunk_end = data + n;
        size_t used = http_parser_execute(&w->p, &settings, data, n);
        enum http_errno e = HTTP_PARSER_ERRNO(&w->p);
        if (w->status) break;
        if (e == HPE_HEADER_OVERFLOW)
            refuse(w, 431, "request head over 32 KiB");
        else if (e == HPE_INVALID_METHOD)
            refuse(w, 501, "unknown method");
        else if (e != HPE_OK)
            refuse(w, 400, http_errno_description(e));
        else if (used < n && w->p.upgrade) /* an Upgrade request ends there: HTTP goes on */
            http_parser_init(&w->p, HTTP_REQUEST);
        else if (used < n)
            refuse(w, 400, "malformed request");
        data += used;
        n -= used;
    }
    if (detail) *detail = w->detail;
    return w->status;
}
