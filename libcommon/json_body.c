/* json_body.c -- json_body() (contract: json.h), apart from json.c because it answers
 * through http_req.c: code that validates JSON without serving HTTP (the unit tests, which
 * stub the few http functions they need) then does not pull http_req.c out of libcommon.a.
 *
 * Order: http_json_body() (a JSON object, else 400), then the whole text must be valid
 * UTF-8 (else 400 "request body must be valid UTF-8", before any member name can be echoed
 * into errors[]), then no string may hold U+0000.
 *
 * U+0000. cJSON decodes "\u0000" (and copies a raw NUL byte, which it lets through inside a
 * string) into its C strings, which then end early: "Password1\u0000-long-tail" reads as
 * "Password1", a member "kind\u0000x" as "kind". The tree cannot show it, so the check reads
 * the text the tree was parsed from. cJSON has accepted that text as JSON, so its strings are
 * the only tokens holding a '"', an escape is a backslash and the character after it, and the
 * strings come in the order of a depth-first walk of the tree (each member's name, then its
 * value). next_string() steps from one string of the text to the next, noting a raw NUL or a
 * "\u0000" escape: in "\\u0000" the escaped backslash is stepped over first, so what follows
 * is the letters u0000, text like any other. holds_nul() pairs the strings with the tree's
 * nodes, so the error names the top-level member that holds the NUL (in its name or anywhere
 * in its value; a name is shown as cJSON read it, cut at the NUL). A text with fewer strings
 * than the tree (which cannot happen) is refused all the same. Texts without a NUL byte or a
 * "\u0000" (almost all) skip the walk. */
#include "json.h"

#include "http.h"
#include "problem.h"
#include "util.h"

#include <string.h>

/* The strings of a JSON text, in order. */
struct strings {
    const char *p, *end;
};

/* Steps over the next string: 1 with *nul set when it holds U+0000 (a raw NUL byte or a
 * "\u0000" escape), 0 when the text has no further (complete) string. */
static int next_string(struct strings *s, bool *nul) {
    while (s->p < s->end && *s->p != '"') s->p++;
    if (s->p == s->end) return 0;
    *nul = false;
    for (s->p++; s->p < s->end && *s->p != '"'; s->p++) {
        if (*s->p == '\0') {
            *nul = true;
        } else if (*s->p == '\\') {
            if (s->end - s->p >= 6 && memcmp(s->p, "\\u0000", 6) == 0) *nul = true;
            if (s->end - s->p >= 2) s->p++; /* the escaped character, maybe a '"' or a '\\' */
        }
    }
    if (s->p == s->end) return 0;
    s->p++;
    return 1;
}

/* 1 when a string of `node` (member names included, at any depth) holds U+0000, else 0;
 * -1 when the text ran out of strings before the tree did. */
static int holds_nul(const cJSON *node, struct strings *s) {
    bool nul = false;
    if (cJSON_IsString(node)) return next_string(s, &nul) ? nul : -1;
    int found = 0;
    for (const cJSON *it = node->child; it; it = it->next) {
        if (cJSON_IsObject(node)) {
            if (!next_string(s, &nul)) return -1;
            found |= nul;
        }
        int r = holds_nul(it, s);
        if (r < 0) return -1;
        found |= r;
    }
    return found;
}

cJSON *json_body(http_req_t *req) {
    cJSON *body = http_json_body(req);
    if (!body) return NULL;
    size_t len = 0;
    const char *text = http_body(req, &len);
    if (utf8_len(text, len) < 0) {
        http_reply_problem(req, 400, "request body must be valid UTF-8");
        return NULL;
    }
    if (!memchr(text, '\0', len) && !memmem(text, len, "\\u0000", 6)) return body;

    cJSON *p = problem_new(400, "request body must not contain U+0000 (NUL)");
    struct strings s = {text, text + len};
    int bad = 0;
    for (const cJSON *it = body->child; it && bad >= 0; it = it->next) {
        bool nul = false;
        int r = next_string(&s, &nul) ? holds_nul(it, &s) : -1;
        if (r >= 0 && (nul || r)) problem_add_error(p, it->string, "must not contain U+0000 (NUL)");
        bad = r < 0 ? -1 : bad | nul | r;
    }
    if (bad == 0) {
        cJSON_Delete(p);
        return body;
    }
    http_reply_problem_obj(req, p);
    return NULL;
}
