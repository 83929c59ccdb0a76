// A pizza's picture (pure): the checks of a chosen file before it is sent, which URL shows a
// pizza's photo at which size, and the server's refusals as human messages.
//
// pizza stores an uploaded picture (PUT /api/v1/pizzas/{id}/picture, the raw file as the body)
// as two WebP renditions and answers it in the pizza as
//   picture: null | {version, width, height, large, thumb}
// (width and height of the large one, long side at most 1280 px; the thumb's at most 320 px).
// The older free-text `thumbnail_url` is the fallback when there is no picture.

export const PICTURE_TYPES = ['image/jpeg', 'image/png', 'image/webp'];
export const PICTURE_ACCEPT = PICTURE_TYPES.join(',');
export const PICTURE_MAX_BYTES = 5 * 1024 * 1024; // 5 MiB, as pizza accepts
export const THUMB_LONG_SIDE = 320;

/** "5 MB", "812 KB", "120 bytes" (1 MB = 1024 KB, as the limit is counted). */
export function formatBytes(n) {
  if (n >= 1024 * 1024) {
    const mb = n / (1024 * 1024);
    return `${mb >= 10 || Number.isInteger(mb) ? Math.round(mb) : mb.toFixed(1)} MB`;
  }
  if (n >= 1024) return `${Math.round(n / 1024)} KB`;
  return n === 1 ? '1 byte' : `${n} bytes`;
}

/** null when `file` ({name, type, size}, a File) may be sent as a pizza's picture, else the
 *  reason as a sentence for its owner. The content itself is checked by pizza (a renamed file
 *  that is not a picture is refused there). */
export function checkPictureFile(file) {
  if (!file) return 'Choose a photo first.';
  if (!PICTURE_TYPES.includes(file.type)) {
    return `${file.name || 'This file'} is not a JPEG, PNG or WebP picture. Choose a photo in one of those formats.`;
  }
  if (!(file.size > 0)) return `${file.name || 'This file'} is empty. Choose another photo.`;
  if (file.size > PICTURE_MAX_BYTES) {
    return `${file.name || 'This photo'} is too large (${formatBytes(file.size)}): a photo may be at most ${formatBytes(PICTURE_MAX_BYTES)}. Choose a smaller one.`;
  }
  return null;
}

/** The thumb's size for a large rendition of width x height (long side at most 320 px). */
export function thumbSize(width, height) {
  const long = Math.max(width, height);
  if (long <= THUMB_LONG_SIDE) return { width, height };
  const k = THUMB_LONG_SIDE / long;
  return { width: Math.max(1, Math.round(width * k)), height: Math.max(1, Math.round(height * k)) };
}

const sentence = (s) => (/[.!?]$/.test(s) ? s : `${s}.`);
const positive = (n) => Number.isInteger(n) && n > 0;

/** What shows the photo of `pizza` at `size` ('small': list rows, 'large': the Shuffle card and
 *  the pizza's page): {src, width, height} from its uploaded picture (the thumb when small, the
 *  large rendition when large), else {src} of its `thumbnail_url`, else null (no photo). */
export function photoSource(pizza, size = 'large') {
  const pic = pizza && pizza.picture;
  if (pic && typeof pic === 'object') {
    const src = size === 'small' ? pic.thumb || pic.large : pic.large || pic.thumb;
    if (typeof src === 'string' && src) {
      if (!positive(pic.width) || !positive(pic.height)) return { src };
      const dims = src === pic.large ? { width: pic.width, height: pic.height } : thumbSize(pic.width, pic.height);
      return { src, ...dims };
    }
  }
  const url = pizza && pizza.thumbnail_url;
  return typeof url === 'string' && url ? { src: url } : null;
}

/** A failed upload or removal of a picture (an ApiError) as a sentence for its owner: the
 *  refusals pizza explains (413, 415, 422) with its reason when it gave one (a 422 says why
 *  in its `picture` field error, e.g. "the file is not a JPEG, PNG or WebP image"). */
export function pictureProblem(error) {
  const status = error && error.status;
  const fields = error && typeof error.fieldErrors === 'function' ? error.fieldErrors() : {};
  const detail = fields.picture || (error && error.detail) || '';
  const limit = formatBytes(PICTURE_MAX_BYTES);
  switch (status) {
    case 413:
      return `The photo is too large: a photo may be at most ${limit}. Choose a smaller one.`;
    case 415:
      return `This file is not a JPEG, PNG or WebP picture${detail ? ` (${detail})` : ''}. Choose a photo in one of those formats.`;
    case 422:
      return detail
        ? `This photo could not be used: ${sentence(detail)}`
        : 'This photo could not be used: it is not a readable JPEG, PNG or WebP picture, or its size in pixels is out of bounds.';
    case 400:
      return detail ? `This photo could not be sent: ${sentence(detail)}` : 'This photo could not be sent.';
    case 403:
      return 'Only the owner of the pizzeria (or an admin) may change its photos.';
    case 404:
      return detail || 'The pizza (or its photo) is gone.';
    default:
      return detail || (error && error.message) || 'The photo could not be saved.';
  }
}
