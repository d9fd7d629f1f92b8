// The typed fallback (issue 12): the 6-digit code both pages show, the short link {server}/c/{code}
// a phone without a camera app opens, and the phone page's own code form, in a real browser
// against the server under test. Against a server without shortCode and GET /c/{code}, each case
// says so and is skipped (not passed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  skip, startServer, openContext, scenario, readQr, sessionIdOf, sendPhotoAndSeeIt,
  shortCodeOf, grouped, supportsShortCodes, withConfig,
} from './harness.mjs';

const NO_CODES = 'the server under test has no short codes yet (POST /sessions "shortCode", GET /c/{code})';

async function setUp(t, state, args = []) {
  const server = (state.server = await startServer(args));
  const probe = await supportsShortCodes(server);
  if (!probe) t.skip(NO_CODES);
  return probe ? { server, probe } : null;
}

// A code no live session has: `want` unless one of `codes` is it.
function absentCode(codes, want = '000000') {
  let n = Number(want);
  while (codes.includes(String(n).padStart(6, '0'))) n = (n + 1) % 1000000;
  return String(n).padStart(6, '0');
}

const visible = (page, sel) => page.locator(sel).isVisible();

test('short link: the desktop shows the 6-digit code and the link without its scheme; a phone opening it sends a photo there', { skip }, async (t) => {
  await scenario(t, async (state) => {
    const s = await setUp(t, state);
    if (!s) return;
    const { server } = s;
    const desktop = (await openContext(t, 'desktop')).page;
    const created = desktop.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/sessions');
    await desktop.goto(server.url + '/');
    const answer = await (await created).json();
    const phoneUrl = await readQr(desktop);
    const sessionId = await sessionIdOf(phoneUrl);
    assert.equal(answer.sessionId, sessionId);
    // One code: the server's, which is the one the session id gives.
    const code = answer.shortCode;
    assert.equal(code, shortCodeOf(sessionId));
    assert.equal(await desktop.textContent('#computer-code'), grouped(code));

    // The short link, written without http:// so it is short to type; its href is the whole URL.
    const host = new URL(server.url).host;
    assert.ok(await visible(desktop, '#short-link'));
    assert.equal(await visible(desktop, '#type-line'), false);
    assert.equal(await desktop.textContent('#short-link'), `${host}/c/${code}`);
    assert.equal(await desktop.getAttribute('#short-link', 'href'), `${server.url}/c/${code}`);
    assert.match(await desktop.textContent('#short-line'), /No camera app\? On your phone, open/);
    // The 86-character link is still there, but not as what to type.
    assert.equal(await desktop.getAttribute('#phone-link', 'href'), phoneUrl);
    assert.equal(await visible(desktop, '#phone-link'), false);

    // The phone types the short link into its address bar: the server sends it on to the phone
    // page of that session, which shows the same code.
    const phone = (await openContext(t, 'phone', { kind: 'phone' })).page;
    await phone.goto(`${server.url}/c/${code}`);
    assert.equal(new URL(phone.url()).pathname, '/phone.html');
    assert.equal(new URL(phone.url()).searchParams.get('sessionId'), sessionId);
    await phone.locator('#choose').waitFor({ state: 'visible' });
    assert.equal(await phone.textContent('#computer-code'), grouped(code));
    await sendPhotoAndSeeIt(phone, desktop, { width: 400, height: 300, type: 'image/jpeg', name: 'short-link.jpg' });

    // Taken by a phone, the code no longer finds the session.
    const again = await fetch(`${server.url}/c/${code}`, { headers: { Accept: 'application/json' } });
    assert.equal(again.status, 404);
  });
});

test('phone page without a link: a wrong code is said plainly and the form stays; the right one (typed with a space) opens the upload screen', { skip }, async (t) => {
  await scenario(t, async (state) => {
    const s = await setUp(t, state);
    if (!s) return;
    const { server, probe } = s;
    const desktop = (await openContext(t, 'desktop')).page;
    await desktop.goto(server.url + '/');
    const sessionId = await sessionIdOf(await readQr(desktop));
    const code = shortCodeOf(sessionId);
    await desktop.waitForFunction((c) => document.querySelector('#computer-code').textContent === c, grouped(code));

    const phone = (await openContext(t, 'phone', { kind: 'phone' })).page;
    const lookups = [];
    phone.on('request', (req) => {
      if (/\/c\//.test(new URL(req.url()).pathname)) lookups.push([req.url(), req.headers().accept]);
    });
    await phone.goto(server.url + '/phone.html');
    await phone.locator('#enter').waitFor({ state: 'visible' });
    assert.doesNotMatch(await phone.textContent('body'), /incomplete/i);
    // A field phones offer digits and the code from a message for.
    const input = phone.locator('#code-input');
    assert.equal(await input.getAttribute('inputmode'), 'numeric');
    assert.equal(await input.getAttribute('autocomplete'), 'one-time-code');
    assert.ok(await input.getAttribute('pattern'));
    assert.equal(await phone.evaluate(() => document.querySelector('#code-input').labels[0].textContent), 'Code');
    assert.equal(await phone.textContent('#code-submit'), 'Continue');
    assert.equal(await phone.evaluate(() => document.activeElement.id), 'code-input');

    // Five digits: said at once, nothing asked.
    await input.fill('48392');
    await input.press('Enter');
    await phone.locator('#code-error').waitFor({ state: 'visible' });
    assert.match(await phone.textContent('#code-error'), /A code has 6 digits/);
    assert.equal(lookups.length, 0);

    // A code no computer shows: plain words, the form stays with what was typed.
    const wrong = absentCode([code, probe.shortCode], String((Number(code) + 1) % 1000000).padStart(6, '0'));
    await input.fill(`${wrong.slice(0, 3)}-${wrong.slice(3)}`);
    await input.press('Enter');
    await phone.waitForFunction(() => /No computer is showing/.test(document.querySelector('#code-error').textContent));
    assert.equal(await phone.textContent('#code-error'),
      `No computer is showing ${grouped(wrong)} right now. Check the code on your computer; codes change when a new one is made.`);
    assert.doesNotMatch(await phone.textContent('#code-error'), /session|not found|\(/i);
    assert.ok(await visible(phone, '#enter'));
    assert.equal(await input.inputValue(), `${wrong.slice(0, 3)}-${wrong.slice(3)}`);
    assert.equal(await phone.getAttribute('#code-input', 'aria-invalid'), 'true');
    assert.deepEqual(lookups.at(-1), [`${server.url}/c/${wrong}`, 'application/json']);

    // Too many tries (the server's 429) and no network, in the page's words.
    await phone.route('**/c/*', (route) => route.fulfill({
      status: 429, headers: { 'Retry-After': '17', 'Content-Type': 'application/json' }, body: '{"error":"Too many requests"}',
    }), { times: 1 });
    await phone.click('#code-submit');
    await phone.waitForFunction(() => /Too many tries/.test(document.querySelector('#code-error').textContent));
    assert.match(await phone.textContent('#code-error'), /^Too many tries: wait 17 seconds/);
    await phone.route('**/c/*', (route) => route.abort('internetdisconnected'), { times: 1 });
    await phone.click('#code-submit');
    await phone.waitForFunction(() => /Can't reach your computer/.test(document.querySelector('#code-error').textContent));
    assert.ok(await visible(phone, '#enter'));

    // The right code, as the computer shows it (with its space), and Continue.
    await input.fill(grouped(code));
    await phone.click('#code-submit');
    await phone.locator('#choose').waitFor({ state: 'visible' });
    assert.equal(new URL(phone.url()).searchParams.get('sessionId'), sessionId, 'the address names the session');
    assert.equal(new URL(phone.url()).pathname, '/phone.html');
    assert.equal(await phone.textContent('#computer-code'), grouped(code));
    assert.ok(await visible(phone, '#target'));
    assert.equal(await visible(phone, '#enter'), false);
    // A reload goes on with the same session.
    await phone.reload();
    await phone.locator('#choose').waitFor({ state: 'visible' });
    assert.equal(await phone.textContent('#computer-code'), grouped(code));
    await sendPhotoAndSeeIt(phone, desktop, { width: 320, height: 240, type: 'image/png', name: 'typed.png' });
  });
});

test('short link of a code no computer shows: the phone page says so, with the code to correct', { skip }, async (t) => {
  await scenario(t, async (state) => {
    const s = await setUp(t, state);
    if (!s) return;
    const { server, probe } = s;
    const absent = absentCode([probe.shortCode]);
    const api = await fetch(`${server.url}/c/${absent}`, { headers: { Accept: 'application/json' } });
    assert.equal(api.status, 404);
    assert.deepEqual(await api.json(), { error: 'Code not found' });
    const bad = await fetch(`${server.url}/c/12ab`, { headers: { Accept: 'application/json' } });
    assert.equal(bad.status, 400);

    const phone = (await openContext(t, 'phone', { kind: 'phone' })).page;
    await phone.goto(`${server.url}/c/${absent}`);
    assert.equal(new URL(phone.url()).pathname, '/phone.html');
    assert.equal(new URL(phone.url()).searchParams.get('code'), absent);
    await phone.waitForFunction(() => /No computer is showing/.test(document.querySelector('#code-error').textContent));
    assert.match(await phone.textContent('#code-error'), new RegExp(`^No computer is showing ${grouped(absent)} right now\\.`));
    assert.equal(await phone.inputValue('#code-input'), grouped(absent));
    assert.ok(await visible(phone, '#enter'));

    // Not 6 digits: the phone page without a code, asking for all 6.
    await phone.goto(`${server.url}/c/12ab`);
    assert.equal(new URL(phone.url()).searchParams.get('code'), '');
    await phone.locator('#code-error').waitFor({ state: 'visible' });
    assert.match(await phone.textContent('#code-error'), /A code has 6 digits/);

    // A dead end (a link to a session this computer does not know) offers the form for a new code.
    await phone.goto(`${server.url}/phone.html?sessionId=00000000-0000-4000-8000-000000000000`);
    await phone.locator('#unavailable').waitFor({ state: 'visible' });
    await phone.click('#type-instead');
    await phone.locator('#enter').waitFor({ state: 'visible' });
    assert.equal(await phone.inputValue('#code-input'), '');

    // The one code that does exist, typed in the same form, works.
    await phone.fill('#code-input', probe.shortCode);
    await phone.press('#code-input', 'Enter');
    await phone.locator('#choose').waitFor({ state: 'visible' });
    assert.equal(new URL(phone.url()).searchParams.get('sessionId'), probe.sessionId);
  });
});

test('pages and API on different origins (AWS): the desktop says which page to open and which code to type', { skip }, async (t) => {
  await scenario(t, async (state) => {
    const s = await setUp(t, state);
    if (!s) return;
    const { server } = s;
    // config.js as deploy.sh writes it: an absolute phoneUrl, no shortLinkBase.
    const phonePage = `${server.url}/phone.html`;
    const desktop = (await openContext(t, 'desktop')).page;
    await withConfig(desktop, { shortLinkBase: '', phoneUrl: phonePage });
    await desktop.goto(server.url + '/');
    const sessionId = await sessionIdOf(await readQr(desktop));
    const code = shortCodeOf(sessionId);
    await desktop.locator('#type-line').waitFor({ state: 'visible' });
    assert.equal(await visible(desktop, '#short-line'), false);
    const host = new URL(server.url).host;
    assert.equal(await desktop.textContent('#type-address'), `${host}/phone.html`);
    assert.equal(await desktop.textContent('#type-code'), grouped(code));
    assert.equal((await desktop.textContent('#type-line')).replace(/\s+/g, ' ').trim(),
      `No camera app? On your phone, open ${host}/phone.html and type the code ${grouped(code)}`);
    assert.equal(await desktop.textContent('#computer-code'), grouped(code));
    // No shared Wi-Fi is needed when the pages are on the internet.
    assert.equal((await desktop.textContent('#reach-line')).replace(/\s+/g, ' ').trim(),
      `Your phone needs an internet connection to open ${host}.`);

    // What that says to do works.
    const phone = (await openContext(t, 'phone', { kind: 'phone' })).page;
    await phone.goto(phonePage);
    await phone.fill('#code-input', grouped(code));
    await phone.press('#code-input', 'Enter');
    await phone.locator('#choose').waitFor({ state: 'visible' });
    assert.equal(await phone.textContent('#computer-code'), grouped(code));
  });
});
