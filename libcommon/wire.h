/* wire -- a connection's request bytes checked as they arrive, before evhttp reads them.
 *
 * evhttp (libevent 2.1) is lenient where the proxy in front may not be: it takes the first
 * of two Content-Length headers, accepts "+2", a space before a header's colon, obs-fold
 * continuation lines and HTTP/1.1 without Host, and answers what it cannot parse with HTML.
 * Two parsers that disagree on where a request ends make request smuggling possible. So
 * every byte goes first through Node's http_parser (libhttp-parser, strict) and the checks
 * below (RFC 9112); a request that fails is answered by conn.c with a problem+json and its
 * connection closed before evhttp sees it:
 *   400  what the parser refuses (malformed request line or header, two Content-Length
 *        headers, a non-digit one), a header name with white space, an obs-fold line, a
 *        target libevent's URI parser refuses, no Host or two Hosts
 *   405  CONNECT (no tunnels here)
 *   411  Transfer-Encoding on a request: a body must come with Content-Length (RFC 9110
 *        §15.5.12 allows requiring it; libevent cannot read chunk extensions, and the
 *        gateway sends buffered bodies with their length)
 *   413  Content-Length over the body limit (the upload limit for a request that
 *        wire_allow_uploads()'s function names an upload)
 *   417  an Expect other than 100-continue
 *   431  a request head over WIRE_HEAD_LIMIT bytes
 *   505  an HTTP version other than 1.x
 * A wire_t follows one connection: request after request, pipelined or not. */
#ifndef TIZZA_WIRE_H
#define TIZZA_WIRE_H

#include <stdbool.h>
#include <stddef.h>

#define WIRE_HEAD_LIMIT (32 * 1024)

typedef struct wire wire_t;

wire_t *wire_new(size_t body_limit);
void wire_free(wire_t *w);

/* Whether a request of `method` (e.g. "PUT") to `target` (as sent, query included) may carry
 * a body of up to the upload limit: asked once per request head whose Content-Length is over
 * the body limit. */
typedef bool (*wire_upload_fn)(const char *method, const char *target, void *ctx);
/* Lets the requests `is_upload` names carry up to `upload_limit` bytes of body. */
void wire_allow_uploads(wire_t *w, size_t upload_limit, wire_upload_fn is_upload, void *ctx);

/* Checks the connection's next `n` bytes. Returns 0 while everything sent so far is
 * acceptable, else the status to answer with, *detail saying why (a static string). Once it
 * has refused, it refuses whatever follows. */
int wire_feed(wire_t *w, const char *data, size_t n, const char **detail);

#endif
