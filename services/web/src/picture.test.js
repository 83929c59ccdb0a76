import { describe, expect, it } from 'vitest';
import { ApiError } from './api.js';
import { checkPictureFile, formatBytes, photoSource, pictureProblem, PICTURE_ACCEPT, PICTURE_MAX_BYTES, thumbSize } from './picture.js';

const file = (name, type, size) => ({ name, type, size });
const picture = {
  version: '0123456789abcdef0123456789abcdef', width: 1280, height: 960,
  large: '/api/v1/pizzas/p1/picture/large?v=0123456789abcdef0123456789abcdef',
  thumb: '/api/v1/pizzas/p1/picture/thumb?v=0123456789abcdef0123456789abcdef',
};

describe('checkPictureFile', () => {
  it('lets a JPEG, PNG or WebP of up to 5 MiB through', () => {
    expect(checkPictureFile(file('a.jpg', 'image/jpeg', 1))).toBe(null);
    expect(checkPictureFile(file('a.png', 'image/png', 200000))).toBe(null);
    expect(checkPictureFile(file('a.webp', 'image/webp', PICTURE_MAX_BYTES))).toBe(null);
    expect(PICTURE_ACCEPT).toBe('image/jpeg,image/png,image/webp');
  });
  it('refuses one byte over 5 MiB, saying how large it is and the limit', () => {
    expect(checkPictureFile(file('big.jpg', 'image/jpeg', PICTURE_MAX_BYTES + 1)))
      .toBe('big.jpg is too large (5.0 MB): a photo may be at most 5 MB. Choose a smaller one.');
    expect(checkPictureFile(file('huge.png', 'image/png', 12 * 1024 * 1024))).toMatch(/^huge\.png is too large \(12 MB\): .* at most 5 MB/);
  });
  it('refuses other types (or none) and empty files', () => {
    expect(checkPictureFile(file('a.gif', 'image/gif', 10))).toBe('a.gif is not a JPEG, PNG or WebP picture. Choose a photo in one of those formats.');
    expect(checkPictureFile(file('IMG_1.HEIC', 'image/heic', 10))).toMatch(/not a JPEG, PNG or WebP/);
    expect(checkPictureFile(file('noext', '', 10))).toMatch(/^noext is not a JPEG/);
    expect(checkPictureFile(file('a.png', 'image/png', 0))).toBe('a.png is empty. Choose another photo.');
    expect(checkPictureFile(null)).toBe('Choose a photo first.');
  });
});

describe('formatBytes', () => {
  it('counts in KB and MB of 1024', () => {
    expect(formatBytes(1)).toBe('1 byte');
    expect(formatBytes(900)).toBe('900 bytes');
    expect(formatBytes(2048)).toBe('2 KB');
    expect(formatBytes(5 * 1024 * 1024)).toBe('5 MB');
    expect(formatBytes(6.5 * 1024 * 1024)).toBe('6.5 MB');
  });
});

describe('photoSource', () => {
  it('takes the thumb for small photos and the large rendition for large ones, with their sizes', () => {
    const pizza = { picture, thumbnail_url: 'https://x.io/old.jpg' };
    expect(photoSource(pizza, 'small')).toEqual({ src: picture.thumb, width: 320, height: 240 });
    expect(photoSource(pizza, 'large')).toEqual({ src: picture.large, width: 1280, height: 960 });
    expect(photoSource(pizza)).toEqual(photoSource(pizza, 'large'));
  });
  it('falls back to thumbnail_url, then to nothing', () => {
    expect(photoSource({ picture: null, thumbnail_url: 'https://x.io/a.jpg' }, 'small')).toEqual({ src: 'https://x.io/a.jpg' });
    expect(photoSource({ thumbnail_url: 'https://x.io/a.jpg' }, 'large')).toEqual({ src: 'https://x.io/a.jpg' });
    expect(photoSource({ picture: null, thumbnail_url: null }, 'large')).toBe(null);
    expect(photoSource({ picture: null, thumbnail_url: '' }, 'small')).toBe(null);
    expect(photoSource(null)).toBe(null);
  });
  it('copes with a picture missing a rendition or its size', () => {
    expect(photoSource({ picture: { large: picture.large, width: 1280, height: 960 } }, 'small'))
      .toEqual({ src: picture.large, width: 1280, height: 960 });
    expect(photoSource({ picture: { thumb: picture.thumb } }, 'large')).toEqual({ src: picture.thumb });
    expect(photoSource({ picture: {}, thumbnail_url: 'https://x.io/a.jpg' }, 'large')).toEqual({ src: 'https://x.io/a.jpg' });
  });
});

describe('thumbSize', () => {
  it('scales the long side down to 320 px and leaves small pictures alone', () => {
    expect(thumbSize(1280, 960)).toEqual({ width: 320, height: 240 });
    expect(thumbSize(600, 1280)).toEqual({ width: 150, height: 320 });
    expect(thumbSize(1280, 16)).toEqual({ width: 320, height: 4 });
    expect(thumbSize(200, 100)).toEqual({ width: 200, height: 100 });
  });
});

describe('pictureProblem', () => {
  const err = (status, detail = '') => new ApiError({ status, detail });
  it('explains the refusals of a picture', () => {
    expect(pictureProblem(err(413))).toBe('The photo is too large: a photo may be at most 5 MB. Choose a smaller one.');
    expect(pictureProblem(err(415, 'Content-Type must be image/jpeg, image/png or image/webp')))
      .toBe('This file is not a JPEG, PNG or WebP picture (Content-Type must be image/jpeg, image/png or image/webp). Choose a photo in one of those formats.');
    expect(pictureProblem(err(422, 'not a decodable JPEG, PNG or WebP image')))
      .toBe('This photo could not be used: not a decodable JPEG, PNG or WebP image.');
    expect(pictureProblem(err(422, 'The picture is 9000 px wide; at most 8000.'))).toBe('This photo could not be used: The picture is 9000 px wide; at most 8000.');
    // pizza's 422: a general detail, the reason in the picture's field error
    expect(pictureProblem(new ApiError({ status: 422, detail: 'the picture is not accepted',
      errors: [{ field: 'picture', message: 'the file is not a JPEG, PNG or WebP image' }] })))
      .toBe('This photo could not be used: the file is not a JPEG, PNG or WebP image.');
    expect(pictureProblem(err(400, "the request body must be the picture's file; it is empty")))
      .toBe("This photo could not be sent: the request body must be the picture's file; it is empty.");
    expect(pictureProblem(err(422))).toMatch(/not a readable JPEG, PNG or WebP picture/);
    expect(pictureProblem(err(403))).toMatch(/^Only the owner/);
  });
  it('keeps the detail of other failures', () => {
    expect(pictureProblem(err(503, 'The service is unavailable right now.'))).toBe('The service is unavailable right now.');
    expect(pictureProblem(new ApiError({ status: 0, title: 'Network error', detail: 'The server could not be reached.' })))
      .toBe('The server could not be reached.');
  });
});
