/* fuzz_image -- image.h on untrusted bytes: every input goes through image_renditions with
 * two small renditions. Whatever it is, the call returns one of its codes; IMAGE_OK gives
 * renditions that fit their square and are not empty, any other code gives none and says
 * why. Small renditions keep each run short; the decoders see the input whole. */
#include "fuzz.h"
#include "image.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const image_spec_t specs[] = {{64, 60}, {16, 50}};
    image_out_t out[2];
    const char *format, *why;
    int rc = image_renditions(data, size, specs, 2, out, &format, &why);
    if (rc == IMAGE_OK) {
        for (int i = 0; i < 2; i++) {
            if (!out[i].data || !out[i].len || out[i].width < 1 || out[i].height < 1 ||
                out[i].width > specs[i].max_side || out[i].height > specs[i].max_side)
                abort();
            image_out_free(&out[i]);
        }
    } else if (!why || out[0].data || out[1].data) {
        abort();
    }
    return 0;
}
