// journey.mjs -- the frontend's end-to-end journey in headless Chromium (Debian's
// /usr/bin/chromium driven by playwright-core: no browser download), against the gateway
// that run.sh started at E2E_BASE_URL. Each step is asserted (node:assert, or a locator that
// must appear within its timeout) and leaves a screenshot in E2E_ARTIFACTS. Steps depend on
// each other, so the first failure stops the journey; the steps after it count as failed.
//
// Personas, each in its own browser context (own cookies): a user on a phone-sized screen,
// a merchant on a desktop screen, and the admin created by run.sh (E2E_ADMIN_PASSWORD).
// Last line: "journey: N passed, M failed".
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';

const require = createRequire(new URL('../../services/web/package.json', import.meta.url));
const { chromium } = require('playwright-core');
const AXE = require.resolve('axe-core/axe.min.js');

const BASE = process.env.E2E_BASE_URL;
const ART = process.env.E2E_ARTIFACTS || 'tests/artifacts/e2e';
const ADMIN_PASSWORD = process.env.E2E_ADMIN_PASSWORD;
const TWEETS_PID = Number(process.env.E2E_TWEETS_PID || 0);
assert.ok(BASE, 'E2E_BASE_URL is required');
mkdirSync(ART, { recursive: true });

const tag = Math.random().toString(36).slice(2, 8);
const user = { username: `ann_${tag}_has_a_long_username`, email: `ann_${tag}@example.org`, password: `pw-${tag}-secret`, name: 'Ann Example' };
const merchant = { username: `mario_${tag}`, email: `mario_${tag}@example.org`, password: `pw-${tag}-mario` };
const seeded = ['Margherita', 'Diavola', 'Quattro Formaggi'];
const newPizza = `Vegan Garden ${tag}`;
const draftPizza = `Garden ${tag}`; // its first title
const reason = 'Which herbs? Say so in the description.';
const photoPizza = `Photo test ${tag}`; // added with a photo file, then removed
const versioned = { first: `Versioned ${tag}`, mario: `Versioned ${tag} by Mario`, admin: `Versioned ${tag} by the admin` };
const T = 15000; // how long a locator may take to appear

// ---------------------------------------------------------------- steps
const steps = [];
const step = (name, fn) => steps.push({ name, fn });
let shot = 0;
async function screenshot(page, name) {
  shot += 1;
  await page.screenshot({ path: join(ART, `${String(shot).padStart(2, '0')}-${name}.png`), fullPage: true });
}
const pageErrors = [];
function watch(page, who) {
  page.on('pageerror', (e) => pageErrors.push(`${who}: ${e.message}`));
  page.on('console', (m) => {
    // the refusals the journey asks for (a wrong password, a taken name, ...) are not errors
    if (m.type() === 'error' && !/status of (400|401|404|409|412|422|503|502)/.test(m.text())) pageErrors.push(`${who} console: ${m.text()}`);
  });
}

// JSON through the gateway as the admin (seeding only: everything else goes through the UI).
async function apiAs(token, method, path, body) {
  const res = await fetch(BASE + path, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

// Polls until the locator matches exactly n elements.
async function waitCount(locator, n, timeout = T) {
  const end = Date.now() + timeout;
  let have;
  while ((have = await locator.count()) !== n) {
    if (Date.now() > end) assert.fail(`expected ${n} elements, found ${have}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const nav = (page, name) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });
const footer = (page, name) => page.getByRole('contentinfo').getByRole('link', { name, exact: true });
const path = (page) => new URL(page.url()).pathname;

// Waits until document.title is `title`.
async function waitTitle(page, title) {
  await page.waitForFunction((t) => document.title === t, title, { timeout: T }).catch(async () => {
    assert.equal(await page.title(), title);
  });
}

const topCard = (page) => page.locator('.pizza-card');

// The id of the pizza on top of the stack (from its title's link).
async function currentPizzaId(page) {
  const href = await topCard(page).locator('h2 a').getAttribute('href');
  return href.split('/').pop();
}

// The pizza ids the signed-in user of `page` has judged (likes' /seen, with the page's cookies).
const seenIds = (page) => page.evaluate(async () => (await (await fetch('/api/v1/likes/seen')).json()).pizza_ids);

const stampOpacity = (page, which) => topCard(page).locator(`.stamp-${which}`).evaluate((el) => Number(getComputedStyle(el).opacity));

// Records every horizontal offset the top card is given from now on (it moves by --dx).
async function recordMoves(page) {
  await topCard(page).evaluate((card) => {
    window.cardMoves = [];
    new MutationObserver(() => window.cardMoves.push(card.style.getPropertyValue('--dx')))
      .observe(card, { attributes: true, attributeFilter: ['style'] });
  });
}
const recordedMoves = (page) => page.evaluate(() => window.cardMoves);

// axe-core on the page as it is now: no violation of impact serious or critical.
async function axe(page, what) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] }))
    .violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 4)
      .map((n) => `${n.target.join(' ')}: ${n.failureSummary.replace(/\s+/g, ' ')}`) })));
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad, [], `${what}: axe found\n${JSON.stringify(bad, null, 1)}`);
}

// Waits until nothing on the page says it is still loading.
async function settled(page) {
  await page.getByRole('heading', { level: 1 }).first().waitFor({ timeout: T });
  await waitCount(page.getByText(/^(Loading|Checking|Finding pizzas)/), 0);
}

// Each main page, reached by its link: its title, and axe on it.
async function axeMainPages(page, who) {
  const pages = [
    [nav(page, 'Shuffle'), 'Shuffle · Tizza', 'shuffle'],
    [nav(page, 'Top liked'), 'Top liked · Tizza', 'top'],
    [nav(page, 'My likes'), 'My likes · Tizza', 'likes'],
    [nav(page, 'My pizzerias'), 'My pizzerias · Tizza', 'pizzerias'],
    [nav(page, 'Tweets'), 'Tweets · Tizza', 'tweets'],
    [nav(page, 'Profile'), 'Profile · Tizza', 'profile'],
    [footer(page, 'Services'), 'Services · Tizza', 'services'],
  ];
  for (const [link, title, name] of pages) {
    await link.click();
    await waitTitle(page, title);
    await settled(page);
    await axe(page, `${who}: ${name}`);
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), `${who}: ${name} scrolls sideways`);
  }
}

async function currentPizzaTitle(page) {
  const h = page.locator('.pizza-card h2');
  await h.waitFor({ timeout: T });
  return (await h.textContent()).trim();
}

// ---------------------------------------------------------------- picture files
// A real PNG, written here (Node has no image library): w x h RGB, a pizza drawn pixel by
// pixel (tomato, cheese and crust on a cream background), deflated into one IDAT chunk.
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function pngChunk(type, data) {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}
function pizzaPng(w, h) {
  const raw = Buffer.alloc((w * 3 + 1) * h); // each row: filter type 0, then RGB
  const cx = w / 2, cy = h / 2, r = Math.min(w, h) * 0.45;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const d = Math.hypot(x - cx, y - cy);
      let rgb = [245, 232, 208];
      if (d < r) rgb = [204, 142, 69];
      if (d < r * 0.88) rgb = Math.sin(x / 7) * Math.sin(y / 6) > 0.55 ? [250, 222, 130] : [196, 52, 38];
      raw.set(rgb, y * (w * 3 + 1) + 1 + x * 3);
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8 bits, RGB, deflate, no filter, no interlace
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr), pngChunk('IDAT', deflateSync(raw)), pngChunk('IEND', Buffer.alloc(0))]);
}
const PHOTO = { name: 'pizza.png', mimeType: 'image/png', buffer: pizzaPng(400, 300) };
const NOT_A_PHOTO = { name: 'menu.png', mimeType: 'image/png', buffer: Buffer.from('Margherita 8.50\nDiavola 9.50\n') };
const TOO_LARGE = { name: 'huge.jpg', mimeType: 'image/jpeg', buffer: Buffer.alloc(5 * 1024 * 1024 + 1, 0xff) };

// Waits until the <img> of `locator` has loaded (a decoded picture, not a broken one).
async function imageLoaded(page, locator) {
  await locator.waitFor({ timeout: T });
  await page.waitForFunction((el) => el.complete && el.naturalWidth > 0, await locator.elementHandle(), { timeout: T });
}

// The requests of `page` to a pizza's picture (PUT and DELETE) from now on.
function recordPictureRequests(page) {
  const seen = [];
  const on = (req) => {
    if (/\/api\/v1\/pizzas\/[^/]+\/picture$/.test(new URL(req.url()).pathname) || (req.method() === 'POST' && new URL(req.url()).pathname === '/api/v1/pizzas')) {
      seen.push({ method: req.method(), type: req.headers()['content-type'] });
    }
  };
  page.on('request', on);
  seen.stop = () => page.off('request', on);
  return seen;
}

// ---------------------------------------------------------------- the journey
let browser, userPage, merchantPage, adminPage;
const likedTitles = [];
const shownTitles = [];
let forgotten; // the pizza whose verdict Mario forgets, judged again when his session ends

step('seed: the admin opens a pizzeria with three approved pizzas (API)', async () => {
  const login = await fetch(`${BASE}/api/v1/auth/login`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
  });
  assert.equal(login.status, 200, 'admin login');
  const { access_token: token } = await login.json();
  const pz = await apiAs(token, 'POST', '/api/v1/pizzerias', { name: 'Seed Pizzeria', address: '1 Main St', phone: '+1 555 0100' });
  assert.equal(pz.status, 201);
  for (const [i, title] of seeded.entries()) {
    const p = await apiAs(token, 'POST', '/api/v1/pizzas', {
      pizzeria_id: pz.json.id, title, description: `The ${title} of the house.`, kind: ['vegetarian', 'meat', 'vegetarian'][i],
    });
    assert.equal(p.status, 201);
    const a = await apiAs(token, 'PATCH', `/api/v1/pizzas/${p.json.id}`, { approved: true });
    assert.equal(a.status, 200);
  }
});

step('a visitor: real URLs with their own titles, back and reload work, unknown paths are not found', async () => {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  watch(page, 'visitor');
  await page.goto(`${BASE}/tweets`);
  await page.getByRole('heading', { name: 'Tweets', level: 1 }).waitFor({ timeout: T });
  await waitTitle(page, 'Tweets · Tizza');
  await nav(page, 'Shuffle').click();
  await page.getByRole('heading', { name: 'Shuffle', level: 1 }).waitFor({ timeout: T });
  assert.equal(path(page), '/shuffle');
  await waitTitle(page, 'Shuffle · Tizza');
  await page.goBack();
  await page.getByRole('heading', { name: 'Tweets', level: 1 }).waitFor({ timeout: T });
  assert.equal(path(page), '/tweets');
  // the developers' page is a footer link, not a main one, and survives a reload
  assert.equal(await nav(page, 'Services').count(), 0, 'Services is not in the main navigation');
  await footer(page, 'Services').click();
  await page.getByRole('heading', { name: 'Services', level: 1 }).waitFor({ timeout: T });
  assert.equal(path(page), '/status');
  await page.reload();
  await page.getByRole('heading', { name: 'Services', level: 1 }).waitFor({ timeout: T });
  await waitTitle(page, 'Services · Tizza');
  // a link of the hash-routing days
  await page.goto(`${BASE}/#/likes`);
  await page.getByRole('heading', { name: 'Log in first' }).waitFor({ timeout: T });
  assert.equal(path(page), '/likes');
  await waitTitle(page, 'My likes · Tizza');
  for (const p of ['/pizzas/not-an-id', '/no/such/page']) {
    await page.goto(`${BASE}${p}`);
    await page.getByRole('heading', { name: 'Not found', level: 1 }).waitFor({ timeout: T });
    await waitTitle(page, 'Not found · Tizza');
  }
  await screenshot(page, 'not-found');
  await ctx.close();
});

step('axe on the signed-out pages of a phone: Shuffle, Tweets, Log in, Sign up, Services, not found', async () => {
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  const page = await ctx.newPage();
  watch(page, 'visitor');
  for (const [p, title] of [['/shuffle', 'Shuffle'], ['/top', 'Top liked'], ['/tweets', 'Tweets'], ['/login', 'Log in'], ['/signup', 'Sign up'],
    ['/status', 'Services'], ['/nothing-here', 'Not found']]) {
    await page.goto(`${BASE}${p}`);
    await waitTitle(page, `${title} · Tizza`);
    await settled(page);
    await axe(page, `visitor: ${p}`);
  }
  await ctx.close();
});

step('sign up', async () => {
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  userPage = await ctx.newPage();
  watch(userPage, 'user');
  const page = userPage;
  await page.goto(`${BASE}/signup`);
  await page.getByRole('heading', { name: 'Sign up' }).waitFor({ timeout: T });
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Name (optional)').fill(user.name);
  await page.getByLabel('Password').fill(user.password);
  // the rules are on screen before anything is sent, tied to their fields
  for (const [label, rule] of [['Username', '3 to 30 characters: letters, digits, _ . or - (no spaces).'], ['Password', 'At least 8 characters.']]) {
    const hint = page.getByText(rule, { exact: true });
    assert.ok(await hint.isVisible(), `the ${label} rule is shown`);
    const described = await page.getByLabel(label).getAttribute('aria-describedby');
    assert.ok(described && described.split(' ').includes(await hint.getAttribute('id')), `the ${label} rule describes its field`);
  }
  await screenshot(page, 'signup');
  await page.getByRole('button', { name: 'Sign up' }).click();
  await nav(page, 'My likes').waitFor({ timeout: T });
  await page.getByText(`@${user.username}`).waitFor({ timeout: T });
  assert.equal(new URL(page.url()).pathname, '/shuffle');
});

step('a 30-character username fits the phone header, on one line', async () => {
  const page = userPage;
  assert.equal(user.username.length, 30);
  const header = page.getByRole('banner');
  const name = header.getByText(`@${user.username}`);
  await name.waitFor({ timeout: T });
  assert.equal(await name.getAttribute('title'), `@${user.username}`, 'the whole name on hover');
  const cut = await name.evaluate((el) => ({ overflow: getComputedStyle(el).textOverflow, cut: el.scrollWidth > el.clientWidth }));
  assert.deepEqual(cut, { overflow: 'ellipsis', cut: true }, 'the name is cut with an ellipsis');
  const h = await header.boundingBox();
  assert.ok(h.height < 64, `the header is one line (${h.height} px high)`);
  const out = await header.getByRole('button', { name: 'Log out' }).boundingBox();
  assert.ok(out.x >= 0 && out.x + out.width <= 390, 'Log out is on screen');
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'no sideways scrolling');
  await screenshot(page, 'long-username');
});

step('shuffle shows one pizza with photo, title, description, kind and pizzeria', async () => {
  const page = userPage;
  const title = await currentPizzaTitle(page);
  assert.ok(seeded.includes(title), `unexpected pizza ${title}`);
  const card = page.getByRole('article', { name: title });
  await card.getByText(`The ${title} of the house.`).waitFor({ timeout: T });
  await card.getByText('Seed Pizzeria').waitFor({ timeout: T });
  await card.getByText(/^(Vegetarian|Meat|Vegan)$/).waitFor({ timeout: T });
  await card.getByRole('img').first().waitFor({ timeout: T });
  assert.equal(await page.locator('.pizza-card').count(), 1, 'one pizza at a time');
  await screenshot(page, 'shuffle');
});

step('like one pizza, dislike the next', async () => {
  const page = userPage;
  const first = await currentPizzaTitle(page);
  shownTitles.push(first);
  await page.getByRole('button', { name: 'Like', exact: true }).click();
  await page.getByText(`You liked ${first}.`).waitFor({ state: 'attached', timeout: T });
  likedTitles.push(first);
  const second = await currentPizzaTitle(page);
  assert.notEqual(second, first, 'a judged pizza must not come back');
  shownTitles.push(second);
  await page.getByRole('button', { name: 'Dislike', exact: true }).click();
  await page.getByText(`You disliked ${second}.`).waitFor({ state: 'attached', timeout: T });
});

step('My likes shows the verdicts with like counts', async () => {
  const page = userPage;
  await nav(page, 'My likes').click();
  await page.getByRole('heading', { name: 'My likes' }).waitFor({ timeout: T });
  const list = page.getByRole('list', { name: 'My verdicts' });
  const liked = list.getByRole('listitem').filter({ hasText: likedTitles[0] });
  await liked.getByText('Liked', { exact: true }).waitFor({ timeout: T });
  await liked.getByText('1 like · 0 dislikes').waitFor({ timeout: T });
  const disliked = list.getByRole('listitem').filter({ hasText: shownTitles[1] });
  await disliked.getByText('Disliked', { exact: true }).waitFor({ timeout: T });
  await disliked.getByText('0 likes · 1 dislike').waitFor({ timeout: T });
  await page.getByText('2 verdicts').waitFor({ timeout: T });
  await screenshot(page, 'my-likes');
  // a verdict turned round, and back
  await disliked.getByRole('button', { name: `Like instead: ${shownTitles[1]}` }).click();
  await page.getByRole('status').filter({ hasText: `You now like ${shownTitles[1]}.` }).waitFor({ timeout: T });
  await disliked.getByText('Liked', { exact: true }).waitFor({ timeout: T });
  await disliked.getByText('1 like · 0 dislikes').waitFor({ timeout: T });
  await screenshot(page, 'my-likes-flipped');
  await disliked.getByRole('button', { name: `Dislike instead: ${shownTitles[1]}` }).click();
  await disliked.getByText('Disliked', { exact: true }).waitFor({ timeout: T });
  await disliked.getByText('0 likes · 1 dislike').waitFor({ timeout: T });
  // Forget asks first: nothing is deleted until "Yes, forget"
  const deletes = [];
  const onRequest = (r) => r.method() === 'DELETE' && deletes.push(r.url());
  page.on('request', onRequest);
  await disliked.getByRole('button', { name: `Forget my verdict on ${shownTitles[1]}` }).click();
  const confirm = disliked.getByRole('group', { name: `Confirm forgetting your verdict on ${shownTitles[1]}` });
  await confirm.getByRole('button', { name: 'Yes, forget' }).waitFor({ timeout: T });
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Cancel', 'the focus is on Cancel');
  await screenshot(page, 'my-likes-forget-confirm');
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await disliked.getByRole('button', { name: `Forget my verdict on ${shownTitles[1]}` }).waitFor({ timeout: T });
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), `Forget my verdict on ${shownTitles[1]}`);
  page.off('request', onRequest);
  assert.deepEqual(deletes, [], 'nothing deleted without a confirmation');
  await page.getByText('2 verdicts').waitFor({ timeout: T });
});

step('an expired access token is refreshed without the user noticing', async () => {
  const page = userPage;
  await page.context().clearCookies({ name: 'tizza_access' });
  const names = (await page.context().cookies(BASE)).map((c) => c.name);
  assert.ok(!names.includes('tizza_access'), 'access cookie removed');
  await page.getByRole('button', { name: 'Liked', exact: true }).click();
  const list = page.getByRole('list', { name: 'My verdicts' });
  await list.getByRole('listitem').filter({ hasText: likedTitles[0] }).waitFor({ timeout: T });
  await waitCount(list.getByRole('listitem'), 1);
  await page.getByText('1 verdict', { exact: true }).waitFor({ timeout: T });
  const after = (await page.context().cookies(BASE)).map((c) => c.name);
  assert.ok(after.includes('tizza_access'), 'a new access cookie was issued');
  assert.equal(await page.getByText('Your session has ended').count(), 0);
});

step('a pizza page and its pizzeria page: links, real URLs, reload, counts, menu, contacts', async () => {
  const page = userPage;
  const title = likedTitles[0];
  const others = seeded.filter((t) => t !== title);
  await page.getByRole('list', { name: 'My verdicts' }).getByRole('link', { name: title }).click();
  await page.getByRole('heading', { name: title, level: 1 }).waitFor({ timeout: T });
  assert.match(path(page), /^\/pizzas\/[0-9a-f]{24}$/);
  const pizzaUrl = page.url();
  const checkPizza = async () => {
    await waitTitle(page, `${title} · Tizza`);
    const art = page.getByRole('article', { name: title });
    await art.getByText(`The ${title} of the house.`).waitFor({ timeout: T });
    await art.getByText(title === 'Diavola' ? 'Meat' : 'Vegetarian', { exact: true }).waitFor({ timeout: T });
    await art.getByRole('img').first().waitFor({ timeout: T });
    await art.getByText('1 like · 0 dislikes').waitFor({ timeout: T });
    await art.getByRole('link', { name: 'Seed Pizzeria' }).waitFor({ timeout: T });
    const more = page.getByRole('list', { name: 'Other pizzas of this pizzeria' });
    await waitCount(more.getByRole('listitem'), others.length);
    for (const o of others) await more.getByRole('link', { name: o }).waitFor({ timeout: T });
  };
  await checkPizza();
  await screenshot(page, 'pizza-page');
  await page.reload();
  await checkPizza();
  assert.equal(page.url(), pizzaUrl);

  await page.getByRole('article', { name: title }).getByRole('link', { name: 'Seed Pizzeria' }).click();
  await page.getByRole('heading', { name: 'Seed Pizzeria', level: 1 }).waitFor({ timeout: T });
  assert.match(path(page), /^\/pizzerias\/[0-9a-f]{24}$/);
  const checkPizzeria = async () => {
    await waitTitle(page, 'Seed Pizzeria · Tizza');
    await page.getByText('1 Main St').waitFor({ timeout: T });
    assert.equal(await page.getByRole('link', { name: '+1 555 0100' }).getAttribute('href'), 'tel:+15550100');
    assert.equal(await page.getByRole('link', { name: /Show on a map/ }).getAttribute('href'),
      'https://www.openstreetmap.org/search?query=1%20Main%20St');
    const menu = page.getByRole('list', { name: 'Menu of Seed Pizzeria' });
    await waitCount(menu.getByRole('listitem'), seeded.length);
    await menu.getByRole('listitem').filter({ hasText: title }).getByText('1 like · 0 dislikes').waitFor({ timeout: T });
  };
  await checkPizzeria();
  await screenshot(page, 'pizzeria-page');
  await page.reload();
  await checkPizzeria();
  await page.getByRole('list', { name: 'Menu of Seed Pizzeria' }).getByRole('link', { name: title }).click();
  await page.getByRole('heading', { name: title, level: 1 }).waitFor({ timeout: T });
  assert.equal(page.url(), pizzaUrl);

  // shared with someone signed out: the URL alone opens the page; unknown ids are not found
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const visitor = await ctx.newPage();
  watch(visitor, 'visitor');
  await visitor.goto(pizzaUrl);
  await visitor.getByRole('heading', { name: title, level: 1 }).waitFor({ timeout: T });
  await visitor.getByText('1 like · 0 dislikes').waitFor({ timeout: T });
  await visitor.goto(`${BASE}/pizzas/${'0'.repeat(24)}`);
  await visitor.getByText('No pizza has this address.').waitFor({ timeout: T });
  await waitTitle(visitor, 'Not found · Tizza');
  await visitor.goto(`${BASE}/pizzerias/${'f'.repeat(24)}`);
  await visitor.getByText('No pizzeria has this address.').waitFor({ timeout: T });
  await waitTitle(visitor, 'Not found · Tizza');
  await ctx.close();
});

step('swipe on a phone: a touch drag judges with a LIKE stamp, no page change; undo; a short drag does nothing', async () => {
  const page = userPage;
  await nav(page, 'Shuffle').click();
  const title = await currentPizzaTitle(page);
  const id = await currentPizzaId(page);
  assert.ok(!likedTitles.includes(title) && !shownTitles.includes(title), `${title} was judged already`);
  // what keeps the browser's swipe navigation and the page's scrolling out of the way
  assert.equal(await topCard(page).evaluate((el) => getComputedStyle(el).touchAction), 'pan-y');
  assert.equal(await page.evaluate(() => getComputedStyle(document.documentElement).overscrollBehaviorX), 'none');
  assert.equal(await page.evaluate(() => getComputedStyle(document.body).overscrollBehaviorX), 'none');
  const box = await topCard(page).boundingBox();
  const x = box.x + box.width / 2;
  const y = box.y + Math.min(150, box.height / 3);
  const cdp = await page.context().newCDPSession(page);
  const touch = (type, px, py) => cdp.send('Input.dispatchTouchEvent',
    { type, touchPoints: type === 'touchEnd' ? [] : [{ x: px, y: py }] });
  await touch('touchStart', x, y);
  for (let i = 1; i <= 10; i++) await touch('touchMove', x + i * 16, y + i);
  assert.ok(await stampOpacity(page, 'like') > 0.9, 'the LIKE stamp shows while dragging right');
  assert.equal(await stampOpacity(page, 'nope'), 0);
  await screenshot(page, 'swipe-touch');
  await touch('touchEnd');
  await page.getByText(`You liked ${title}.`).waitFor({ timeout: T });
  assert.equal(path(page), '/shuffle', 'the swipe did not navigate');
  assert.ok((await seenIds(page)).includes(id), 'the verdict is saved');
  await page.getByText('You have judged every pizza on the menu.').waitFor({ timeout: T });

  await page.getByRole('button', { name: /^Undo/ }).click();
  await page.getByText(`Undone: ${title} is back.`).waitFor({ timeout: T });
  assert.equal(await currentPizzaTitle(page), title);
  assert.ok(!(await seenIds(page)).includes(id), 'the verdict is forgotten');
  await screenshot(page, 'swipe-undo');

  // a short drag (shorter than a flick) puts the card back and judges nothing
  const box2 = await topCard(page).boundingBox();
  await touch('touchStart', box2.x + box2.width / 2, y);
  for (let i = 1; i <= 3; i++) await touch('touchMove', box2.x + box2.width / 2 + i * 10, y);
  await touch('touchEnd');
  await page.waitForFunction(() => document.querySelector('.pizza-card').style.getPropertyValue('--dx') === '0px', null, { timeout: T });
  assert.equal(await currentPizzaTitle(page), title);
  await page.getByText(`Undone: ${title} is back.`).waitFor({ timeout: T });
  assert.ok(!(await seenIds(page)).includes(id), 'still not judged');
  await cdp.detach();
});

step('post a tweet: it appears with a relative date; delete another', async () => {
  const page = userPage;
  await nav(page, 'Tweets').click();
  const body = `Best pizza day ever ${tag}`;
  await page.getByLabel('How you doing?').fill(body);
  await page.getByRole('button', { name: 'Tweet now' }).click();
  const item = page.getByRole('list', { name: 'Timeline' }).getByRole('listitem').filter({ hasText: body });
  await item.waitFor({ timeout: T });
  await item.getByText('a few seconds ago').waitFor({ timeout: T });
  await item.getByText(`@${user.username}`).waitFor({ timeout: T });
  assert.equal(await page.getByLabel('How you doing?').inputValue(), '', 'the box is emptied');
  await screenshot(page, 'tweets');
  // a second one, deleted again
  const oops = `Oops, wrong window ${tag}`;
  await page.getByLabel('How you doing?').fill(oops);
  await page.getByRole('button', { name: 'Tweet now' }).click();
  const timeline = page.getByRole('list', { name: 'Timeline' });
  const oopsItem = timeline.getByRole('listitem').filter({ hasText: oops });
  await oopsItem.getByRole('button', { name: 'Delete' }).click();
  await oopsItem.waitFor({ state: 'detached', timeout: T });
  await page.getByRole('button', { name: 'Refresh' }).click();
  await timeline.getByText(body).waitFor({ timeout: T });
  assert.equal(await timeline.getByText(oops).count(), 0, 'the deleted tweet stays deleted');
});

step('axe on the phone: every main page, a pizza page and a pizzeria page, each with its title', async () => {
  const page = userPage;
  await axeMainPages(page, 'Ann');
  await nav(page, 'Shuffle').click();
  const title = await currentPizzaTitle(page);
  await topCard(page).getByRole('link', { name: title }).click();
  await waitTitle(page, `${title} · Tizza`);
  await settled(page);
  await axe(page, 'Ann: a pizza page');
  await page.getByRole('article', { name: title }).getByRole('link', { name: 'Seed Pizzeria' }).click();
  await waitTitle(page, 'Seed Pizzeria · Tizza');
  await settled(page);
  await axe(page, 'Ann: a pizzeria page');
});

step('problem details are shown: signing up with a taken username', async () => {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  merchantPage = await ctx.newPage();
  watch(merchantPage, 'merchant');
  const page = merchantPage;
  await page.goto(`${BASE}/signup`);
  await page.getByLabel('Username').fill(user.username.toUpperCase());
  await page.getByLabel('Email').fill(merchant.email);
  await page.getByLabel('Password').fill(merchant.password);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.getByRole('alert').filter({ hasText: 'Could not sign up' }).waitFor({ timeout: T });
  await page.locator('.field-error', { hasText: 'is already taken' }).waitFor({ timeout: T });
  await page.getByRole('alert').getByText('Username is already taken.', { exact: true }).waitFor({ timeout: T });
  await screenshot(page, 'signup-error');
});

step('a merchant opens a pizzeria and adds a pizza (awaiting review)', async () => {
  const page = merchantPage;
  await page.getByLabel('Username').fill(merchant.username);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await nav(page, 'My pizzerias').click();
  await page.getByRole('heading', { name: 'My pizzerias' }).waitFor({ timeout: T });
  assert.equal(await nav(page, 'Review').count(), 0, 'only the admin has a Review page');
  const form = page.getByRole('form', { name: 'New pizzeria' });
  await form.getByLabel('Name').fill(`Mario's ${tag}`);
  await form.getByLabel('Address').fill('2 Via Roma');
  await form.getByLabel('Phone').fill('+39 06 1234');
  await form.getByRole('button', { name: 'Create pizzeria' }).click();
  const card = page.getByRole('article', { name: `Mario's ${tag}` });
  await card.waitFor({ timeout: T });
  await card.getByText('Add a pizza').click();
  const add = card.getByRole('form', { name: `New pizza for Mario's ${tag}` });
  await add.getByLabel('Title').fill(draftPizza);
  await add.getByLabel('Description').fill('Courgettes and peppers.');
  await add.getByLabel('Photo URL').fill(`${BASE}/tizza.svg`);
  await add.getByLabel('Kind').selectOption('vegan');
  await add.getByRole('button', { name: 'Add pizza' }).click();
  const row = card.getByRole('listitem', { name: draftPizza });
  await row.getByText('Awaiting review', { exact: true }).waitFor({ timeout: T });
  await screenshot(page, 'my-pizzerias');
});

// The admin's Review page: Refresh, then the row of `title` in the queue.
async function reviewRow(title) {
  const page = adminPage;
  if (path(page) !== '/review') await nav(page, 'Review').click();
  else await page.getByRole('button', { name: 'Refresh' }).click();
  await waitTitle(page, 'Review · Tizza');
  const row = page.getByRole('list', { name: 'Pizzas awaiting review' }).getByRole('listitem', { name: title });
  await row.waitFor({ timeout: T });
  return row;
}

// Mario's row of `title` in his pizzeria, after a reload, with its badge.
async function marioSees(title, badge) {
  const page = merchantPage;
  await page.reload();
  const row = page.getByRole('article', { name: `Mario's ${tag}` }).getByRole('listitem', { name: title });
  await row.getByText(badge, { exact: true }).waitFor({ timeout: T });
  return row;
}

step('review: the admin rejects the pizza with a reason (required), Mario sees it', async () => {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  adminPage = await ctx.newPage();
  watch(adminPage, 'admin');
  const page = adminPage;
  await page.goto(`${BASE}/login`);
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await nav(page, 'My pizzerias').waitFor({ timeout: T });
  // the queue is a page of its own, not a part of My pizzerias
  await nav(page, 'My pizzerias').click();
  await settled(page);
  assert.equal(await page.getByRole('list', { name: 'Pizzas awaiting review' }).count(), 0);
  const row = await reviewRow(draftPizza);
  await settled(page);
  await axe(page, 'admin: review');
  await row.getByRole('button', { name: `Reject ${draftPizza}` }).click();
  const form = row.getByRole('form', { name: `Reject ${draftPizza}` });
  await form.getByRole('button', { name: 'Reject pizza' }).click();
  await form.getByText('Say why, so the owner can fix it.').waitFor({ timeout: T });
  assert.equal(await form.getByLabel(/^Reason/).getAttribute('aria-invalid'), 'true');
  await form.getByLabel(/^Reason/).fill(reason);
  assert.equal(await form.getByText('Say why, so the owner can fix it.').count(), 0, 'the error goes with a reason');
  await screenshot(page, 'review-reject');
  await form.getByRole('button', { name: 'Reject pizza' }).click();
  await row.waitFor({ state: 'detached', timeout: T });
  await page.getByText(`${draftPizza} rejected.`).waitFor({ timeout: T });
  const mine = await marioSees(draftPizza, 'Rejected');
  await mine.getByText(reason).waitFor({ timeout: T });
  await screenshot(merchantPage, 'pizza-rejected');
  // its page says so too, to its owner
  await mine.getByRole('link', { name: draftPizza }).click();
  const art = merchantPage.getByRole('article', { name: draftPizza });
  await art.getByText('Rejected', { exact: true }).waitFor({ timeout: T });
  await art.getByText(reason).waitFor({ timeout: T });
  await merchantPage.goBack();
  await merchantPage.getByRole('article', { name: `Mario's ${tag}` }).waitFor({ timeout: T });
});

step('review: Mario fixes it, it is back in the queue, the admin approves; a new title sends it back again', async () => {
  const page = merchantPage;
  let row = await marioSees(draftPizza, 'Rejected');
  await row.getByRole('button', { name: 'Edit' }).click();
  let edit = page.getByRole('form', { name: `Edit ${draftPizza}` });
  await edit.getByLabel('Description').fill('Courgettes, peppers and basil.');
  await edit.getByRole('button', { name: 'Save pizza' }).click();
  row = page.getByRole('listitem', { name: draftPizza });
  await row.getByText('Awaiting review', { exact: true }).waitFor({ timeout: T });
  assert.equal(await row.getByText(reason).count(), 0, 'the reason went with the rejection');
  let queued = await reviewRow(draftPizza);
  await queued.getByText('Courgettes, peppers and basil.').waitFor({ timeout: T });
  await queued.getByRole('button', { name: `Approve ${draftPizza}` }).click();
  await queued.waitFor({ state: 'detached', timeout: T });
  row = await marioSees(draftPizza, 'Approved');
  // an approved pizza renamed by its owner waits for review again
  await row.getByRole('button', { name: 'Edit' }).click();
  edit = page.getByRole('form', { name: `Edit ${draftPizza}` });
  await edit.getByText('A new title, description or photo sends the pizza back to review.').waitFor({ timeout: T });
  await edit.getByLabel('Title').fill(newPizza);
  await edit.getByRole('button', { name: 'Save pizza' }).click();
  await page.getByRole('listitem', { name: newPizza }).getByText('Awaiting review', { exact: true }).waitFor({ timeout: T });
  await marioSees(newPizza, 'Awaiting review');
  queued = await reviewRow(newPizza);
  await screenshot(adminPage, 'review-queue');
  await queued.getByRole('button', { name: `Approve ${newPizza}` }).click();
  await adminPage.getByText(`${newPizza} approved.`).waitFor({ timeout: T });
  await marioSees(newPizza, 'Approved');
});

step('pictures: Mario uploads a photo file: refused files say why, a PNG is previewed, sent, back in review, shown', async () => {
  const page = merchantPage;
  let row = await marioSees(newPizza, 'Approved');
  await row.getByRole('button', { name: 'Edit' }).click();
  const edit = page.getByRole('form', { name: `Edit ${newPizza}` });
  const file = edit.getByLabel('Photo file');
  assert.equal(await file.getAttribute('accept'), 'image/jpeg,image/png,image/webp');
  const sent = recordPictureRequests(page);
  // over 5 MiB: refused here, before anything is sent
  await file.setInputFiles(TOO_LARGE);
  await edit.getByRole('alert').filter({ hasText: 'huge.jpg is too large (5.0 MB): a photo may be at most 5 MB.' }).waitFor({ timeout: T });
  assert.equal(await file.getAttribute('aria-invalid'), 'true');
  await edit.getByRole('button', { name: 'Save pizza' }).click();
  await page.waitForTimeout(300);
  assert.equal(await page.evaluate(() => document.activeElement.type), 'file', 'the focus goes to the refused file');
  assert.deepEqual(sent.map((r) => r.method), [], 'nothing sent for a file over 5 MiB');
  // a text file named .png: no preview here, and pizza's refusal as a sentence
  await file.setInputFiles(NOT_A_PHOTO);
  await edit.getByText('No preview: this file does not look like a picture.').waitFor({ timeout: T });
  await edit.getByRole('button', { name: 'Save pizza' }).click();
  await edit.getByRole('alert').filter({ hasText: 'This photo could not be used: the file is not a JPEG, PNG or WebP image.' }).waitFor({ timeout: T });
  await screenshot(page, 'picture-refused');
  assert.equal(sent.length, 1, 'one PUT for the renamed file');
  // a real PNG: previewed before it is sent, then sent as the raw file with its type
  await file.setInputFiles(PHOTO);
  const preview = edit.getByRole('img', { name: 'Preview of the chosen photo', exact: true });
  await imageLoaded(page, preview);
  assert.match(await preview.getAttribute('src'), /^blob:/);
  await edit.getByText('Not sent yet: pizza.png').waitFor({ timeout: T });
  assert.equal(await edit.getByRole('alert').count(), 0, 'the refusal went with the file');
  await settled(page);
  await axe(page, 'Mario: a photo previewed in a pizza form');
  await screenshot(page, 'picture-preview');
  await edit.getByRole('button', { name: 'Save pizza' }).click();
  row = page.getByRole('listitem', { name: newPizza });
  // an owner's new photo of an approved pizza sends it back to review
  await row.getByText('Awaiting review', { exact: true }).waitFor({ timeout: T });
  sent.stop();
  assert.deepEqual(sent.map((r) => `${r.method} ${r.type}`), ['PUT image/png', 'PUT image/png']);
  const thumb = row.getByRole('img', { name: `Photo of ${newPizza}`, exact: true });
  await imageLoaded(page, thumb);
  assert.match(await thumb.getAttribute('src'), /\/picture\/thumb\?v=[0-9a-f]{32}$/);
  await screenshot(page, 'picture-uploaded');
  // the pizza's page shows the large rendition to its owner while it waits for review
  await row.getByRole('link', { name: newPizza }).click();
  await waitTitle(page, `${newPizza} · Tizza`);
  const art = page.getByRole('article', { name: newPizza });
  await art.getByText('Awaiting review', { exact: true }).waitFor({ timeout: T });
  const big = art.getByRole('img', { name: `Photo of ${newPizza}`, exact: true });
  await imageLoaded(page, big);
  assert.match(await big.getAttribute('src'), /\/picture\/large\?v=[0-9a-f]{32}$/);
  const dims = await big.evaluate((el) => [el.naturalWidth, el.naturalHeight, el.getAttribute('width'), el.getAttribute('height')]);
  // pizza decoded the file sent (400 x 300): its large rendition, the size given before it loads
  assert.deepEqual(dims, [400, 300, '400', '300']);
  await settled(page);
  await axe(page, 'Mario: a pizza page with its photo');
  await screenshot(page, 'picture-pizza-page');
  // the admin sees the photo in the queue and approves it
  const queued = await reviewRow(newPizza);
  await imageLoaded(adminPage, queued.getByRole('img', { name: `Photo of ${newPizza}`, exact: true }));
  await queued.getByRole('button', { name: `Approve ${newPizza}` }).click();
  await adminPage.getByText(`${newPizza} approved.`).waitFor({ timeout: T });
  await page.goBack();
  await marioSees(newPizza, 'Approved');
});

step('pictures: a new pizza with a photo file (created, then its photo sent), then Remove photo', async () => {
  const page = merchantPage;
  const card = page.getByRole('article', { name: `Mario's ${tag}` });
  await card.getByText('Add a pizza').click();
  const add = card.getByRole('form', { name: `New pizza for Mario's ${tag}` });
  await add.getByLabel('Title').fill(photoPizza);
  await add.getByLabel('Kind').selectOption('vegetarian');
  await add.getByLabel('Photo file').setInputFiles(PHOTO);
  await imageLoaded(page, add.getByRole('img', { name: 'Preview of the chosen photo', exact: true }));
  const sent = recordPictureRequests(page);
  await add.getByRole('button', { name: 'Add pizza' }).click();
  const row = card.getByRole('listitem', { name: photoPizza });
  await row.getByText('Awaiting review', { exact: true }).waitFor({ timeout: T });
  const thumb = row.getByRole('img', { name: `Photo of ${photoPizza}`, exact: true });
  await imageLoaded(page, thumb);
  assert.match(await thumb.getAttribute('src'), /\/picture\/thumb\?v=/);
  sent.stop();
  assert.deepEqual(sent.map((r) => `${r.method} ${r.type}`), ['POST application/json', 'PUT image/png'], 'created first, then the photo');
  assert.equal(await add.getByRole('img', { name: 'Preview of the chosen photo', exact: true }).count(), 0, 'the form is empty again');
  // Remove photo: the drawn placeholder is back
  await row.getByRole('button', { name: 'Edit' }).click();
  const edit = page.getByRole('form', { name: `Edit ${photoPizza}` });
  await imageLoaded(page, edit.getByRole('img', { name: `Current photo of ${photoPizza}`, exact: true }));
  await screenshot(page, 'picture-current');
  await edit.getByRole('button', { name: 'Remove photo' }).click();
  await edit.getByText('Photo removed.').waitFor({ timeout: T });
  assert.equal(await edit.getByRole('img', { name: `Current photo of ${photoPizza}`, exact: true }).count(), 0);
  await edit.getByRole('button', { name: 'Cancel' }).click();
  const after = card.getByRole('listitem', { name: photoPizza });
  await after.getByRole('img', { name: `No photo of ${photoPizza}`, exact: true }).waitFor({ timeout: T });
  // and it goes: the rest of the journey knows Mario's one pizza
  await after.getByRole('button', { name: 'Delete' }).click();
  await after.getByRole('button', { name: 'Yes, delete' }).click();
  await after.waitFor({ state: 'detached', timeout: T });
});

// The admin's access token (a login through the gateway).
async function adminToken() {
  const login = await fetch(`${BASE}/api/v1/auth/login`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
  });
  assert.equal(login.status, 200, 'admin login');
  return (await login.json()).access_token;
}

step('versions: the pizza Mario edits is renamed meanwhile: he is told, sees the current title, keeps his, saves again', async () => {
  const page = merchantPage;
  const card = page.getByRole('article', { name: `Mario's ${tag}` });
  const add = card.getByRole('form', { name: `New pizza for Mario's ${tag}` });
  if (!(await add.isVisible())) await card.getByText('Add a pizza').click(); // still open after the last step
  await add.getByLabel('Title').fill(versioned.first);
  await add.getByLabel('Kind').selectOption('vegan');
  await add.getByRole('button', { name: 'Add pizza' }).click();
  const row = card.getByRole('listitem', { name: versioned.first });
  await row.getByText('Awaiting review', { exact: true }).waitFor({ timeout: T });
  const id = (await row.getByRole('link', { name: versioned.first }).getAttribute('href')).split('/').pop();
  // every read and write of this pizza: method, If-Match sent, status and ETag answered
  const seen = [];
  const onResponse = async (res) => {
    if (new URL(res.url()).pathname !== `/api/v1/pizzas/${id}`) return;
    const req = res.request();
    seen.push({ method: req.method(), ifMatch: (await req.allHeaders())['if-match'], status: res.status(), etag: res.headers().etag });
  };
  page.on('response', onResponse);
  // Mario opens the form (the pizza is read with its ETag) and types a new title
  await row.getByRole('button', { name: 'Edit' }).click();
  let edit = page.getByRole('form', { name: `Edit ${versioned.first}` });
  await edit.getByLabel('Title').fill(versioned.mario);
  // meanwhile the admin renames it (another request, another user)
  const token = await adminToken();
  const other = await apiAs(token, 'PATCH', `/api/v1/pizzas/${id}`, { title: versioned.admin });
  assert.equal(other.status, 200, 'the admin renames it');
  await edit.getByRole('button', { name: 'Save pizza' }).click();
  // the app says so in plain words, shows the current title and keeps Mario's
  edit = page.getByRole('form', { name: `Edit ${versioned.admin}` });
  const note = edit.getByRole('alert').filter({ hasText: 'Changed meanwhile.' });
  await note.getByText('Someone else (or you, in another tab) changed this pizza while you were editing it, so your changes were not saved.').waitFor({ timeout: T });
  await note.getByText(`Title is now “${versioned.admin}”; the form keeps yours, “${versioned.mario}”.`).waitFor({ timeout: T });
  assert.equal(await edit.getByLabel('Title').inputValue(), versioned.mario, 'what Mario typed is kept');
  const first = seen.filter((r) => r.method === 'PATCH');
  assert.equal(first.length, 1);
  const opened = seen.find((r) => r.method === 'GET');
  assert.ok(opened && /^"\d+"$/.test(opened.etag), `the form read the pizza with its ETag: ${JSON.stringify(seen)}`);
  assert.equal(first[0].ifMatch, opened.etag, 'the save carried If-Match: the ETag read when the form opened');
  assert.equal(first[0].status, 412, 'the first save was refused: changed meanwhile');
  await settled(page);
  await axe(page, 'Mario: a pizza changed meanwhile');
  await screenshot(page, 'pizza-changed-meanwhile');
  // saving again sends the new ETag and succeeds with Mario's title
  await edit.getByRole('button', { name: 'Save pizza' }).click();
  const saved = card.getByRole('listitem', { name: versioned.mario });
  await saved.waitFor({ timeout: T });
  const patches = seen.filter((r) => r.method === 'PATCH');
  assert.equal(patches.length, 2, JSON.stringify(seen));
  assert.equal(patches[1].status, 200);
  assert.ok(patches[1].ifMatch && patches[1].ifMatch !== patches[0].ifMatch, 'the second save carried the new ETag');
  assert.equal(patches[1].ifMatch, patches[0].etag, 'the ETag the 412 named');
  const now = await apiAs(token, 'GET', `/api/v1/pizzas/${id}`);
  assert.equal(now.json.title, versioned.mario);
  // and it goes, with If-Match too
  await saved.getByRole('button', { name: 'Delete' }).click();
  await saved.getByRole('button', { name: 'Yes, delete' }).click();
  await saved.waitFor({ state: 'detached', timeout: T });
  page.off('response', onResponse);
  const del = seen.filter((r) => r.method === 'DELETE');
  assert.equal(del.length, 1);
  assert.equal(del[0].status, 204);
  assert.equal(del[0].ifMatch, patches[1].etag, 'the deletion carried the ETag of the last read');
});

step('swipe on a desktop: mouse drags, ← and → keys, undo; the focus stays on the actions', async () => {
  const page = merchantPage;
  await nav(page, 'Shuffle').click();
  const a = await currentPizzaTitle(page);
  const aId = await currentPizzaId(page);
  const center = async () => {
    const box = await topCard(page).boundingBox();
    return [box.x + box.width / 2, box.y + Math.min(150, box.height / 3)];
  };
  // a mouse drag to the right, past the threshold: LIKE, and the card flies out
  let [x, y] = await center();
  await page.mouse.move(x, y);
  await page.mouse.down();
  await page.mouse.move(x + 60, y + 4, { steps: 6 });
  await page.mouse.move(x + 200, y + 8, { steps: 10 });
  assert.ok(await stampOpacity(page, 'like') > 0.9, 'LIKE stamp at full strength');
  await screenshot(page, 'swipe-mouse');
  await page.mouse.up();
  await page.getByText(`You liked ${a}.`).waitFor({ timeout: T });
  assert.notEqual(await currentPizzaTitle(page), a);
  // undo: the same pizza is back on top, the verdict gone
  await page.getByRole('button', { name: `Undo: like of ${a}` }).click();
  await page.getByText(`Undone: ${a} is back.`).waitFor({ timeout: T });
  assert.equal(await currentPizzaTitle(page), a);
  assert.ok(!(await seenIds(page)).includes(aId));
  // a slow drag short of the threshold: NOPE shows a little, then the card goes back
  [x, y] = await center();
  await page.mouse.move(x, y);
  await page.mouse.down();
  for (let i = 1; i <= 6; i++) {
    await page.mouse.move(x - i * 10, y);
    await page.waitForTimeout(40);
  }
  const nope = await stampOpacity(page, 'nope');
  assert.ok(nope > 0.2 && nope < 1, `NOPE half shown (${nope})`);
  await page.waitForTimeout(150); // at rest: not a flick
  await page.mouse.up();
  await page.waitForFunction(() => document.querySelector('.pizza-card').style.getPropertyValue('--dx') === '0px', null, { timeout: T });
  assert.equal(await currentPizzaTitle(page), a);
  assert.equal(await stampOpacity(page, 'nope'), 0);
  assert.ok(!(await seenIds(page)).includes(aId), 'a short drag judges nothing');
  // ←: dislike, and the card flies out to the left
  await recordMoves(page);
  await page.keyboard.press('ArrowLeft');
  await page.getByText(`You disliked ${a}.`).waitFor({ timeout: T });
  assert.ok((await recordedMoves(page)).some((dx) => parseFloat(dx) < -500), 'the card flew out to the left');
  // Enter on the focused Like button, twice: no Tab needed between verdicts
  const like = page.getByRole('button', { name: 'Like', exact: true });
  await like.focus();
  const b = await currentPizzaTitle(page);
  await page.keyboard.press('Enter');
  await page.getByText(`You liked ${b}.`).waitFor({ timeout: T });
  assert.equal(await page.evaluate(() => document.activeElement.dataset.action), 'like', 'focus stays on Like');
  const c = await currentPizzaTitle(page);
  assert.notEqual(c, b);
  await page.keyboard.press('Enter');
  await page.getByText(`You liked ${c}.`).waitFor({ timeout: T });
  await screenshot(page, 'swipe-keys');
  // → from the card's own link, with reduced motion: the card does not move, the focus
  // goes to the actions when the card goes
  await page.emulateMedia({ reducedMotion: 'reduce' });
  const d = await currentPizzaTitle(page);
  await topCard(page).getByRole('link', { name: d }).focus();
  await recordMoves(page);
  await page.keyboard.press('ArrowRight');
  await page.getByText(`You liked ${d}.`).waitFor({ timeout: T });
  const still = await recordedMoves(page);
  assert.ok(still.length > 0 && still.every((dx) => dx === '0px'), `no motion with reduced motion (${still})`);
  assert.equal(await page.evaluate(() => document.activeElement.dataset.action), 'like', 'focus moved to Like');
  await page.getByText('You have judged every pizza on the menu.').waitFor({ timeout: T });
  await page.emulateMedia({ reducedMotion: null });
  const seen = await seenIds(page);
  assert.equal(seen.length, 4, 'four verdicts');
  forgotten = d;
});

step('My likes: forgetting a verdict asks first, then deletes it; its pizza is back in Shuffle', async () => {
  const page = merchantPage;
  await nav(page, 'My likes').click();
  const list = page.getByRole('list', { name: 'My verdicts' });
  await waitCount(list.getByRole('listitem'), 4);
  const row = list.getByRole('listitem').filter({ hasText: forgotten });
  await row.getByRole('button', { name: `Forget my verdict on ${forgotten}` }).click();
  const deleted = page.waitForRequest((r) => r.method() === 'DELETE' && /\/api\/v1\/likes\/[0-9a-f]{24}$/.test(r.url()), { timeout: T });
  await row.getByRole('group', { name: `Confirm forgetting your verdict on ${forgotten}` })
    .getByRole('button', { name: 'Yes, forget' }).click();
  await deleted;
  await page.getByRole('status').filter({ hasText: `Your verdict on ${forgotten} is forgotten.` }).waitFor({ timeout: T });
  await waitCount(list.getByRole('listitem'), 3);
  await page.getByText('3 verdicts').waitFor({ timeout: T });
  assert.equal((await seenIds(page)).length, 3);
  await nav(page, 'Shuffle').click();
  assert.equal(await currentPizzaTitle(page), forgotten, 'the forgotten pizza is back');
});

step('axe on a desktop: every main page (with verdicts and a pizzeria), a pizza page, a pizzeria page', async () => {
  const page = merchantPage;
  await axeMainPages(page, 'Mario');
  await nav(page, 'My pizzerias').click();
  const card = page.getByRole('article', { name: `Mario's ${tag}` });
  await card.getByRole('link', { name: newPizza }).click();
  await waitTitle(page, `${newPizza} · Tizza`);
  await settled(page);
  await axe(page, 'Mario: a pizza page');
  await page.getByRole('article', { name: newPizza }).getByRole('link', { name: `Mario's ${tag}` }).click();
  await waitTitle(page, `Mario's ${tag} · Tizza`);
  await settled(page);
  await axe(page, 'Mario: a pizzeria page');
  await screenshot(page, 'pizzeria-page-desktop');
});

step('while the session and the data load, a loading state shows, not the signed-out navigation', async () => {
  const page = merchantPage;
  const slow = (ms) => async (route) => {
    await new Promise((r) => setTimeout(r, ms));
    await route.continue();
  };
  const me = (url) => url.pathname === '/api/v1/auth/me';
  const mine = (url) => url.pathname === '/api/v1/pizzerias' && url.searchParams.has('owner_id');
  await page.route(me, slow(1500));
  await page.route(mine, slow(1500));
  await page.goto(`${BASE}/pizzerias`);
  await page.getByRole('status').filter({ hasText: 'Loading' }).first().waitFor({ timeout: T });
  await screenshot(page, 'loading');
  assert.equal(await nav(page, 'Log in').count(), 0, 'no signed-out navigation while asking who is signed in');
  assert.equal(await page.getByRole('heading', { name: 'Log in first' }).count(), 0);
  // signed in: the pizzerias load on their own, without an empty list meanwhile
  await nav(page, 'My pizzerias').waitFor({ timeout: T });
  await page.getByRole('status').filter({ hasText: 'Loading your pizzerias' }).waitFor({ timeout: T });
  assert.equal(await page.getByText('You have no pizzeria yet').count(), 0);
  await page.getByRole('article', { name: `Mario's ${tag}` }).waitFor({ timeout: T });
  await page.unroute(me);
  await page.unroute(mine);
});

step('the approved pizza shows up in Shuffle, and no pizza is shown twice', async () => {
  const page = userPage;
  await nav(page, 'Shuffle').click();
  const card = page.locator('.pizza-card h2');
  const done = page.getByText('You have judged every pizza on the menu.');
  let found = false;
  for (let i = 0; i < 8; i++) {
    await card.or(done).first().waitFor({ timeout: T });
    if (await done.isVisible()) break;
    const title = await currentPizzaTitle(page);
    assert.ok(!shownTitles.includes(title), `${title} was shown again`);
    shownTitles.push(title);
    const liked = title === newPizza;
    if (liked) {
      found = true;
      const art = page.getByRole('article', { name: title });
      await art.getByText(`Mario's ${tag}`).waitFor({ timeout: T });
      const photo = art.getByRole('img', { name: `Photo of ${title}`, exact: true });
      await imageLoaded(page, photo);
      assert.match(await photo.getAttribute('src'), /\/picture\/large\?v=[0-9a-f]{32}$/, 'its uploaded picture');
      await screenshot(page, 'shuffle-new-pizza');
    }
    await page.getByRole('button', { name: liked ? 'Like' : 'Dislike', exact: true }).click();
    await page.getByText(`You ${liked ? 'liked' : 'disliked'} ${title}.`).waitFor({ state: 'attached', timeout: T });
  }
  assert.ok(found, `${newPizza} never came up (shown: ${shownTitles.join(', ')})`);
  // Four approved pizzas, all judged: the queue says so instead of repeating one.
  await done.waitFor({ timeout: T });
  assert.equal(shownTitles.length, seeded.length + 1);
  await screenshot(page, 'shuffle-all-judged');
});

// Judges every card of the filtered Shuffle (liking them when `like`) until it says `done`;
// every card must be of `kind` (when given) and have `contains` in its title, in any case
// (when given).
async function judgeAllFiltered(page, { kind, contains, like, done }) {
  const card = page.locator('.pizza-card h2');
  const end = page.getByText(done, { exact: true });
  const titles = [];
  for (let i = 0; i < 8; i++) {
    await card.or(end).first().waitFor({ timeout: T });
    if (await end.isVisible()) break;
    const title = await currentPizzaTitle(page);
    const art = page.getByRole('article', { name: title });
    if (kind) await art.getByText(kind, { exact: true }).waitFor({ timeout: T });
    if (contains) assert.ok(title.toLowerCase().includes(contains.toLowerCase()), `${title} does not have ${contains} in it`);
    assert.ok(!titles.includes(title), `${title} was shown twice`);
    titles.push(title);
    await page.getByRole('button', { name: like ? 'Like' : 'Dislike', exact: true }).click();
    await page.getByText(`You ${like ? 'liked' : 'disliked'} ${title}.`).waitFor({ state: 'attached', timeout: T });
  }
  await end.waitFor({ timeout: T });
  return titles.sort();
}

step('discover: Shuffle filtered by a word of the title in another case, then by kind, each until none is left', async () => {
  const page = adminPage; // has judged nothing yet
  await nav(page, 'Shuffle').click();
  const filters = page.getByRole('search', { name: 'Filter pizzas' });
  // "formaggi": lowercase, the second word of "Quattro Formaggi" -- found anywhere in the
  // title, whatever its case (pizza's title__icontains), over every kind
  const field = filters.getByLabel('Title contains');
  assert.equal(await field.getAttribute('maxlength'), '120');
  const asked = page.waitForResponse((r) => {
    const u = new URL(r.url());
    return u.pathname === '/api/v1/pizzas' && u.searchParams.get('title__icontains') === 'formaggi';
  }, { timeout: T });
  await field.fill('formaggi');
  await field.press('Enter');
  await page.waitForURL((u) => u.search === '?title=formaggi', { timeout: T });
  const res = await asked;
  assert.equal(res.status(), 200, `${res.url()}: ${res.status()}`);
  assert.equal(new URL(res.url()).searchParams.has('title__startswith'), false);
  await page.getByText('Shuffling pizzas with “formaggi” in the title only.').waitFor({ timeout: T });
  await page.getByRole('article', { name: 'Quattro Formaggi' }).waitFor({ timeout: T });
  await screenshot(page, 'shuffle-title');
  await axe(page, 'Shuffle filtered by a word of the title');
  const formaggi = await judgeAllFiltered(page, { contains: 'formaggi', like: true, done: 'No more pizzas with “formaggi” in the title to judge.' });
  assert.deepEqual(formaggi, ['Quattro Formaggi']);
  await page.getByRole('link', { name: 'Show all pizzas' }).click();
  await page.waitForURL((u) => u.pathname === '/shuffle' && u.search === '', { timeout: T });
  assert.equal(await field.inputValue(), '');
  // a kind
  await filters.getByLabel('Kind').selectOption('vegetarian');
  await page.waitForURL(/\/shuffle\?kind=vegetarian$/, { timeout: T });
  await page.getByText('Shuffling vegetarian pizzas only.').waitFor({ timeout: T });
  await currentPizzaTitle(page);
  await screenshot(page, 'shuffle-vegetarian');
  // the filter is in the URL: a reload keeps it
  await page.reload();
  assert.equal(await page.getByRole('search', { name: 'Filter pizzas' }).getByLabel('Kind').inputValue(), 'vegetarian');
  const veg = await judgeAllFiltered(page, { kind: 'Vegetarian', like: true, done: 'No more vegetarian pizzas to judge.' });
  assert.deepEqual(veg, ['Margherita']); // Quattro Formaggi was judged above
  await screenshot(page, 'shuffle-vegetarian-done');
  await filters.getByLabel('Kind').selectOption('vegan');
  const vegan = await judgeAllFiltered(page, { kind: 'Vegan', like: true, done: 'No more vegan pizzas to judge.' });
  assert.deepEqual(vegan, [newPizza]);
  await filters.getByLabel('Kind').selectOption('meat');
  await page.waitForURL((u) => u.search === '?kind=meat', { timeout: T });
  const meat = await judgeAllFiltered(page, { kind: 'Meat', like: false, done: 'No more meat pizzas to judge.' });
  assert.deepEqual(meat, ['Diavola']);
  await page.getByRole('link', { name: 'Show all pizzas' }).click();
  assert.equal(path(page) + new URL(page.url()).search, '/shuffle');
  await page.getByText('You have judged every pizza on the menu.').waitFor({ timeout: T });
});

step('Top liked: the most liked pizza first, with its count, linking to its page', async () => {
  const page = userPage;
  // what likes counts (public): the expected order is most likes first, then by id
  const get = async (p) => (await fetch(BASE + p)).json();
  const json = await get('/api/v1/pizzas?limit=100');
  const ids = json.results.map((p) => p.id);
  const titles = Object.fromEntries(json.results.map((p) => [p.id, p.title]));
  const { counts } = await get(`/api/v1/likes/counts?pizza_ids=${ids.join(',')}`);
  const expected = ids.filter((id) => counts[id] && counts[id].likes > 0)
    .sort((a, b) => counts[b].likes - counts[a].likes || (a < b ? -1 : 1));
  assert.ok(expected.length >= 2, 'at least two liked pizzas');
  await nav(page, 'Top liked').click();
  await waitTitle(page, 'Top liked · Tizza');
  const list = page.getByRole('list', { name: 'Most liked pizzas' });
  await waitCount(list.getByRole('listitem'), expected.length);
  const rows = list.getByRole('listitem');
  for (const [i, id] of expected.entries()) {
    const row = rows.nth(i);
    await row.getByRole('link', { name: titles[id] }).waitFor({ timeout: T });
    const n = counts[id].likes;
    await row.getByText(`${n} ${n === 1 ? 'like' : 'likes'}`, { exact: true }).waitFor({ timeout: T });
  }
  await screenshot(page, 'top-liked');
  await page.getByRole('button', { name: 'This month' }).click();
  await page.waitForURL((u) => u.search === '?days=30', { timeout: T });
  assert.equal(await page.getByRole('button', { name: 'This month' }).getAttribute('aria-pressed'), 'true');
  await waitCount(rows, expected.length);
  await rows.first().getByRole('link', { name: titles[expected[0]] }).waitFor({ timeout: T });
  await rows.first().getByRole('link', { name: titles[expected[0]] }).click();
  await page.getByRole('heading', { name: titles[expected[0]], level: 1 }).waitFor({ timeout: T });
  assert.equal(path(page), `/pizzas/${expected[0]}`);
});

step('Services (a footer link) lists every service with health, readiness, version and documents', async () => {
  const page = userPage;
  await footer(page, 'Services').click();
  assert.equal(new URL(page.url()).pathname, '/status');
  for (const name of ['auth', 'pizza', 'likes', 'tweets']) {
    const card = page.getByRole('article', { name, exact: true });
    await card.getByText('up', { exact: true }).waitFor({ timeout: T });
    await card.getByText('ready', { exact: true }).waitFor({ timeout: T });
    await card.getByText('0.1.0').waitFor({ timeout: T });
    await card.getByRole('link', { name: `OpenAPI document of ${name}` }).waitFor({ timeout: T });
  }
  await screenshot(page, 'services');
  await page.getByRole('link', { name: 'OpenAPI document of likes' }).click();
  await page.getByLabel('Document text').getByText('openapi: 3.1.0').waitFor({ timeout: T });
  await screenshot(page, 'openapi-likes');
  await page.goBack();
  await page.getByRole('link', { name: 'AsyncAPI document of the events' }).click();
  await page.getByLabel('Document text').getByText(/asyncapi: ['"]?3/).waitFor({ timeout: T });
  const res = await fetch(`${BASE}/events.asyncapi.yaml`);
  assert.equal(res.status, 200);
  assert.match(await res.text(), /user\.deleted/);
});

step('Profile: edit the name', async () => {
  const page = userPage;
  await nav(page, 'Profile').click();
  const form = page.getByRole('form', { name: 'Profile' });
  await form.getByLabel('Name').fill('Ann E. Xample');
  await form.getByRole('button', { name: 'Save profile' }).click();
  await page.getByText('Profile saved.').waitFor({ timeout: T });
  await page.reload();
  assert.equal(await page.getByRole('form', { name: 'Profile' }).getByLabel('Name').inputValue(), 'Ann E. Xample');
  await screenshot(page, 'profile');
  // a wrong current password: the message names the field as the form does
  const pw = page.getByRole('form', { name: 'Password' });
  await pw.getByText('At least 8 characters.', { exact: true }).waitFor({ timeout: T });
  await pw.getByLabel('Current password').fill('not-my-password');
  await pw.getByLabel('New password').fill(`${user.password}-2`);
  await pw.getByRole('button', { name: 'Change password' }).click();
  await pw.getByRole('alert').getByText('Current password is incorrect.', { exact: true }).waitFor({ timeout: T });
  await pw.locator('.field-error', { hasText: 'Current password is incorrect.' }).waitFor({ timeout: T });
  const text = await page.getByRole('main').innerText();
  assert.ok(!/current_password|invalid user update/.test(text), `no internal names on screen:\n${text}`);
  await screenshot(page, 'profile-password-refused');
  await page.reload();
  await page.getByRole('form', { name: 'Password' }).waitFor({ timeout: T });
});

step('delete the account: the receipt is kept, a reload still shows the progress, it reaches complete', async () => {
  const page = userPage;
  await page.getByRole('button', { name: 'Delete my account' }).click();
  await screenshot(page, 'delete-confirm');
  await page.getByRole('button', { name: 'Yes, delete my account' }).click();
  await page.getByRole('heading', { name: 'Account deleted' }).waitFor({ timeout: T });
  const kept = await page.evaluate(() => JSON.parse(localStorage.getItem('tizza.erasure')));
  assert.equal(kept.username, user.username);
  assert.match(kept.receipt, /^\/api\/v1\/erasures\/[A-Za-z0-9_-]{43}$/);
  const record = await fetch(BASE + kept.receipt); // no token, no cookie
  assert.equal(record.status, 200);
  assert.deepEqual(Object.keys((await record.json()).services).sort(), ['likes', 'pizza', 'tweets']);
  // a reload: no session and nothing in memory; the kept receipt shows the progress
  await page.reload();
  await page.getByRole('heading', { name: 'Account deleted' }).waitFor({ timeout: T });
  assert.equal(await page.getByRole('heading', { name: 'Log in first' }).count(), 0);
  await page.getByText(`@${user.username} is gone.`).waitFor({ timeout: T });
  await page.getByRole('progressbar', { name: 'Erasure progress' }).waitFor({ timeout: T });
  await page.getByText('Erasure complete: every service has erased your data.').waitFor({ timeout: 90000 });
  const rows = page.getByRole('list', { name: 'Erasure by service' }).getByRole('listitem');
  assert.equal(await rows.count(), 3);
  for (const name of ['pizza', 'likes', 'tweets']) {
    await rows.filter({ hasText: name }).getByText('Done', { exact: true }).waitFor({ timeout: T });
  }
  await rows.filter({ hasText: 'likes' }).getByText('removed 4 likes').waitFor({ timeout: T });
  await rows.filter({ hasText: 'tweets' }).getByText('removed 1 tweet').waitFor({ timeout: T });
  await screenshot(page, 'erasure-complete');
  await nav(page, 'Log in').waitFor({ timeout: T }); // signed out
  // a later visit still shows it, until the receipt is forgotten
  await page.goto(`${BASE}/account-deleted`);
  await page.getByText('Erasure complete: every service has erased your data.').waitFor({ timeout: T });
  await page.getByRole('button', { name: 'Forget the receipt' }).click();
  await page.getByRole('heading', { name: 'Shuffle', level: 1 }).waitFor({ timeout: T });
  assert.equal(await page.evaluate(() => localStorage.getItem('tizza.erasure')), null);
  await page.goto(`${BASE}/account-deleted`);
  await page.getByRole('heading', { name: 'Not found', level: 1 }).waitFor({ timeout: T });
});

step('logging in again fails', async () => {
  const page = userPage;
  await nav(page, 'Log in').click();
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('alert').getByText('invalid username or password').waitFor({ timeout: T });
  await screenshot(page, 'login-fails');
  // and the tweet is gone from the timeline
  await nav(page, 'Tweets').click();
  await page.getByRole('heading', { name: 'Tweets' }).waitFor({ timeout: T });
  await page.waitForLoadState('networkidle');
  assert.equal(await page.getByText(`Best pizza day ever ${tag}`).count(), 0);
});

step('log out, and log in again (back on the page that asked for it)', async () => {
  const page = merchantPage;
  await page.goto(`${BASE}/review`);
  await page.getByText('Only an admin reviews pizzas.').waitFor({ timeout: T });
  await page.getByRole('button', { name: 'Log out' }).click();
  await nav(page, 'Log in').waitFor({ timeout: T });
  const bye = page.getByRole('status').filter({ hasText: 'You are logged out.' });
  await bye.waitFor({ timeout: T });
  assert.equal(await bye.getAttribute('class'), 'notice');
  await page.goto(`${BASE}/pizzerias`);
  await page.getByRole('heading', { name: 'Log in first' }).waitFor({ timeout: T });
  const names = (await page.context().cookies(BASE)).map((c) => c.name);
  assert.ok(!names.includes('tizza_access'), 'the access cookie is cleared');
  await page.getByRole('main').getByRole('link', { name: 'Log in' }).click();
  await page.waitForURL((u) => u.pathname === '/login' && u.searchParams.get('next') === '/pizzerias', { timeout: T });
  await page.getByLabel('Username').fill(merchant.username);
  await page.getByLabel('Password').fill(merchant.password);
  await screenshot(page, 'login');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('article', { name: `Mario's ${tag}` }).waitFor({ timeout: T });
  assert.equal(path(page), '/pizzerias');
});

step('the session ends mid-tweet: a warning (not a success), the draft kept, the login returns to Tweets with it', async () => {
  const page = merchantPage;
  assert.equal(await page.getByRole('status').filter({ hasText: 'You are logged out.' }).count(), 0);
  await nav(page, 'Tweets').click();
  await page.getByRole('heading', { name: 'Tweets', level: 1 }).waitFor({ timeout: T });
  const draft = `Half-written by Mario ${tag}`;
  await page.getByLabel('How you doing?').fill(draft);
  await page.context().clearCookies(); // both cookies: the refresh fails too
  await page.getByRole('button', { name: 'Tweet now' }).click();
  const notice = page.getByRole('status').filter({ hasText: 'Your session has ended' });
  await notice.waitFor({ timeout: T });
  assert.equal(await notice.getAttribute('class'), 'warning', 'the notice is a warning');
  assert.notEqual(await notice.evaluate((el) => getComputedStyle(el).backgroundColor),
    await page.evaluate(() => {
      const ok = document.createElement('p');
      ok.className = 'notice';
      document.body.append(ok);
      const c = getComputedStyle(ok).backgroundColor;
      ok.remove();
      return c;
    }), 'not the success colour');
  assert.equal(path(page), '/tweets');
  await screenshot(page, 'session-ended');
  await notice.getByRole('link', { name: 'Log in again' }).click();
  await page.waitForURL((u) => u.pathname === '/login' && u.searchParams.get('next') === '/tweets', { timeout: T });
  await page.getByLabel('Username').fill(merchant.username);
  await page.getByLabel('Password').fill(merchant.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL((u) => u.pathname === '/tweets', { timeout: T });
  await page.getByText('Your unsent tweet is back.').waitFor({ timeout: T });
  assert.equal(await page.getByLabel('How you doing?').inputValue(), draft);
  assert.equal(await page.getByText('Your session has ended').count(), 0);
  await page.getByRole('button', { name: 'Tweet now' }).click();
  await page.getByRole('list', { name: 'Timeline' }).getByText(draft).waitFor({ timeout: T });
  assert.equal(await page.getByLabel('How you doing?').inputValue(), '');
  // posted, so no draft is left: a reload brings back nothing
  await page.reload();
  await page.getByRole('list', { name: 'Timeline' }).getByText(draft).waitFor({ timeout: T });
  assert.equal(await page.getByLabel('How you doing?').inputValue(), '');
  await nav(page, 'My pizzerias').click();
  await page.getByRole('article', { name: `Mario's ${tag}` }).waitFor({ timeout: T });
});

step('the session ends mid-verdict: the verdict is kept and saved after the login, back on Shuffle', async () => {
  const page = merchantPage;
  await nav(page, 'Shuffle').click();
  assert.equal(await currentPizzaTitle(page), forgotten);
  const id = await currentPizzaId(page);
  await page.context().clearCookies();
  await page.getByRole('button', { name: 'Like', exact: true }).click();
  const notice = page.getByRole('status').filter({ hasText: 'Your session has ended' });
  await notice.waitFor({ timeout: T });
  assert.equal(await notice.getAttribute('class'), 'warning');
  await page.getByText(`Your like of ${forgotten} is kept: it is saved when you log in again.`).waitFor({ timeout: T });
  assert.equal(path(page), '/shuffle');
  await screenshot(page, 'session-ended-verdict');
  // Shuffle is where a login lands anyway: no ?next= needed
  await notice.getByRole('link', { name: 'Log in again' }).click();
  await page.waitForURL((u) => u.pathname === '/login', { timeout: T });
  assert.ok([null, '/shuffle'].includes(new URL(page.url()).searchParams.get('next')), page.url());
  await page.getByLabel('Username').fill(merchant.username);
  await page.getByLabel('Password').fill(merchant.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL((u) => u.pathname === '/shuffle', { timeout: T });
  await page.getByText(`Your like of ${forgotten} is saved.`).waitFor({ timeout: T });
  assert.ok((await seenIds(page)).includes(id), 'the verdict is saved');
  await page.getByText('You have judged every pizza on the menu.').waitFor({ timeout: T });
  assert.equal(await page.evaluate(() => sessionStorage.getItem('tizza.pendingVerdict')), null, 'nothing left to send');
  await page.getByRole('button', { name: `Undo: like of ${forgotten}` }).waitFor({ timeout: T });
  await screenshot(page, 'verdict-saved-after-login');
});

if (TWEETS_PID > 0) {
  step('a service that is down degrades only its own parts', async () => {
    process.kill(TWEETS_PID, 'SIGTERM');
    // a stopping service still answers for a short grace period (DRAIN_GRACE_MS): wait until
    // the gateway no longer reaches it
    for (let i = 0; i < 200; i++) {
      const r = await fetch(`${BASE}/services/tweets/health`).catch(() => null);
      if (!r || r.status !== 200) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    const page = merchantPage;
    await nav(page, 'Tweets').click();
    await page.getByRole('alert').filter({ hasText: 'Tweets are unavailable' }).waitFor({ timeout: T });
    await screenshot(page, 'tweets-down');
    await footer(page, 'Services').click();
    const tweets = page.getByRole('article', { name: 'tweets', exact: true });
    await tweets.getByText('down', { exact: true }).waitFor({ timeout: T });
    await page.getByRole('article', { name: 'pizza', exact: true }).getByText('ready', { exact: true }).waitFor({ timeout: T });
    await screenshot(page, 'services-tweets-down');
    await nav(page, 'My pizzerias').click();
    await page.getByRole('article', { name: `Mario's ${tag}` }).waitFor({ timeout: T });
  });
}

step('no uncaught errors in the pages', async () => {
  assert.deepEqual(pageErrors, []);
});

// ---------------------------------------------------------------- runner
const t0 = Date.now();
let passed = 0;
let failed = 0;
try {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
      '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
  let broken = false;
  for (const s of steps) {
    if (broken) {
      failed++;
      console.log(`  not run: ${s.name}`);
      continue;
    }
    const t = Date.now();
    try {
      await s.fn();
      passed++;
      console.log(`  ok   ${s.name} (${Date.now() - t} ms)`);
    } catch (e) {
      failed++;
      broken = true;
      console.log(`  FAIL ${s.name} (${Date.now() - t} ms)\n${String(e && e.stack || e).split('\n').slice(0, 12).map((l) => `       ${l}`).join('\n')}`);
      for (const [who, p] of [['user', userPage], ['merchant', merchantPage], ['admin', adminPage]]) {
        if (p && !p.isClosed()) await p.screenshot({ path: join(ART, `FAIL-${who}.png`), fullPage: true }).catch(() => {});
      }
    }
  }
} catch (e) {
  failed++;
  console.log(`  FAIL browser: ${e && e.stack || e}`);
} finally {
  if (browser) await browser.close().catch(() => {});
}
console.log(`journey finished in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
console.log(`journey: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
