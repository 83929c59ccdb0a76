/* pictures.c -- a pizza's picture: /api/v1/pizzas/{id}/picture.
 *
 * PUT takes the file itself as the body (HTTP_UPLOAD: up to UPLOAD_LIMIT, 5 MiB) with
 * Content-Type image/jpeg, image/png or image/webp. What the bytes are is decided by
 * decoding them (image.h), which also drops every piece of metadata: two WebP renditions are
 * stored, "large" (fits 1280 px) and "thumb" (fits 320 px), as documents of the collection
 * "pictures" ({id: "<pizza id>.<size>", pizza_id, size, version, width, height, data:
 * base64}), on either store. The pizza gets `picture` {version, width, height, large,
 * thumb}: the sizes of the large rendition and the paths of both, each with ?v=<version>
 * (a hash of the two files), so a new picture has new URLs and the old ones can be cached
 * for good. A picture is a reviewed change: an owner's upload sends an approved or rejected
 * pizza back to review, as a new title does (pizzas.c).
 *
 * GET .../picture/{size} answers the file with a strong ETag ("<version>-<size>", 304 on
 * If-None-Match). With the current ?v= it is immutable (cached a year); without it
 * "no-cache" (revalidate). Who may see it: everyone when the pizza is approved; otherwise
 * the owner or an admin, or anyone holding the URL with the current ?v= -- an <img> sends
 * no token, and only those who may see the pizza were given that URL.
 *
 * The picture's documents and the pizza's `picture` are written in one transaction that
 * also updates the pizza, so an erasure that deletes the pizza meanwhile conflicts with it
 * (MongoDB) or runs before or after it (SQLite): no picture outlives its pizza.
 * pizzas_erase() deletes the pictures with the pizza (events.c). Decoding runs on a worker
 * thread. */
#include "alloc.h"
#include "pizza.h"

#include "erased.h"
#include "etag.h"
#include "http_store.h"
#include "image.h"
#include "json.h"
#include "problem.h"
#include "util.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PATH "/api/v1/pizzas/{id}/picture"

static const char *const sizes[] = {"large", "thumb"};
static const image_spec_t specs[] = {{1280, 82}, {320, 75}};
#define NSIZES        2
#define VERSION_BYTES 16

/* ---------------------------------------------------------------- upload */

/* The declared type is one of the three (parameters allowed); the bytes decide the rest. */
static bool image_type(const char *ct) {
    static const char *const ok[] = {"image/jpeg", "image/png", "image/webp"};
    if (!ct) return false;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        size_t n = strlen(ok[i]);
        if (strncasecmp(ct, ok[i], n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' '))
            return true;
    }
    return false;
}

struct upload {
    http_req_t *req; /* its If-Match is checked against the pizza read in the transaction */
    const char *pizza_id, *owner_id;
    cJSON *fresh;
    bool stale;
    cJSON *pics[NSIZES];
    cJSON *set; /* the pizza's update, merged into the answer */
};

/* One run (store_transact): the old pictures out, the new in, the pizza updated.
 * STORE_NOTFOUND when the pizza went away meanwhile. */
static store_rc_t upload_txn(store_t *s, void *arg) {
    struct upload *u = arg;
    int rc = etag_read_id(s, u->req, PIZZAS, u->pizza_id, &u->fresh, &u->stale);
    if (rc == STORE_OK) etag_bump(u->set, u->fresh);
    if (rc == STORE_OK) rc = pictures_erase(s, u->pizza_id);
    for (int i = 0; rc == STORE_OK && i < NSIZES; i++) rc = store_insert(s, PICTURES, u->pics[i]);
    return rc == STORE_OK ? store_update_id(s, PIZZAS, u->pizza_id, u->set, NULL) : rc;
}

static cJSON *picture_doc(const char *pizza_id, int i, const char *version, const image_out_t *o) {
    char id[64];
    snprintf(id, sizeof id, "%s.%s", pizza_id, sizes[i]);
    size_t n = sodium_base64_encoded_len(o->len, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = xmalloc(n);
    sodium_bin2base64(b64, n, o->data, o->len, sodium_base64_VARIANT_ORIGINAL);
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "id", id);
    cJSON_AddStringToObject(d, "pizza_id", pizza_id);
    cJSON_AddStringToObject(d, "size", sizes[i]);
    cJSON_AddStringToObject(d, "version", version);
    cJSON_AddNumberToObject(d, "width", o->width);
    cJSON_AddNumberToObject(d, "height", o->height);
    cJSON_AddStringToObject(d, "data", b64);
    free(b64);
    return d;
}

/* The pizza's `picture`: the large rendition's size and both paths with ?v=. */
static cJSON *picture_member(const char *pizza_id, const char *version, const image_out_t *large) {
    char path[160];
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "version", version);
    cJSON_AddNumberToObject(p, "width", large->width);
    cJSON_AddNumberToObject(p, "height", large->height);
    for (int i = 0; i < NSIZES; i++) {
        snprintf(path, sizeof path, "/api/v1/pizzas/%s/picture/%s?v=%s", pizza_id, sizes[i],
                 version);
        cJSON_AddStringToObject(p, sizes[i], path);
    }
    return p;
}

/* A hash of the renditions, hex: the picture's version. */
static void version_of(const image_out_t *outs, char hex[2 * VERSION_BYTES + 1]) {
    unsigned char h[VERSION_BYTES];
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof h);
    for (int i = 0; i < NSIZES; i++) crypto_generichash_update(&st, outs[i].data, outs[i].len);
    crypto_generichash_final(&st, h, sizeof h);
    sodium_bin2hex(hex, 2 * VERSION_BYTES + 1, h, sizeof h);
}

/* A failed decode as a problem: 422 with why, or 500 when encoding failed. */
static void reply_image_error(http_req_t *req, int rc, const char *why) {
    if (rc == IMAGE_ERR) {
        http_reply_problem(req, 500, "the picture could not be processed");
        return;
    }
    cJSON *p = problem_new(422, "the picture is not accepted");
    problem_add_error(p, "picture", why);
    http_reply_problem_obj(req, p);
}

static void put_picture(http_req_t *req, void *ctx) {
    store_t *s = service_store(ctx);
    authn_user_t u;
    if (erased_require_writer(req, s, &u) != 0) return;
    cJSON *doc = pizza_load_for_write(req, s, &u);
    if (!doc) return;
    size_t len = 0;
    const char *body = http_body(req, &len);
    image_out_t outs[NSIZES];
    const char *format, *why;
    int rc;
    struct upload up = {
        .req = req, .pizza_id = json_str(doc, "id"), .owner_id = json_str(doc, "owner_id")};
    if (!image_type(http_header(req, "Content-Type"))) {
        http_reply_problem(req, 415,
                           "a picture must be sent as image/jpeg, image/png or image/webp");
        goto out;
    }
    if (!body || len == 0) {
        http_reply_problem(req, 400, "the request body must be the picture's file; it is empty");
        goto out;
    }
    rc = image_renditions(body, len, specs, NSIZES, outs, &format, &why);
    if (rc != IMAGE_OK) {
        reply_image_error(req, rc, why);
        goto out;
    }
    char version[2 * VERSION_BYTES + 1], now[32];
    version_of(outs, version);
    for (int i = 0; i < NSIZES; i++) up.pics[i] = picture_doc(up.pizza_id, i, version, &outs[i]);
    up.set = cJSON_CreateObject();
    cJSON_AddItemToObject(up.set, "picture", picture_member(up.pizza_id, version, &outs[0]));
    iso_now(now);
    cJSON_AddStringToObject(up.set, "updated_at", now);
    if (!authn_is_admin(&u) && strcmp(pizza_review_of(doc), "pending") != 0)
        pizza_review_set(up.set, "pending", NULL, up.owner_id); /* back to review */
    for (int i = 0; i < NSIZES; i++) image_out_free(&outs[i]);
    rc = store_transact(s, upload_txn, &up);
    if (rc == STORE_ABORTED && up.stale) {
        etag_reply_stale(req, up.fresh);
    } else if (rc == STORE_NOTFOUND) {
        http_reply_problem(req, 404, "no such pizza");
    } else if (rc != STORE_OK) {
        http_reply_store_error(req, rc, "store picture");
    } else {
        const cJSON *item;
        cJSON_ArrayForEach(item, up.set) {
            cJSON_DeleteItemFromObjectCaseSensitive(up.fresh, item->string);
            cJSON_AddItemToObject(up.fresh, item->string, cJSON_Duplicate(item, true));
        }
        etag_add(req, up.fresh);
        http_reply_json(req, 200, pizza_view(up.fresh));
        up.fresh = NULL;
    }
out:
    cJSON_Delete(up.fresh);
    for (int i = 0; i < NSIZES; i++) cJSON_Delete(up.pics[i]);
    cJSON_Delete(up.set);
    cJSON_Delete(doc);
}

/* ---------------------------------------------------------------- remove */

/* One run of DELETE's transaction: If-Match checked on the pizza, its pictures out, its
 * `picture` null (a change: the next version). */
struct removal {
    http_req_t *req;
    const char *id;
    cJSON *fresh;
    bool stale;
};

static store_rc_t remove_txn(store_t *s, void *arg) {
    struct removal *r = arg;
    const char *id = r->id;
    int rc = etag_read_id(s, r->req, PIZZAS, id, &r->fresh, &r->stale);
    if (rc == STORE_OK) rc = pictures_erase(s, id);
    if (rc != STORE_OK) return rc;
    cJSON *set = cJSON_CreateObject();
    etag_bump(set, r->fresh);
    char now[32];
    iso_now(now);
    cJSON_AddNullToObject(set, "picture");
    cJSON_AddStringToObject(set, "updated_at", now);
    rc = store_update_id(s, PIZZAS, id, set, NULL);
    cJSON_Delete(set);
    return rc;
}

static void delete_picture(http_req_t *req, void *ctx) {
    store_t *s = service_store(ctx);
    authn_user_t u;
    if (erased_require_writer(req, s, &u) != 0) return;
    cJSON *doc = pizza_load_for_write(req, s, &u);
    if (!doc) return;
    if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(doc, "picture"))) {
        http_reply_problem(req, 404, "the pizza has no picture");
    } else {
        struct removal r = {req, json_str(doc, "id"), NULL, false};
        int rc = store_transact(s, remove_txn, &r);
        if (rc == STORE_ABORTED && r.stale)
            etag_reply_stale(req, r.fresh);
        else if (rc == STORE_NOTFOUND)
            http_reply_problem(req, 404, "no such pizza");
        else if (rc != STORE_OK)
            http_reply_store_error(req, rc, "delete picture");
        else
            http_reply_empty(req, 204);
        cJSON_Delete(r.fresh);
    }
    cJSON_Delete(doc);
}

/* ---------------------------------------------------------------- get */

static int size_index(const char *size) {
    for (int i = 0; size && i < NSIZES; i++)
        if (strcmp(size, sizes[i]) == 0) return i;
    return -1;
}

static void get_picture(http_req_t *req, void *ctx) {
    store_t *s = service_store(ctx);
    const char *id = http_param(req, "id"), *v = http_query(req, "v");
    int size = size_index(http_param(req, "size"));
    cJSON *doc = NULL, *pic = NULL;
    authn_user_t u;
    int a = authn_optional(req, &u);
    if (a < 0) return;
    int rc = id_valid(id) && size >= 0 ? store_get(s, PIZZAS, id, &doc) : STORE_NOTFOUND;
    const cJSON *member = rc == STORE_OK ? cJSON_GetObjectItemCaseSensitive(doc, "picture") : NULL;
    const char *version = json_str(member, "version");
    bool current = version && v && strcmp(v, version) == 0;
    bool approved = strcmp(pizza_review_of(doc), "approved") == 0;
    if (rc == STORE_OK &&
        (!version ||
         !(approved || current || (a == 0 && pizza_may_write(&u, json_str(doc, "owner_id"))))))
        rc = STORE_NOTFOUND;
    char key[64], etag[64];
    if (rc == STORE_OK) {
        snprintf(key, sizeof key, "%s.%s", id, sizes[size]);
        snprintf(etag, sizeof etag, "\"%s-%s\"", version, sizes[size]);
        rc = store_get(s, PICTURES, key, &pic);
    }
    if (rc == STORE_NOTFOUND) {
        http_reply_problem(req, 404, "no such picture");
        goto out;
    }
    if (rc != STORE_OK) {
        http_reply_store_error(req, rc, "get picture");
        goto out;
    }
    http_add_header(req, "ETag", etag);
    http_add_header(req, "Cache-Control",
                    !current   ? "no-cache"
                    : approved ? "public, max-age=31536000, immutable"
                               : "private, max-age=31536000, immutable");
    if (etag_none_match(http_header(req, "If-None-Match"), etag)) {
        http_reply_empty(req, 304);
        goto out;
    }
    const char *b64 = json_str(pic, "data");
    size_t cap = b64 ? strlen(b64) / 4 * 3 + 3 : 0, len = 0;
    unsigned char *bin = cap ? xmalloc(cap) : NULL;
    if (!b64 || sodium_base642bin(bin, cap, b64, strlen(b64), NULL, &len, NULL,
                                  sodium_base64_VARIANT_ORIGINAL) != 0) {
        http_reply_problem(req, 500, "the stored picture is damaged");
    } else {
        http_reply_raw(req, 200, "image/webp", (const char *)bin, len);
    }
    free(bin);
out:
    cJSON_Delete(pic);
    cJSON_Delete(doc);
}

int pictures_erase(store_t *s, const char *pizza_id) {
    store_filter_t *f = store_filter_new();
    store_where_str(f, "pizza_id", STORE_EQ, pizza_id);
    int rc = store_delete(s, PICTURES, f, NULL);
    store_filter_free(f);
    return rc;
}

void pictures_routes(service_t *svc) {
    http_server_t *srv = service_http(svc);
    http_route(srv, "PUT", PATH, put_picture, svc, HTTP_OFFLOAD | HTTP_UPLOAD);
    http_route(srv, "DELETE", PATH, delete_picture, svc, service_store_flags(svc));
    http_route(srv, "GET", PATH "/{size}", get_picture, svc, service_store_flags(svc));
}
