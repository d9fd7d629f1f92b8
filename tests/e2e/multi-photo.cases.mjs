// The multi-photo pages (issue 9) in a real browser against the server under test. They need a
// server with multi-photo sessions (docs/API.md: maxUploads, uploaderToken, uploads,
// POST /sessions/{id}/complete, PHONE_CONNECTED / SESSION_COMPLETED); against one without, each
// case says so and is skipped (not passed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  skip, startServer, openContext, scenario, readQr, makeImage, makePhotos, sha256, sessionIdOf, until,
  supportsMultiPhoto, readZip, fakeHeic, binaryKnows, workDir,
} from './harness.mjs';

const NO_MULTI = 'the server under test has no multi-photo sessions yet (docs/API.md: POST /sessions {"maxUploads"})';

// Starts the server and the desktop page; skips the case when the server is single-photo only.
async function setUp(t, state, args = []) {
  const server = (state.server = await startServer(args));
  if (!(await supportsMultiPhoto(server))) {
    t.skip(NO_MULTI);
    return null;
  }
  const desktop = (await openContext(t, 'desktop', { kind: 'desktop' })).page;
  await desktop.goto(server.url + '/');
  const phoneUrl = await readQr(desktop);
  const phone = (await openContext(t, 'phone', { kind: 'phone' })).page;
  return { server, desktop, phone, phoneUrl, sessionId: await sessionIdOf(phoneUrl) };
}

function deferred() {
  let resolve;
  const promise = new Promise((r) => { resolve = r; });
  return { promise, resolve };
}

const tileNames = (page) => page.$$eval('#photo-grid .tile-name', (els) => els.map((e) => e.textContent));

async function bytesIn(page, url) {
  return Buffer.from(await page.evaluate(async (u) => {
    const r = await fetch(u);
    return Array.from(new Uint8Array(await r.arrayBuffer()));
  }, url));
}

test('multi-photo: five photos picked at once arrive with their names, byte-identical; a second phone is refused', { skip }, async (t) => {
  await scenario(t, async (state) => {
    const s = await setUp(t, state);
    if (!s) return;
    const { server, desktop, phone, phoneUrl, sessionId } = s;
    await phone.goto(phoneUrl);
    // Both pages show the same short code of this computer.
    const code = await desktop.textContent('#computer-code');
    assert.match(code, /^[0-9]{3} [0-9]{3}$/);
    assert.equal(await phone.textContent('#computer-code'), code);
    assert.equal(await phone.getAttribute('#file-input', 'multiple'), '');

    const names = ['IMG_4821.JPG', 'IMG_4822.jpg', 'Beach day.png', 'Été à Nice.jpg', 'scan 05.png'];
    const files = await makePhotos(phone, names.map((name) => ({
      name: `multi-${name}`, type: /\.png$/.test(name) ? 'image/png' : 'image/jpeg',
    })));
    // setInputFiles names each file after its path: give them the names a phone would.
    await phone.setInputFiles('#file-input', files.map((file, i) => ({
      name: names[i], mimeType: /\.png$/.test(names[i]) ? 'image/png' : 'image/jpeg', buffer: fs.readFileSync(file),
    })));
    await phone.locator('#success').waitFor({ state: 'visible' });
    assert.match(await phone.textContent('#success'), /all 5 photos/i);

    await desktop.waitForFunction(() => document.querySelectorAll('#photo-grid .tile').length === 5);
    assert.deepEqual((await tileNames(desktop)).sort(), [...names].sort());
    await desktop.waitForFunction(() => /5 photos received/i.test(document.querySelector('#status').textContent));
    assert.equal(await desktop.getAttribute('#session-panel', 'data-mode'), 'connected');
    assert.ok(await desktop.locator('#done').isVisible());

    // Each photo downloads under its original name with the very bytes the phone sent.
    const tiles = await desktop.$$eval('#photo-grid .tile', (els) => els.map((li) => ({
      name: li.querySelector('.tile-name').textContent,
      href: li.querySelector('a').href,
      download: li.querySelector('a').getAttribute('download'),
    })));
    for (const tile of tiles) {
      const i = names.indexOf(tile.name);
      assert.equal(tile.download, tile.name);
      assert.equal(sha256(await bytesIn(desktop, tile.href)), sha256(fs.readFileSync(files[i])), tile.name);
      const res = await fetch(tile.href);
      assert.match(res.headers.get('content-disposition') || '', /attachment/);
      assert.ok((res.headers.get('content-disposition') || '').includes(`filename*=UTF-8''${encodeURIComponent(tile.name)}`),
        res.headers.get('content-disposition'));
    }

    // A second device that opens the same code after the claim is refused, in plain words.
    const other = (await openContext(t, 'second-phone', { kind: 'phone' })).page;
    await other.goto(phoneUrl);
    await other.locator('#unavailable').waitFor({ state: 'visible' });
    assert.match(await other.textContent('#unavailable'), /another phone/i);
    assert.equal(await other.locator('#choose').isVisible(), false);
    const refused = await fetch(`${server.url}/upload-url?sessionId=${sessionId}&contentType=image/jpeg&contentLength=100`);
    assert.equal(refused.status, 403);

    // Send more without rescanning: the same page, the same session.
    const more = await makeImage(phone, { width: 200, height: 100, type: 'image/png', name: 'multi-more.png' });
    const chooserEvent = phone.waitForEvent('filechooser');
    await phone.evaluate(() => 0); // the browser intercepts the picker before the click
    await phone.click('#more-files');
    const chooser = await chooserEvent;
    await chooser.setFiles(more);
    await phone.locator('#success').waitFor({ state: 'visible' });
    await desktop.waitForFunction(() => document.querySelectorAll('#photo-grid .tile').length === 6);

    // A reload keeps the claim (the uploader token in sessionStorage): still this phone's code.
    await phone.reload();
    await phone.locator('#choose').waitFor({ state: 'visible' });
    await phone.waitForFunction(() => /6 photos sent so far/.test(document.querySelector('#sent-so-far').textContent));
    assert.equal(await phone.locator('#unavailable').isVisible(), false, 'not refused as another phone');

    // Download all: one ZIP holding every photo under its name, byte-identical.
    const [download] = await Promise.all([desktop.waitForEvent('download'), desktop.click('#download-all')]);
    assert.match(download.suggestedFilename(), /^photos-\d{8}-\d{4}\.zip$/);
    const zipped = readZip(fs.readFileSync(await download.path()));
    assert.deepEqual(zipped.map((f) => f.name).sort(), [...names, 'multi-more.png'].sort());
    for (const f of zipped) {
      const i = names.indexOf(f.name);
      const original = i >= 0 ? files[i] : more;
      assert.equal(sha256(f.bytes), sha256(fs.readFileSync(original)), f.name);
    }

    // Done ends the session: the server says so, and the phone can send no more.
    await desktop.click('#done');
    await desktop.waitForFunction(() => document.querySelector('#status').dataset.state === 'done');
    assert.match(await desktop.textContent('#status'), /6 photos received/i);
    const session = await (await fetch(`${server.url}/sessions/${sessionId}`)).json();
    assert.equal(session.status, 'COMPLETED');
    assert.equal(session.uploadCount, 6);
  });
});

test('multi-photo: Phone connected at the claim; one failed upload is retried alone; cancel stops the rest', { skip }, async (t) => {
  await scenario(t, async (state) => {
    const s = await setUp(t, state);
    if (!s) return;
    const { desktop, phone, phoneUrl } = s;
    // The first PUT of retry-b.jpg is cut off; every other PUT goes through. All are counted by
    // the name the phone asked its URL for.
    const nameOfKey = {};
    await phone.route('**/upload-url?**', async (route) => {
      const response = await route.fetch();
      const body = await response.text();
      try {
        const grant = JSON.parse(body);
        if (grant.uploadKey) nameOfKey[grant.uploadKey] = new URL(route.request().url()).searchParams.get('fileName');
      } catch { /* an error answer */ }
      return route.fulfill({ response, body });
    });
    const puts = {};
    let cutOnce = false;
    let hold = null; // while set, PUTs wait for it
    await phone.route('**/objects/**', async (route) => {
      const req = route.request();
      if (req.method() !== 'PUT') return route.continue();
      const name = nameOfKey[decodeURIComponent(new URL(req.url()).pathname.slice('/objects/'.length))];
      puts[name] = (puts[name] || 0) + 1;
      if (hold) await hold.promise;
      if (!cutOnce && name === 'retry-b.jpg') {
        cutOnce = true;
        return route.abort('connectionreset');
      }
      return route.continue();
    });
    // A wake lock the test can see (headless Chromium grants none).
    await phone.addInitScript(() => {
      window.__locks = [];
      Object.defineProperty(navigator, 'wakeLock', {
        value: {
          request(type) {
            const lock = {
              type, released: false, listeners: [],
              addEventListener(name, f) { this.listeners.push(f); },
              release() { this.released = true; this.listeners.forEach((f) => f()); return Promise.resolve(); },
            };
            window.__locks.push(lock);
            return Promise.resolve(lock);
          },
        },
      });
    });
    const wakeLocks = () => phone.evaluate(() => window.__locks.map((l) => ({ type: l.type, released: l.released })));
    await phone.goto(phoneUrl);
    const [a, b, c] = await makePhotos(phone, [{ name: 'retry-a.jpg' }, { name: 'retry-b.jpg' }, { name: 'retry-c.jpg' }]);

    // Held uploads: the desktop already says "Phone connected"; New code asks first.
    hold = deferred();
    await phone.setInputFiles('#file-input', [a, b, c]);
    await phone.locator('#uploading').waitFor({ state: 'visible' });
    await desktop.waitForFunction(() => document.querySelector('#status').dataset.state === 'connected');
    assert.match(await desktop.textContent('#status'), /phone connected/i);
    assert.ok(await phone.locator('#cancel').isVisible());
    await phone.waitForFunction(() => / of .*B/.test(document.querySelector('#progress-detail').textContent));
    await phone.waitForFunction(() => window.__locks.length === 1);
    assert.deepEqual(await wakeLocks(), [{ type: 'screen', released: false }], 'the screen stays on while sending');
    const before = await desktop.textContent('#phone-link');
    await desktop.click('#restart');
    await desktop.locator('#confirm-new').waitFor({ state: 'visible' });
    await desktop.click('#confirm-keep');
    await desktop.locator('#confirm-new').waitFor({ state: 'hidden' });
    assert.equal(await desktop.textContent('#phone-link'), before, 'Keep this code keeps it');
    hold.resolve();
    hold = null;

    await phone.locator('#failure').waitFor({ state: 'visible' });
    assert.match(await phone.textContent('#failure-title'), /2 sent, 1 not sent/i);
    assert.ok((await wakeLocks()).every((l) => l.released), 'the wake lock is let go after the batch');
    assert.match(await phone.textContent('#failed-list'), /retry-b\.jpg/);
    assert.match(await phone.textContent('#retry'), /retry/i);
    await phone.click('#retry');
    await phone.locator('#success').waitFor({ state: 'visible' });
    assert.deepEqual([puts['retry-a.jpg'], puts['retry-b.jpg'], puts['retry-c.jpg']], [1, 2, 1], 'only the failed photo was sent again');
    await desktop.waitForFunction(() => document.querySelectorAll('#photo-grid .tile').length === 3);

    // Cancel: the held uploads stop, the page goes back to choosing and says what happened.
    hold = deferred();
    const [d, e] = await makePhotos(phone, [{ name: 'cancel-d.jpg' }, { name: 'cancel-e.jpg' }]);
    await phone.setInputFiles('#file-input', [d, e]);
    await phone.locator('#uploading').waitFor({ state: 'visible' });
    await until(() => (puts['cancel-d.jpg'] || 0) + (puts['cancel-e.jpg'] || 0) >= 2, 10000, 'two held PUTs');
    await phone.click('#cancel');
    await phone.locator('#choose').waitFor({ state: 'visible' });
    assert.match(await phone.textContent('#info'), /cancelled/i);
    hold.resolve();
    hold = null;
    assert.equal(await desktop.locator('#photo-grid .tile').count(), 3, 'nothing cancelled arrived');
  });
});

test('multi-photo: a photo too large is sent as a smaller copy made on the phone', { skip }, async (t) => {
  await scenario(t, async (state) => {
    const s = await setUp(t, state, ['--max-upload-bytes', '60000']);
    if (!s) return;
    const { desktop, phone, phoneUrl } = s;
    await phone.goto(phoneUrl);
    const big = await makeImage(phone, { width: 800, height: 600, type: 'image/png', name: 'Huge scan.png', noise: true });
    assert.ok(fs.statSync(big).size > 60000);
    await phone.setInputFiles('#file-input', big);
    await phone.locator('#failure').waitFor({ state: 'visible' });
    assert.match(await phone.textContent('#failure-message'), /too large/i);
    assert.ok(await phone.locator('#smaller').isVisible());
    await phone.click('#smaller');
    await phone.locator('#success').waitFor({ state: 'visible' });
    await desktop.waitForFunction(() => document.querySelector('#result-name').textContent === 'Huge scan.jpg');
    await desktop.waitForFunction(() => document.querySelector('#result-image').naturalWidth > 0);
  });
});

test('multi-photo: a HEIC photo shows a named placeholder with its download, not a broken image', { skip }, async (t) => {
  await scenario(t, async (state) => {
    const s = await setUp(t, state);
    if (!s) return;
    const { desktop, phone, phoneUrl } = s;
    await phone.goto(phoneUrl);
    const heic = fakeHeic('IMG_0001.HEIC');
    const jpeg = await makeImage(phone, { width: 300, height: 200, type: 'image/jpeg', name: 'heic-neighbour.jpg' });
    await phone.setInputFiles('#file-input', [
      { name: 'IMG_0001.HEIC', mimeType: 'image/heic', buffer: fs.readFileSync(heic) },
      { name: 'heic-neighbour.jpg', mimeType: 'image/jpeg', buffer: fs.readFileSync(jpeg) },
    ]);
    await phone.locator('#success').waitFor({ state: 'visible' });
    await desktop.waitForFunction(() => document.querySelectorAll('#photo-grid .tile').length === 2);
    const tile = desktop.locator('#photo-grid .tile', { hasText: 'IMG_0001.HEIC' });
    await tile.locator('.placeholder').waitFor({ state: 'visible' });
    assert.match(await tile.textContent(), /HEIC\s*No preview/);
    await tile.locator('.tile-open').click();
    await desktop.locator('#viewer').waitFor({ state: 'visible' });
    assert.match(await desktop.textContent('#viewer'), /This browser can't show HEIC photos/);
    assert.equal(await desktop.locator('#viewer-image').isVisible(), false, 'no broken image full size either');
    await desktop.keyboard.press('Escape');
    assert.equal(await tile.locator('img').count(), 0, 'no broken image');
    assert.equal(await tile.locator('a').getAttribute('download'), 'IMG_0001.HEIC');
    // The neighbour still draws.
    await desktop.waitForFunction(() => [...document.querySelectorAll('#photo-grid .thumb img')].some((i) => i.naturalWidth === 300));
  });
});

test('multi-photo: a real HEIC shows the server\'s JPEG preview when it makes one, and downloads as the original', { skip }, async (t) => {
  await scenario(t, async (state) => {
    if (spawnSync('heif-enc', ['--version']).error) return t.skip('heif-enc (libheif-examples) is not installed');
    const s = await setUp(t, state);
    if (!s) return;
    const { server, desktop, phone, phoneUrl, sessionId } = s;
    await phone.goto(phoneUrl);
    const jpeg = await makeImage(phone, { width: 640, height: 480, type: 'image/jpeg', name: 'heic-source.jpg' });
    const heic = path.join(workDir, 'IMG_0100.HEIC');
    const enc = spawnSync('heif-enc', ['-q', '60', '-o', heic, jpeg], { encoding: 'utf8' });
    assert.equal(enc.status, 0, enc.stderr);
    await phone.setInputFiles('#file-input', { name: 'IMG_0100.HEIC', mimeType: 'image/heic', buffer: fs.readFileSync(heic) });
    await phone.locator('#success').waitFor({ state: 'visible' });
    await desktop.waitForFunction(() => document.querySelector('#result-name').textContent === 'IMG_0100.HEIC');
    await desktop.waitForFunction(() => !document.querySelector('#photo-grid .thumb').classList.contains('loading'));
    const token = await desktop.evaluate(() => JSON.parse(sessionStorage.getItem('qr-upload.desktop-session')).desktopToken);
    const session = await (await fetch(`${server.url}/sessions/${sessionId}`, { headers: { Authorization: `Bearer ${token}` } })).json();
    const upload = session.uploads.find((u) => u.fileName === 'IMG_0100.HEIC');
    t.diagnostic(upload.previewUrl ? 'the server made a preview: shown' : 'no preview from this server: placeholder');
    if (upload.previewUrl) {
      await desktop.waitForFunction(() => document.querySelector('#result-image').naturalWidth === 640);
      assert.match(await desktop.textContent('#result-meta'), /preview 640 × 480/);
      assert.equal(await desktop.locator('#stage-placeholder').isVisible(), false);
    } else {
      // A server without a decoder: the named placeholder.
      await desktop.locator('#stage-placeholder').waitFor({ state: 'visible' });
    }
    // Either way Download gives the HEIC itself, under its name.
    assert.equal(await desktop.getAttribute('#download', 'download'), 'IMG_0100.HEIC');
    assert.equal(sha256(await bytesIn(desktop, await desktop.getAttribute('#download', 'href'))), sha256(fs.readFileSync(heic)));
  });
});

test('multi-photo: with --save-dir the desktop says where each photo was saved', { skip }, async (t) => {
  await scenario(t, async (state) => {
    if (!binaryKnows('--save-dir')) return t.skip('the server under test has no --save-dir yet');
    const dir = fs.mkdtempSync(path.join(workDir, 'saved-'));
    const s = await setUp(t, state, ['--save-dir', dir]);
    if (!s) return;
    const { desktop, phone, phoneUrl } = s;
    await phone.goto(phoneUrl);
    const photo = await makeImage(phone, { width: 320, height: 240, type: 'image/jpeg', name: 'saved-IMG_7.jpg' });
    await phone.setInputFiles('#file-input', { name: 'IMG_7.jpg', mimeType: 'image/jpeg', buffer: fs.readFileSync(photo) });
    await desktop.waitForFunction(() => document.querySelector('#saved-note').textContent.startsWith('Saved to '));
    const note = await desktop.textContent('#saved-note');
    assert.ok(note.startsWith('Saved to '), note);
    const savedAs = note.slice('Saved to '.length);
    assert.equal(path.basename(savedAs), 'IMG_7.jpg');
    assert.equal(sha256(fs.readFileSync(savedAs)), sha256(fs.readFileSync(photo)));
  });
});
