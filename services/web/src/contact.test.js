import { expect, test } from 'vitest';
import { mapHref, telHref } from './contact.js';

test('telHref keeps the digits and a leading +', () => {
  expect(telHref('+1 555 0100')).toBe('tel:+15550100');
  expect(telHref('(06) 12-34')).toBe('tel:061234');
  expect(telHref(' +39 (06) 1234')).toBe('tel:+39061234');
  expect(telHref('')).toBeNull();
  expect(telHref(' - ')).toBeNull();
  expect(telHref(undefined)).toBeNull();
});

test('mapHref searches the address on OpenStreetMap', () => {
  expect(mapHref('1 Main St')).toBe('https://www.openstreetmap.org/search?query=1%20Main%20St');
  expect(mapHref('Via Roma 2, 00100 Roma & co')).toBe('https://www.openstreetmap.org/search?query=Via%20Roma%202%2C%2000100%20Roma%20%26%20co');
  expect(mapHref('  ')).toBeNull();
});
