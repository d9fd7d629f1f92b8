// The pages as people use them (issue 12), and the desktop's polling only while its WebSocket is
// down (issue 11), in a real browser against the server under test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import {
  skip, startServer, openContext, scenario, readQr, makeImage, sessionIdOf, until, supportsMultiPhoto, sha256,
} from './harness.mjs';

// config.js as the server writes it, plus test-only settings the pages read.
async function withConfig(page, extra) {
  await page.route('**/config.js', async (route) => {
    const response = await route.fetch();
    const body = (await response.text()).replace(/;\s*$/, '') + `;\nObject.assign(window.QR_UPLOAD_CONFIG, ${JSON.stringify(extra)});\n`;
    return route.fulfill({ response, body, contentType: 'text/javascript' });
  });
}

test('desktop: the address the phone must reach, the same-network hint, and help after a while with no scan', { skip }, async (t) => {
  await scenario(t, async (state) => {
    const server = (state.server = await startServer());
    const desktop = (await openContext(t, 'desktop')).page;
    await withConfig(desktop, { helpAfterMs: 300 });
    await desktop.goto(server.url + '/');
    const phoneUrl = await readQr(desktop);
    // 127.0.0.1 is this computer only: the page says so rather than naming it for the phone.
    const host = new URL(phoneUrl).host;
    if (/^127\.|^localhost/.test(host)) {
      assert.ok(await desktop.locator('#lan-hint').isVisible());
    } else {
      assert.match(await desktop.textContent('#reach-line'), /same Wi-Fi/);
      assert.equal(await desktop.textContent('#reach-address'), host);
    }
    await desktop.locator('#help').waitFor({ state: 'visible' });
    const help = await desktop.textContent('#help');
    for (const word of [/guest/i, /firewall/i, /VPN/, /addresses/i]) assert.match(help, word);
    assert.equal(await desktop.textContent('#help-port'), new URL(phoneUrl).port);
    assert.equal(await desktop.getAttribute('#help', 'open'), '');
  });
});

test('desktop: an expired code with nothing pending renews itself', { skip }, async (t) => {
  await scenario(t, async (state) => {
    const server = (state.server = await startServer(['--session-ttl-seconds', '2']));
    const desktop = (await openContext(t, 'desktop')).page;
    await desktop.goto(server.url + '/');
    const first = await readQr(desktop);
    await desktop.waitForFunction((old) => {
      const link = document.querySelector('#phone-link');
      return link.textContent && link.textContent !== old;
    }, first, { timeout: 15000 });
    assert.notEqual(await readQr(desktop), first, 'a new code without pressing anything');
    assert.equal(await desktop.textContent('#restart'), 'New code');
  });
});

test('desktop: when the server cannot be reached the code is greyed out and the status says so', { skip }, async (t) => {
  await scenario(t, async (state) => {
    const server = (state.server = await startServer());
    const desktop = (await openContext(t, 'desktop')).page;
    await desktop.goto(server.url + '/');
    await readQr(desktop);
    await desktop.waitForFunction(() => document.querySelector('#status').dataset.live === 'true');
    await server.stop();
    await desktop.waitForFunction(() => document.querySelector('#qr').dataset.state === 'offline');
    assert.equal(await desktop.getAttribute('#status', 'data-state'), 'offline');
    assert.match(await desktop.textContent('#status'), /can't reach/i);
    assert.match(await desktop.textContent('#error'), /cannot reach the server/i);
    const opacity = await desktop.$eval('#qr svg', (svg) => Number(getComputedStyle(svg).opacity));
    assert.ok(opacity < 0.5, `the code is greyed out (opacity ${opacity})`);
  });
});

test('desktop: polls the session only while the WebSocket is down, backing off', { skip }, async (t) => {
  await scenario(t, async (state) => {
    const server = (state.server = await startServer());
    const desktop = (await openContext(t, 'desktop')).page;
    let issued = 0;
    let finished = 0;
    const isPoll = (req) => req.method() === 'GET' && /\/sessions\/[0-9a-f-]{36}$/.test(new URL(req.url()).pathname);
    desktop.on('request', (req) => { if (isPoll(req)) issued += 1; });
    desktop.on('requestfinished', (req) => { if (isPoll(req)) finished += 1; });
    desktop.on('requestfailed', (req) => { if (isPoll(req)) finished += 1; });
    await desktop.clock.install();
    await desktop.goto(server.url + '/');
    await readQr(desktop);
    await desktop.waitForFunction(() => document.querySelector('#status').dataset.live === 'true');
    const settle = () => until(() => issued === finished, 10000, 'the page\'s requests to finish');
    await settle();
    const whileUp = issued;
    assert.ok(whileUp <= 2, `one catch-up read when the WebSocket opened (${whileUp})`);
    // Two minutes with the WebSocket up: not one read (the old page read every 4 s: 30 of them).
    for (let i = 0; i < 12; i++) {
      await desktop.clock.runFor(10000);
      await settle();
    }
    assert.equal(issued, whileUp, 'no reads while the WebSocket is up');

    // The server goes away: the page reads the session at 1 s, 2 s, 4 s, 8 s ... after the drop.
    await server.stop();
    await desktop.waitForFunction(() => document.querySelector('#status').dataset.live === 'false');
    const at = [];
    for (let s = 1; s <= 40; s++) {
      const before = issued;
      await desktop.clock.runFor(1000);
      await settle();
      if (issued > before) at.push(s);
    }
    assert.ok(at.length >= 3 && at.length <= 6, `reads at ${at.join(', ')} s: backing off, not every 4 s`);
    const gaps = at.slice(1).map((v, i) => v - at[i]);
    for (let i = 1; i < gaps.length; i++) assert.ok(gaps[i] >= gaps[i - 1], `gaps grow: ${gaps.join(', ')}`);
  });
});

test('desktop: a photo arriving in a background tab marks the title and favicon and notifies when asked', { skip }, async (t) => {
  await scenario(t, async (state) => {
    const server = (state.server = await startServer());
    const desktop = (await openContext(t, 'desktop')).page;
    await desktop.addInitScript(() => {
      // A tab the test can send to the background, and a Notification that records what it shows.
      Object.defineProperty(Document.prototype, 'visibilityState', { get() { return window.__hidden ? 'hidden' : 'visible'; } });
      Object.defineProperty(Document.prototype, 'hidden', { get() { return !!window.__hidden; } });
      window.__notes = [];
      class FakeNotification {
        constructor(title, options) { window.__notes.push([title, options && options.body]); }
        close() {}
        static requestPermission() { FakeNotification.permission = 'granted'; return Promise.resolve('granted'); }
      }
      FakeNotification.permission = 'default';
      window.Notification = FakeNotification;
    });
    await desktop.goto(server.url + '/');
    const phoneUrl = await readQr(desktop);
    const title = await desktop.title();
    await desktop.click('#notify');
    await desktop.waitForFunction(() => /on/.test(document.querySelector('#notify').textContent));
    await desktop.evaluate(() => { window.__hidden = true; document.dispatchEvent(new Event('visibilitychange')); });

    const phone = (await openContext(t, 'phone', { kind: 'phone' })).page;
    await phone.goto(phoneUrl);
    const photo = await makeImage(phone, { width: 320, height: 240, type: 'image/jpeg', name: 'background.jpg' });
    await phone.setInputFiles('#file-input', photo);
    await desktop.waitForFunction(() => /^\(1\) New photo/.test(document.title));
    assert.match(await desktop.getAttribute('#favicon', 'href'), /circle/);
    const notes = await desktop.evaluate(() => window.__notes);
    assert.equal(notes.length, 1);
    assert.equal(notes[0][0], 'Photo received');

    await desktop.evaluate(() => { window.__hidden = false; document.dispatchEvent(new Event('visibilitychange')); });
    assert.equal(await desktop.title(), title);
    assert.doesNotMatch(await desktop.getAttribute('#favicon', 'href'), /circle/);
  });
});

test('keyboard: Enter opens the phone\'s picker; focus goes to the photo; the viewer opens, names it and closes', { skip }, async (t) => {
  await scenario(t, async (state) => {
    const server = (state.server = await startServer());
    const desktop = (await openContext(t, 'desktop')).page;
    await desktop.goto(server.url + '/');
    const phoneUrl = await readQr(desktop);
    const phone = (await openContext(t, 'phone', { kind: 'phone' })).page;
    await phone.goto(phoneUrl);
    const photo = await makeImage(phone, { width: 640, height: 480, type: 'image/jpeg', name: 'keyboard.jpg' });
    await phone.focus('#file-button');
    // Subscribe first, and let the browser hear of it, before the key is pressed.
    const chooserEvent = phone.waitForEvent('filechooser');
    await phone.evaluate(() => 0);
    await phone.keyboard.press('Enter');
    const chooser = await chooserEvent;
    await chooser.setFiles(photo);
    await phone.locator('#success').waitFor({ state: 'visible' });

    await desktop.waitForFunction(() => document.activeElement && document.activeElement.id === 'stage-open');
    await desktop.waitForFunction(() => document.querySelector('#result-image').naturalWidth > 0);
    await desktop.keyboard.press('Enter');
    await desktop.locator('#viewer').waitFor({ state: 'visible' });
    assert.equal(await desktop.textContent('#viewer-name'), 'keyboard.jpg');
    await desktop.waitForFunction(() => /640 × 480 pixels/.test(document.querySelector('#viewer-meta').textContent));
    assert.match(await desktop.textContent('#viewer-meta'), /received/);
    assert.equal(await desktop.locator('#viewer a.primary').count(), 1, 'one primary action');
    await desktop.keyboard.press('Escape');
    await desktop.locator('#viewer').waitFor({ state: 'hidden' });
    assert.equal(await desktop.evaluate(() => document.activeElement.id), 'stage-open', 'focus back on the photo');
  });
});

test('desktop: a download link older than ten minutes is renewed before it is used', { skip }, async (t) => {
  await scenario(t, async (state) => {
    const server = (state.server = await startServer());
    const desktop = (await openContext(t, 'desktop')).page;
    let reads = 0;
    desktop.on('request', (req) => {
      if (req.method() === 'GET' && /\/sessions\/[0-9a-f-]{36}$/.test(new URL(req.url()).pathname)) reads += 1;
    });
    await desktop.clock.install();
    await desktop.goto(server.url + '/');
    const phoneUrl = await readQr(desktop);
    const phone = (await openContext(t, 'phone', { kind: 'phone' })).page;
    await phone.goto(phoneUrl);
    const photo = await makeImage(phone, { width: 300, height: 200, type: 'image/jpeg', name: 'renew.jpg' });
    await phone.setInputFiles('#file-input', photo);
    await desktop.waitForFunction(() => document.querySelector('#result-image').naturalWidth > 0);
    await desktop.clock.fastForward('11:00');
    const before = reads;
    const [download] = await Promise.all([desktop.waitForEvent('download'), desktop.click('#download')]);
    assert.ok(reads > before, 'the session was read again for a fresh link');
    assert.equal(await download.failure(), null);
    assert.equal(sha256(fs.readFileSync(await download.path())), sha256(fs.readFileSync(photo)));
  });
});

test('desktop: Copy image puts the photo on the clipboard where the browser allows it', { skip }, async (t) => {
  await scenario(t, async (state) => {
    const server = (state.server = await startServer());
    const desktop = (await openContext(t, 'desktop')).page;
    await desktop.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    await desktop.goto(server.url + '/');
    const phoneUrl = await readQr(desktop);
    const phone = (await openContext(t, 'phone', { kind: 'phone' })).page;
    await phone.goto(phoneUrl);
    await phone.setInputFiles('#file-input', await makeImage(phone, { width: 200, height: 150, type: 'image/png', name: 'copy.png' }));
    await desktop.waitForFunction(() => document.querySelector('#result-image').naturalWidth > 0);
    await desktop.click('#stage-open');
    await desktop.locator('#viewer-copy').waitFor({ state: 'visible' });
    await desktop.click('#viewer-copy');
    await desktop.waitForFunction(() => /copied/i.test(document.querySelector('#viewer-status').textContent));
    const types = await desktop.evaluate(async () => (await navigator.clipboard.read()).flatMap((item) => item.types));
    assert.ok(types.includes('image/png'), types.join(', '));
  });
});

test('New code while a phone is connected asks first, ends the old session and keeps its photos on the page', { skip }, async (t) => {
  await scenario(t, async (state) => {
    const server = (state.server = await startServer());
    if (!(await supportsMultiPhoto(server))) return t.skip('the server under test has no multi-photo sessions yet');
    const desktop = (await openContext(t, 'desktop')).page;
    await desktop.goto(server.url + '/');
    const phoneUrl = await readQr(desktop);
    const sessionId = await sessionIdOf(phoneUrl);
    const phone = (await openContext(t, 'phone', { kind: 'phone' })).page;
    await phone.goto(phoneUrl);
    await phone.setInputFiles('#file-input', await makeImage(phone, { width: 300, height: 200, type: 'image/jpeg', name: 'kept.jpg' }));
    await desktop.waitForFunction(() => document.querySelector('#result-name').textContent === 'kept.jpg');
    await desktop.click('#restart');
    await desktop.locator('#confirm-new').waitFor({ state: 'visible' });
    assert.match(await desktop.textContent('#confirm-new'), /may still be sending/);
    await desktop.click('#confirm-go');
    await desktop.waitForFunction((old) => {
      const link = document.querySelector('#phone-link');
      return link.textContent && link.textContent !== old;
    }, phoneUrl);
    assert.ok(await desktop.locator('#result').isVisible(), 'the photo that arrived is still shown');
    assert.equal(await desktop.textContent('#result-name'), 'kept.jpg');
    await until(async () => (await (await fetch(`${server.url}/sessions/${sessionId}`)).json()).status === 'COMPLETED',
      10000, 'the old session to be ended');
  });
});

test('layout: 200 % zoom keeps the status and Download on the first screen; no sideways scrolling; text follows the default font size', { skip }, async (t) => {
  await scenario(t, async (state) => {
    const server = (state.server = await startServer());
    // 1280×720 at 200 % zoom is a 640×360 CSS-pixel viewport; a 390 px phone at 200 % is 195 px.
    const desktop = (await openContext(t, 'desktop', { size: { width: 640, height: 360 }, deviceScaleFactor: 2 })).page;
    await desktop.goto(server.url + '/');
    const phoneUrl = await readQr(desktop);
    // bypassCSP: the server's style-src 'self' would refuse the injected style below.
    const phone = (await openContext(t, 'phone', { kind: 'phone', size: { width: 195, height: 422 }, bypassCSP: true })).page;
    await phone.goto(phoneUrl);
    const noSideways = (page) => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
    assert.ok(await noSideways(phone), 'phone: choose screen fits');
    await phone.setInputFiles('#file-input', await makeImage(phone, { width: 640, height: 480, type: 'image/jpeg', name: 'A rather long photo name from a phone camera.jpg' }));
    await phone.locator('#success').waitFor({ state: 'visible' });
    assert.ok(await noSideways(phone), 'phone: success screen fits');
    await desktop.waitForFunction(() => document.querySelector('#result-image').naturalWidth > 0);
    await desktop.evaluate(() => window.scrollTo(0, 0));
    for (const id of ['#status', '#download']) {
      const box = await desktop.locator(id).boundingBox();
      assert.ok(box && box.y >= 0 && box.y + box.height <= 360, `${id} on the first screen (${JSON.stringify(box)})`);
    }
    assert.ok(await noSideways(desktop), 'desktop fits');

    // A 24 px default font: every size follows it (nothing fixed in px), hints stay smaller than text.
    await phone.addStyleTag({ content: ':root { font-size: 24px; }' });
    const sizes = await phone.evaluate(() => ['body', '.hint', 'h2', '.button'].map((sel) =>
      parseFloat(getComputedStyle(document.querySelector(sel)).fontSize)));
    assert.equal(sizes[0], 24);
    assert.ok(sizes[1] < sizes[0] && sizes[2] > sizes[0] && sizes[3] >= sizes[0], sizes.join(', '));

    // The code form at 200 % zoom, with a message under the field: no sideways scrolling, and
    // the field's digits follow the default font size too.
    await phone.goto(server.url + '/phone.html?code=000000');
    await phone.locator('#code-error').waitFor({ state: 'visible' });
    assert.ok(await noSideways(phone), 'phone: the code form fits');
    await phone.addStyleTag({ content: ':root { font-size: 24px; }' });
    const field = await phone.evaluate(() => parseFloat(getComputedStyle(document.querySelector('#code-input')).fontSize));
    assert.ok(field > 24, `the code field's text is larger than body text (${field})`);
    // A fresh desktop's typed fallback fits too.
    const fresh = (await openContext(t, 'desktop-fresh', { size: { width: 640, height: 360 }, deviceScaleFactor: 2 })).page;
    await fresh.goto(server.url + '/');
    await readQr(fresh);
    assert.ok(await noSideways(fresh), 'desktop with the short link fits');
  });
});

// A new session and a phone page whose storage answers the PUT as S3 does (200, empty body) but
// never lets the photo reach the server, so the server never confirms it; the phone waits
// `confirmTimeoutMs`.
async function phoneWithSilentStorage(t, server, confirmTimeoutMs) {
  const created = await (await fetch(`${server.url}/sessions`, { method: 'POST' })).json();
  const phone = (await openContext(t, 'phone', { kind: 'phone' })).page;
  await withConfig(phone, { confirmTimeoutMs });
  await phone.route('**/objects/**', (route) => (route.request().method() === 'PUT'
    ? route.fulfill({ status: 200, body: '' }) : route.continue()));
  return { created, phone };
}

test('phone: couldn\'t confirm is not called a refusal', { skip }, async (t) => {
  await scenario(t, async (state) => {
    const server = (state.server = await startServer());
    const { created, phone } = await phoneWithSilentStorage(t, server, 1000);
    await phone.goto(`${server.url}/phone.html?sessionId=${created.sessionId}`);
    await phone.setInputFiles('#file-input', await makeImage(phone, { width: 100, height: 100, type: 'image/png', name: 'unsure.png' }));
    await phone.locator('#failure').waitFor({ state: 'visible' });
    const text = await phone.textContent('#failure-message');
    assert.match(text, /couldn't confirm/i);
    assert.match(text, /check your computer/i);
    assert.doesNotMatch(text, /not a supported image|image\/|session not found/i);
  });
});

test('phone: a photo storage took is "waiting for your computer" (not failed) until the timeout, read less and less often', { skip }, async (t) => {
  await scenario(t, async (state) => {
    const server = (state.server = await startServer());
    // As deploy.sh configures AWS: 90 s for S3's event and a cold Lambda.
    const { created, phone } = await phoneWithSilentStorage(t, server, 90000);
    // When (page time) the page reads its session, and how many reads are still out.
    await phone.addInitScript(() => {
      const real = window.fetch;
      window.__reads = [];
      window.__out = 0;
      window.fetch = function (url, ...rest) {
        if (!/\/sessions\/[0-9a-f-]{36}$/.test(String(url))) return real.call(this, url, ...rest);
        window.__reads.push(Date.now());
        window.__out += 1;
        return real.call(this, url, ...rest).finally(() => { window.__out -= 1; });
      };
    });
    await phone.clock.install();
    await phone.goto(`${server.url}/phone.html?sessionId=${created.sessionId}`);
    await phone.locator('#choose').waitFor({ state: 'visible' });
    await phone.waitForFunction(() => window.__reads.length >= 1 && window.__out === 0);
    await phone.setInputFiles('#file-input', await makeImage(phone, { width: 120, height: 90, type: 'image/png', name: 'slow.png' }));
    await phone.waitForFunction(() => document.querySelector('#queue .row')?.dataset.state === 'confirming');
    const { before, start } = await phone.evaluate(() => ({ before: window.__reads.length, start: Date.now() }));
    // Moves the page's clock on in steps of 250 ms, letting each read of the session answer
    // before time goes on.
    async function advance(ms) {
      const end = (await phone.evaluate(() => Date.now())) + ms;
      while ((await phone.evaluate(() => Date.now())) < end) {
        await phone.clock.runFor(250);
        await phone.waitForFunction(() => window.__out === 0, null, { timeout: 10000 });
      }
    }
    await advance(2000);
    assert.match(await phone.textContent('#progress-text'), /Checking/);
    assert.doesNotMatch(await phone.textContent('#uploading'), /up to a minute/);
    await advance(4500);
    // After 5 s: what it waits for, and the photo still in progress.
    assert.equal(await phone.textContent('#progress-text'), 'Sent. Waiting for your computer to confirm…');
    assert.match(await phone.textContent('#progress-detail'), /This can take up to a minute/);
    assert.equal(await phone.getAttribute('#queue .row', 'data-state'), 'confirming');
    assert.match(await phone.textContent('#queue .row .row-state'), /waiting for computer/i);
    assert.equal(await phone.locator('#failure').isVisible(), false);
    assert.ok(await phone.locator('#uploading').isVisible());
    // Well within the 90 s: still waiting, not failed.
    await advance(60000);
    assert.equal(await phone.locator('#failure').isVisible(), false, 'not given up before the timeout');
    assert.equal(await phone.getAttribute('#queue .row', 'data-state'), 'confirming');
    await advance(31000);
    await phone.locator('#failure').waitFor({ state: 'visible' });
    const text = await phone.textContent('#failure-message');
    assert.match(text, /couldn't confirm/i);
    assert.match(text, /check your computer/i);
    assert.ok(await phone.locator('#retry').isVisible());
    // Backing off: a couple of dozen reads in 90 s (a fixed 700 ms would be 128), further and
    // further apart, never more than about 5 s apart.
    const at = (await phone.evaluate((n) => window.__reads.slice(n), before)).map((v) => v - start);
    assert.ok(at.length >= 12 && at.length <= 40, `reads of the session in 90 s: ${at.length} (at ${at.join(', ')} ms)`);
    const gaps = at.slice(1).map((v, i) => v - at[i]);
    assert.ok(at[0] <= 1000 && gaps.slice(0, 3).every((g) => g <= 1000), `soon at first: ${at.join(', ')}`);
    assert.ok(Math.max(...gaps) <= 5500, `at most about 5 s apart: ${gaps.join(', ')}`);
    assert.ok(gaps.at(-2) > gaps[0] * 3, `further apart later: ${gaps.join(', ')}`);
  });
});

test('phone: an answer lost after the whole photo went out is checked with the computer, not called a failure', { skip }, async (t) => {
  await scenario(t, async (state) => {
    const server = (state.server = await startServer());
    if (!(await supportsMultiPhoto(server))) return t.skip('the server under test has no multi-photo sessions yet');
    const desktop = (await openContext(t, 'desktop')).page;
    await desktop.goto(server.url + '/');
    const phoneUrl = await readQr(desktop);
    const phone = (await openContext(t, 'phone', { kind: 'phone' })).page;
    // The photo reaches the server; its answer never reaches the page (Wi-Fi lost at that
    // moment): the upload's XMLHttpRequest reports an error once the real request is done.
    await phone.addInitScript(() => {
      const open = XMLHttpRequest.prototype.open;
      const send = XMLHttpRequest.prototype.send;
      XMLHttpRequest.prototype.open = function (method, url, ...rest) {
        this.__lose = method === 'PUT' && /\/objects\//.test(url);
        return open.call(this, method, url, ...rest);
      };
      XMLHttpRequest.prototype.send = function (body) {
        if (this.__lose) {
          const onerror = this.onerror;
          this.onload = function () { onerror.call(this); };
        }
        return send.call(this, body);
      };
    });
    await phone.goto(phoneUrl);
    await phone.setInputFiles('#file-input', await makeImage(phone, { width: 320, height: 240, type: 'image/jpeg', name: 'lost-answer.jpg' }));
    await phone.waitForFunction(() => !document.querySelector('#success').hidden || !document.querySelector('#failure').hidden);
    await desktop.waitForFunction(() => document.querySelector('#result-name').textContent === 'lost-answer.jpg');
    assert.equal(await phone.locator('#failure').isVisible(), false, 'not called a failure: the computer has it');
    assert.match(await phone.textContent('#success'), /sent/i);
  });
});
