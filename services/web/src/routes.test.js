import { describe, expect, test } from 'vitest';
import { documentTitle, fromLegacyHash, loginPath, matchRoute, returnPath, routeTitle } from './routes.js';

const id = '0123456789abcdef01234567';

describe('matchRoute', () => {
  test('the fixed pages, with or without a trailing slash', () => {
    expect(matchRoute('/')).toEqual({ name: 'shuffle', params: {} });
    expect(matchRoute('/shuffle')).toEqual({ name: 'shuffle', params: {} });
    expect(matchRoute('/likes/')).toEqual({ name: 'likes', params: {} });
    expect(matchRoute('/pizzerias')).toEqual({ name: 'pizzerias', params: {} });
    expect(matchRoute('/status')).toEqual({ name: 'services', params: {} });
    expect(matchRoute('/docs')).toEqual({ name: 'doc', params: {} });
    expect(matchRoute('/account-deleted')).toEqual({ name: 'erasure', params: {} });
    expect(matchRoute('/review')).toEqual({ name: 'review', params: {} });
    expect(matchRoute('/top')).toEqual({ name: 'top', params: {} });
  });

  test('a pizza and a pizzeria by id', () => {
    expect(matchRoute(`/pizzas/${id}`)).toEqual({ name: 'pizza', params: { id } });
    expect(matchRoute(`/pizzerias/${id}/`)).toEqual({ name: 'pizzeria', params: { id } });
  });

  test('anything else is not found: unknown paths, ids that are no ids, deeper paths', () => {
    for (const p of ['/nope', '/pizzas', '/pizzas/margherita.svg', `/pizzas/${id.toUpperCase()}`,
      `/pizzas/${id}0`, `/pizzas/${id}/edit`, '/Likes', '/services', '/constructor', '/toString']) {
      expect(matchRoute(p), p).toEqual({ name: 'notfound', params: {} });
    }
  });
});

test('titles: fixed per page, "· Tizza" after each', () => {
  expect(routeTitle('likes')).toBe('My likes');
  expect(routeTitle('services')).toBe('Services');
  expect(routeTitle('pizza')).toBeNull();
  expect(routeTitle('notfound')).toBeNull();
  expect(documentTitle('My likes')).toBe('My likes · Tizza');
  expect(documentTitle('')).toBe('Tizza');
});

test('old hash links map to their paths', () => {
  expect(fromLegacyHash('#/likes')).toBe('/likes');
  expect(fromLegacyHash('#/services')).toBe('/status');
  expect(fromLegacyHash('#/doc?url=%2Fa.yaml')).toBe('/docs?url=%2Fa.yaml');
  expect(fromLegacyHash('#/')).toBe('/');
  expect(fromLegacyHash('')).toBeNull();
  expect(fromLegacyHash('#top')).toBeNull();
});

test('a login returns to a page of the app only', () => {
  expect(returnPath('/tweets')).toBe('/tweets');
  expect(returnPath('/shuffle?kind=vegan')).toBe('/shuffle?kind=vegan');
  expect(returnPath(`/pizzas/${id}`)).toBe(`/pizzas/${id}`);
  for (const bad of [null, '', 'tweets', '//evil.example/x', '/\\evil.example', 'https://evil.example/', '/login', '/signup?x=1',
    '/account-deleted', '/no/such/page']) {
    expect(returnPath(bad), String(bad)).toBe('/shuffle');
  }
  expect(loginPath('/tweets')).toBe('/login?next=%2Ftweets');
  expect(loginPath('/login')).toBe('/login');
});
