/* image -- uploaded pictures decoded, checked and re-encoded; see image.h. */
#include "image.h"

#include "alloc.h"

#include <libexif/exif-data.h>
#include <limits.h>
#include <png.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>
#include <webp/decode.h>
#include <webp/encode.h>

/* Decoded pixels: RGBA, 4 bytes each, rows packed. */
struct pixels {
    unsigned char *rgba;
    int w, h;
};

static int bounds(long w, long h, const char **why) {
    if (w < IMAGE_MIN_SIDE || h < IMAGE_MIN_SIDE) {
        *why = "the image is smaller than 16 pixels on a side";
        return IMAGE_BOUNDS;
    }
    if (w > IMAGE_MAX_SIDE || h > IMAGE_MAX_SIDE || w * h > IMAGE_MAX_PIXELS) {
        *why = "the image is larger than 8000 pixels on a side or 40 megapixels";
        return IMAGE_BOUNDS;
    }
    return IMAGE_OK;
}

static unsigned char *pixels_alloc(int w, int h) {
    return malloc((size_t)w * (size_t)h * 4); /* may be large: failure is answered */
}

static int decode_png(const unsigned char *src, size_t len, struct pixels *px, const char **why) {
    png_image im;
    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&im, src, len)) {
        *why = "the PNG image is damaged";
        return IMAGE_CORRUPT;
    }
    int rc = bounds(im.width, im.height, why);
    if (rc != IMAGE_OK) {
        png_image_free(&im);
        return rc;
    }
    im.format = PNG_FORMAT_RGBA;
    px->w = (int)im.width;
    px->h = (int)im.height;
    px->rgba = pixels_alloc(px->w, px->h);
    if (!px->rgba) {
        png_image_free(&im);
        *why = "out of memory";
        return IMAGE_ERR;
    }
    if (!png_image_finish_read(&im, NULL, px->rgba, 0, NULL)) { /* frees im either way */
        *why = "the PNG image is damaged or cut short";
        return IMAGE_CORRUPT;
    }
    return IMAGE_OK;
}

static int decode_webp(const unsigned char *src, size_t len, struct pixels *px, const char **why) {
    WebPBitstreamFeatures ft;
    if (WebPGetFeatures(src, len, &ft) != VP8_STATUS_OK) {
        *why = "the WebP image is damaged";
        return IMAGE_CORRUPT;
    }
    if (ft.has_animation) {
        *why = "an animated WebP image is not accepted";
        return IMAGE_CORRUPT;
    }
    int rc = bounds(ft.width, ft.height, why);
    if (rc != IMAGE_OK) return rc;
    px->w = ft.width;
    px->h = ft.height;
    size_t size = (size_t)px->w * (size_t)px->h * 4;
    px->rgba = pixels_alloc(px->w, px->h);
    if (!px->rgba) {
        *why = "out of memory";
        return IMAGE_ERR;
    }
    if (!WebPDecodeRGBAInto(src, len, px->rgba, size, px->w * 4)) {
        *why = "the WebP image is damaged or cut short";
        return IMAGE_CORRUPT;
    }
    return IMAGE_OK;
}

/* The decoder's smallest scale whose result still covers `need` on its long side (or the
 * whole image when it is smaller than that). */
static tjscalingfactor jpeg_scale(int w, int h, int need) {
    int n = 0;
    tjscalingfactor *f = tjGetScalingFactors(&n), best = {1, 1};
    long best_px = (long)w * h;
    for (int i = 0; f && i < n; i++) {
        if (f[i].num > f[i].denom) continue; /* never up */
        int sw = TJSCALED(w, f[i]), sh = TJSCALED(h, f[i]);
        long px = (long)sw * sh;
        if ((sw >= need || sh >= need) && px < best_px) {
            best = f[i];
            best_px = px;
        }
    }
    return best;
}

/* 0 when src is not a JPEG (its header does not parse). */
static int jpeg_header(tjhandle tj, const unsigned char *src, size_t len, int *w, int *h) {
    int sub, cs;
    return len <= ULONG_MAX &&
           tjDecompressHeader3(tj, src, (unsigned long)len, w, h, &sub, &cs) == 0;
}

/* A JPEG whose header (w x h) was read already. */
static int decode_jpeg(tjhandle tj, const unsigned char *src, size_t len, int w, int h, int need,
                       struct pixels *px, const char **why) {
    int rc = bounds(w, h, why);
    if (rc != IMAGE_OK) return rc;
    tjscalingfactor f = jpeg_scale(w, h, need);
    px->w = TJSCALED(w, f);
    px->h = TJSCALED(h, f);
    px->rgba = pixels_alloc(px->w, px->h);
    if (!px->rgba) {
        *why = "out of memory";
        return IMAGE_ERR;
    }
    if (tjDecompress2(tj, src, (unsigned long)len, px->rgba, px->w, 0, px->h, TJPF_RGBA,
                      TJFLAG_STOPONWARNING) != 0) {
        *why = "the JPEG image is damaged, cut short or in an unsupported colour space";
        return IMAGE_CORRUPT;
    }
    return IMAGE_OK;
}

/* The EXIF Orientation of a JPEG (1..8), 1 when it has none. */
static int jpeg_orientation(const unsigned char *src, size_t len) {
    if (len > UINT_MAX) return 1;
    ExifData *ed = exif_data_new_from_data(src, (unsigned int)len);
    if (!ed) return 1;
    int o = 1;
    ExifEntry *e = exif_content_get_entry(ed->ifd[EXIF_IFD_0], EXIF_TAG_ORIENTATION);
    if (e && e->format == EXIF_FORMAT_SHORT && e->components >= 1 && e->size >= 2)
        o = exif_get_short(e->data, exif_data_get_byte_order(ed));
    exif_data_unref(ed);
    return o >= 1 && o <= 8 ? o : 1;
}

/* Turns px upright by EXIF orientation o: where source pixel (x, y) goes. */
static int orient(struct pixels *px, int o, const char **why) {
    if (o == 1) return IMAGE_OK;
    int w = px->w, h = px->h, swap = o >= 5;
    int dw = swap ? h : w, dh = swap ? w : h;
    uint32_t *out = (uint32_t *)pixels_alloc(dw, dh);
    if (!out) {
        *why = "out of memory";
        return IMAGE_ERR;
    }
    const uint32_t *in = (const uint32_t *)px->rgba;
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            int dx, dy;
            switch (o) {
            case 2: dx = w - 1 - x, dy = y; break;         /* mirrored */
            case 3: dx = w - 1 - x, dy = h - 1 - y; break; /* upside down */
            case 4: dx = x, dy = h - 1 - y; break;         /* mirrored upside down */
            case 5: dx = y, dy = x; break;                 /* transposed */
            case 6: dx = h - 1 - y, dy = x; break;         /* turn 90 clockwise */
            case 7: dx = h - 1 - y, dy = w - 1 - x; break; /* transversed */
            default: dx = y, dy = w - 1 - x; break;        /* 8: turn 90 anticlockwise */
            }
            out[(size_t)dy * dw + dx] = in[(size_t)y * w + x];
        }
    }
    free(px->rgba);
    px->rgba = (unsigned char *)out;
    px->w = dw;
    px->h = dh;
    return IMAGE_OK;
}

static int decode(const unsigned char *src, size_t len, int need, struct pixels *px,
                  const char **format, const char **why) {
    if (len >= 8 && png_sig_cmp(src, 0, 8) == 0) {
        *format = "png";
        return decode_png(src, len, px, why);
    }
    if (WebPGetInfo(src, len, NULL, NULL)) {
        *format = "webp";
        return decode_webp(src, len, px, why);
    }
    tjhandle tj = tjInitDecompress();
    if (!tj) {
        *why = "out of memory";
        return IMAGE_ERR;
    }
    int w, h, rc = IMAGE_UNKNOWN;
    if (jpeg_header(tj, src, len, &w, &h)) {
        *format = "jpeg";
        rc = decode_jpeg(tj, src, len, w, h, need, px, why);
        if (rc == IMAGE_OK) rc = orient(px, jpeg_orientation(src, len), why);
    } else {
        *why = "the file is not a JPEG, PNG or WebP image";
    }
    tjDestroy(tj);
    return rc;
}

/* w x h scaled down to fit side x side, keeping its shape. */
static void fit(int w, int h, int side, int *tw, int *th) {
    if (w <= side && h <= side) {
        *tw = w, *th = h;
    } else if (w >= h) {
        *tw = side, *th = (int)(((long)h * side + w / 2) / w);
    } else {
        *th = side, *tw = (int)(((long)w * side + h / 2) / h);
    }
    if (*tw < 1) *tw = 1;
    if (*th < 1) *th = 1;
}

static int encode(const WebPPicture *whole, const image_spec_t *spec, image_out_t *out) {
    WebPPicture pic;
    WebPConfig cfg;
    WebPMemoryWriter wr;
    if (!WebPPictureInit(&pic) || !WebPPictureCopy(whole, &pic)) return IMAGE_ERR;
    int tw, th;
    fit(whole->width, whole->height, spec->max_side, &tw, &th);
    int ok = (tw == pic.width && th == pic.height) || WebPPictureRescale(&pic, tw, th);
    ok = ok && WebPConfigPreset(&cfg, WEBP_PRESET_PHOTO, (float)spec->quality) &&
         WebPValidateConfig(&cfg);
    WebPMemoryWriterInit(&wr);
    pic.writer = WebPMemoryWrite;
    pic.custom_ptr = &wr;
    ok = ok && WebPEncode(&cfg, &pic);
    WebPPictureFree(&pic);
    if (ok) {
        out->data = xmalloc(wr.size);
        memcpy(out->data, wr.mem, wr.size);
        out->len = wr.size;
        out->width = tw;
        out->height = th;
    }
    WebPMemoryWriterClear(&wr);
    return ok ? IMAGE_OK : IMAGE_ERR;
}

static sem_t turns;
static void turns_init(void) { sem_init(&turns, 0, IMAGE_CONCURRENT); }

int image_renditions(const void *src, size_t len, const image_spec_t *specs, int n,
                     image_out_t *out, const char **format, const char **why) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, turns_init);
    *format = NULL;
    *why = NULL;
    memset(out, 0, (size_t)n * sizeof *out);
    int need = 0;
    for (int i = 0; i < n; i++)
        if (specs[i].max_side > need) need = specs[i].max_side;
    while (sem_wait(&turns) != 0) {
    }
    struct pixels px = {0};
    int rc = decode(src, len, need, &px, format, why);
    WebPPicture whole;
    if (rc == IMAGE_OK) {
        rc = WebPPictureInit(&whole) ? IMAGE_OK : IMAGE_ERR;
        whole.use_argb = 1;
        whole.width = px.w;
        whole.height = px.h;
        if (rc == IMAGE_OK && !WebPPictureImportRGBA(&whole, px.rgba, px.w * 4)) rc = IMAGE_ERR;
        free(px.rgba);
        px.rgba = NULL;
        for (int i = 0; rc == IMAGE_OK && i < n; i++) rc = encode(&whole, &specs[i], &out[i]);
        WebPPictureFree(&whole);
        if (rc != IMAGE_OK) *why = "the image could not be encoded";
    }
    free(px.rgba);
    sem_post(&turns);
    if (rc != IMAGE_OK)
        for (int i = 0; i < n; i++) image_out_free(&out[i]);
    return rc;
}

void image_out_free(image_out_t *o) {
    if (!o) return;
    free(o->data);
    memset(o, 0, sizeof *o);
}
