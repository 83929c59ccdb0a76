/* http_req -- building a request out of evhttp, reading it, recording its answer (contract:
 * http_req.h).
 *
 * Everything is copied when the request arrives (on its loop thread): the query string is
 * parsed once (query.h), the headers kept in order, the body NUL-terminated, the client
 * address and request id settled. Cookies are parsed on first use. The answer is a status,
 * a content type, a body and extra headers kept in the request until http.c writes them. */
#include "http_req.h"

#include "alloc.h"
#include "http_internal.h"
#include "log.h"
#include "problem.h"
#include "query.h"
#include "util.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

/* ---- string pairs and lists ---- */

void kv_add(struct kvlist *l, const char *k, const char *v) {
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->items = xrealloc(l->items, (size_t)l->cap * sizeof *l->items);
    }
    l->items[l->n].k = xstrdup(k);
    l->items[l->n].v = xstrdup(v ? v : "");
    l->n++;
}

const char *kv_get(const struct kvlist *l, const char *k, int nocase) {
    for (int i = 0; i < l->n; i++)
        if (nocase ? strcasecmp(l->items[i].k, k) == 0 : strcmp(l->items[i].k, k) == 0)
            return l->items[i].v;
    return NULL;
}

void kv_free(struct kvlist *l) {
    for (int i = 0; i < l->n; i++) {
        free(l->items[i].k);
        free(l->items[i].v);
    }
    free(l->items);
    memset(l, 0, sizeof *l);
}

char **http_split_list(const char *s, int *n) {
    *n = 0;
    if (!s || !*s) return NULL;
    char *copy = xstrdup(s), *save = NULL;
    char **out = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ') t++;
        size_t len = strlen(t);
        while (len && t[len - 1] == ' ') t[--len] = '\0';
        if (!len) continue;
        out = xrealloc(out, (size_t)(*n + 1) * sizeof *out);
        out[(*n)++] = xstrdup(t);
    }
    free(copy);
    return out;
}

void http_free_list(char **l, int n) {
    for (int i = 0; i < n; i++) free(l[i]);
    free(l);
}

/* ---- building ---- */

static const char *method_name(enum evhttp_cmd_type t) {
    switch (t) {
    case EVHTTP_REQ_GET: return "GET";
    case EVHTTP_REQ_POST: return "POST";
    case EVHTTP_REQ_PUT: return "PUT";
    case EVHTTP_REQ_PATCH: return "PATCH";
    case EVHTTP_REQ_DELETE: return "DELETE";
    case EVHTTP_REQ_HEAD: return "HEAD";
    case EVHTTP_REQ_OPTIONS: return "OPTIONS";
    default: return "OTHER";
    }
}

static int sane_request_id(const char *s) {
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 64) return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.'))
            return 0;
    return 1;
}

http_req_t *http_req_new(http_server_t *srv, const char *method, const char *path) {
    http_req_t *req = xcalloc(1, sizeof *req);
    req->srv = srv;
    req->t0 = mono_ns();
    str_copy(req->method, method, sizeof req->method);
    req->path = xstrdup(path && *path ? path : "/");
    return req;
}

static void add_query(const char *key, const char *value, void *list) { kv_add(list, key, value); }

http_req_t *http_req_from_evhttp(http_server_t *srv, struct loop *lp, struct evhttp_request *ev) {
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(ev);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    http_req_t *req = http_req_new(srv, method_name(evhttp_request_get_command(ev)), path);
    req->loop = lp;
    req->ev = ev;
    const char *qs = uri ? evhttp_uri_get_query(uri) : NULL;
    if (qs) query_parse(qs, add_query, &req->query);
    struct evkeyval *h;
    TAILQ_FOREACH(h, evhttp_request_get_input_headers(ev), next)
    kv_add(&req->headers, h->key, h->value);

    struct evbuffer *in = evhttp_request_get_input_buffer(ev);
    size_t len = evbuffer_get_length(in);
    if (len) {
        req->body = xmalloc(len + 1);
        evbuffer_copyout(in, req->body, len);
        req->body[len] = '\0';
        req->body_len = len;
    }

    char *addr = NULL;
    ev_uint16_t port = 0;
    struct evhttp_connection *con = evhttp_request_get_connection(ev);
    if (con) evhttp_connection_get_peer(con, &addr, &port);
    str_copy(req->peer, addr ? addr : "", sizeof req->peer);
    http_origin_client(srv->origin, req->peer, http_header(req, "X-Forwarded-For"), req->client,
                       sizeof req->client);

    const char *rid = http_header(req, "X-Request-Id");
    if (sane_request_id(rid)) {
        str_copy(req->request_id, rid, sizeof req->request_id);
    } else {
        unsigned char raw[16];
        randombytes_buf(raw, sizeof raw);
        sodium_bin2hex(req->request_id, sizeof req->request_id, raw, sizeof raw);
    }
    /* The API's requests only: the probes and scrapes of /health, /ready, /metrics would bury
     * them. The span is named and ended when the answer is handed over (http.c). */
    if (trace_enabled() && strncmp(req->path, "/api/", 5) == 0) {
        trace_ctx_t parent;
        bool has =
            trace_parse(http_header(req, "traceparent"), http_header(req, "tracestate"), &parent);
        req->span = trace_span_start(has ? &parent : NULL, req->method, TRACE_SERVER);
    }
    return req;
}

void http_req_free(http_req_t *req) {
    kv_free(&req->params);
    kv_free(&req->query);
    kv_free(&req->headers);
    kv_free(&req->cookies);
    kv_free(&req->out_headers);
    free(req->path);
    free(req->body);
    free(req->resp_body);
    cJSON_Delete(req->json);
    if (req->user && req->user_free) req->user_free(req->user);
    trace_span_free(req->span);
    free(req);
}

/* ---- accessors ---- */

const char *http_method(const http_req_t *req) { return req->method; }
const char *http_path(const http_req_t *req) { return req->path; }
const char *http_route_pattern(const http_req_t *req) {
    return req->route ? route_pattern(req->route) : "unmatched";
}
const char *http_param(const http_req_t *req, const char *name) {
    return kv_get(&req->params, name, 0);
}
const char *http_query(const http_req_t *req, const char *name) {
    return kv_get(&req->query, name, 0);
}
const char *http_header(const http_req_t *req, const char *name) {
    return kv_get(&req->headers, name, 1);
}
const char *http_client_addr(const http_req_t *req) { return req->client; }
const char *http_request_id(const http_req_t *req) { return req->request_id; }
const trace_ctx_t *http_trace(const http_req_t *req) { return req->span ? &req->span->ctx : NULL; }

const char *http_body(const http_req_t *req, size_t *len) {
    if (len) *len = req->body_len;
    return req->body ? req->body : "";
}

const char *http_cookie(const http_req_t *req, const char *name) {
    http_req_t *r = (http_req_t *)req; /* the parsed cache is logically const */
    if (!r->cookies_parsed) {
        r->cookies_parsed = 1;
        for (int i = 0; i < r->headers.n; i++) {
            if (strcasecmp(r->headers.items[i].k, "Cookie") != 0) continue;
            char *copy = xstrdup(r->headers.items[i].v), *save = NULL;
            for (char *t = strtok_r(copy, ";", &save); t; t = strtok_r(NULL, ";", &save)) {
                while (*t == ' ') t++;
                char *eq = strchr(t, '=');
                if (!eq) continue;
                *eq = '\0';
                char *v = eq + 1;
                size_t vl = strlen(v);
                if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
                    v[vl - 1] = '\0';
                    v++;
                }
                kv_add(&r->cookies, t, v);
            }
            free(copy);
        }
    }
    return kv_get(&r->cookies, name, 0);
}

cJSON *http_json_body(http_req_t *req) {
    if (req->json) return req->json;
    if (!req->body_len) {
        http_reply_problem(req, 400, "request body must be a JSON object");
        return NULL;
    }
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(req->body, req->body_len, &end, 0);
    if (j && end) {
        while (end < req->body + req->body_len &&
               (*end == ' ' || *end == '\n' || *end == '\r' || *end == '\t'))
            end++;
        if (end != req->body + req->body_len) {
            cJSON_Delete(j);
            j = NULL;
        }
    }
    if (!j) {
        http_reply_problem(req, 400, "malformed JSON in request body");
        return NULL;
    }
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        http_reply_problem(req, 400, "request body must be a JSON object");
        return NULL;
    }
    req->json = j;
    return j;
}

char *http_absolute_url(const http_req_t *req, const char *path_and_query) {
    return http_origin_url(req->srv->origin, req->peer, http_header(req, "X-Forwarded-Proto"),
                           http_header(req, "X-Forwarded-Host"), req->local, path_and_query);
}

void http_set_user_data(http_req_t *req, void *data, void (*fr)(void *)) {
    if (req->user && req->user_free) req->user_free(req->user);
    req->user = data;
    req->user_free = fr;
}

void *http_user_data(const http_req_t *req) { return req->user; }

/* ---- answering ---- */

void http_add_header(http_req_t *req, const char *name, const char *value) {
    kv_add(&req->out_headers, name, value);
}

bool http_replied(const http_req_t *req) { return req->replied; }

void http_finish_on_worker(http_req_t *req, http_worker_fn fn, void *arg) {
    if (req->on_worker) {
        fn(req, arg);
        return;
    }
    req->cont = fn;
    req->cont_arg = arg;
}

/* Sets the reply; takes ownership of `body` (malloc'd, may be NULL when len is 0). */
static void reply_owned(http_req_t *req, int status, const char *content_type, char *body,
                        size_t len) {
    if (req->replied) {
        log_msg(LOG_ERROR, "double reply on %s %s", req->method, req->path);
        free(body);
        return;
    }
    req->replied = 1;
    req->status = status;
    req->resp_type = content_type;
    if (body && len) {
        req->resp_body = body;
        req->resp_len = len;
    } else {
        free(body);
    }
}

void http_reply_raw(http_req_t *req, int status, const char *content_type, const char *body,
                    size_t len) {
    char *copy = NULL;
    if (body && len) {
        copy = xmalloc(len);
        memcpy(copy, body, len);
    }
    reply_owned(req, status, content_type, copy, len);
}

static void reply_json_typed(http_req_t *req, int status, cJSON *body, const char *type) {
    char *text = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    reply_owned(req, status, type, text, strlen(text));
}

void http_reply_json(http_req_t *req, int status, cJSON *body) {
    reply_json_typed(req, status, body, "application/json");
}

void http_reply_empty(http_req_t *req, int status) { http_reply_raw(req, status, NULL, NULL, 0); }

void http_reply_problem_obj(http_req_t *req, cJSON *problem) {
    int status = cJSON_GetNumberValue(cJSON_GetObjectItem(problem, "status"));
    if (status < 400 || status > 599) status = 500;
    reply_json_typed(req, status, problem, "application/problem+json");
}

void http_reply_problem(http_req_t *req, int status, const char *detail) {
    http_reply_problem_obj(req, problem_new(status, detail));
}

int http_reply_if_invalid(http_req_t *req, cJSON *problem) {
    if (problem_has_errors(problem)) {
        http_reply_problem_obj(req, problem);
        return -1;
    }
    cJSON_Delete(problem);
    return 0;
}

void http_add_location(http_req_t *req, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *path = xvasprintf(fmt, ap);
    va_end(ap);
    char *abs = http_absolute_url(req, path);
    http_add_header(req, "Location", abs);
    free(abs);
    free(path);
}
