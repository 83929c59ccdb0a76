/* fuzz_wire -- wire_feed() (wire.h), the check every request byte goes through first.
 *
 * Input: byte 0 picks a split position, the rest is what a client sends on one connection.
 * The bytes are fed to one wire_t whole, and to a second one in two pieces cut at that
 * position. TCP may cut a request anywhere, so the verdict must not depend on where: that
 * one accepts and the other refuses aborts, and so does a different status. */
#include "wire.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BODY_LIMIT 65536 /* BODY_LIMIT's default (http.h) */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const char *req = (const char *)data + 1;
    size_t n = size - 1;
    size_t cut = data[0] % (n + 1);

    const char *detail_whole = NULL, *detail_split = NULL;
    wire_t *whole = wire_new(BODY_LIMIT);
    int verdict_whole = wire_feed(whole, req, n, &detail_whole);

    wire_t *split = wire_new(BODY_LIMIT);
    int verdict_split = wire_feed(split, req, cut, &detail_split);
    verdict_split = wire_feed(split, req + cut, n - cut, &detail_split);

    if (verdict_whole != verdict_split) {
        fprintf(stderr, "wire: %d (%s) whole, %d (%s) cut at %zu of %zu\n", verdict_whole,
                detail_whole ? detail_whole : "-", verdict_split, detail_split ? detail_split : "-",
                cut, n);
        abort();
    }
    if ((verdict_whole && !detail_whole) || (verdict_split && !detail_split)) {
        fprintf(stderr, "wire: refused without a detail\n");
        abort();
    }
    wire_free(whole);
    wire_free(split);
    return 0;
}
