/* image -- an uploaded picture, checked by decoding it and re-encoded as WebP renditions.
 *
 * The format is what the bytes are, found by the decoders' own header readers (libpng's
 * signature check, libwebp's and libturbojpeg's header parsers), never a declared type:
 * JPEG, PNG and WebP (not animated) are read, anything else is IMAGE_UNKNOWN.
 *
 * What comes out is pixels only: no metadata of the upload (EXIF, XMP, ICC, comments)
 * survives, since each rendition is encoded anew from the decoded pixels. A JPEG's EXIF
 * Orientation (read with libexif) is applied to the pixels first, so a phone photo stands
 * upright without it. Renditions are scaled down with libwebp's rescaler (area averaging)
 * to fit a square of max_side, never up.
 *
 * Bounds, for a hostile upload: the size the header declares is checked before any pixel
 * is decoded (IMAGE_MAX_SIDE, IMAGE_MAX_PIXELS, IMAGE_MIN_SIDE); a JPEG is decoded at the
 * smallest of its decoder's scales (1/8 .. 1) that still covers the largest rendition, so
 * memory follows what is kept; and at most IMAGE_CONCURRENT images are decoded at once in
 * a process (each may need IMAGE_MAX_PIXELS * 4 bytes), the others wait their turn. It
 * takes tens to hundreds of milliseconds: call it on a worker thread, never a loop's. */
#ifndef TIZZA_IMAGE_H
#define TIZZA_IMAGE_H

#include <stddef.h>

#define IMAGE_MAX_SIDE   8000
#define IMAGE_MAX_PIXELS 40000000L
#define IMAGE_MIN_SIDE   16
#define IMAGE_CONCURRENT 2

enum image_rc {
    IMAGE_OK = 0,
    IMAGE_UNKNOWN, /* not a JPEG, PNG or WebP image */
    IMAGE_CORRUPT, /* one of those, but it does not decode (cut short, damaged, animated) */
    IMAGE_BOUNDS,  /* its size is out of the bounds above */
    IMAGE_ERR,     /* encoding failed (out of memory) */
};

typedef struct {
    int max_side; /* fits a max_side x max_side square */
    int quality;  /* WebP quality, 0..100 */
} image_spec_t;

typedef struct {
    unsigned char *data; /* the WebP file, malloc'd */
    size_t len;
    int width, height;
} image_out_t;

/* Decodes src[0..len) and renders specs[0..n) (n >= 1) into out[0..n). *format is "jpeg",
 * "png" or "webp" once known (else NULL). Returns IMAGE_OK with every out filled (free each
 * with image_out_free), or another code with none, *why saying why (a static string). */
int image_renditions(const void *src, size_t len, const image_spec_t *specs, int n,
                     image_out_t *out, const char **format, const char **why);
void image_out_free(image_out_t *o);

#endif
