// End-to-end test in a real browser: Debian's chromium driven by playwright-core, against the
// `qr-upload serve` binary named by QR_UPLOAD_BIN. Every case starts its own server on a free
// port with a fresh data directory and waits only on events or bounded polls, never a fixed sleep.
//
//   npm ci --prefix tests/e2e
//   QR_UPLOAD_BIN=build/src/local/qr-upload node --test tests/e2e/e2e.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');
const jsQR = require('jsqr');
const { PNG } = require('pngjs');

const BIN = process.env.QR_UPLOAD_BIN;
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const STARTUP_MS = 20000; // the server's "listening" line
const STEP_MS = 20000;    // any one page step (a page, an upload, a WebSocket message)
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qr-upload-e2e-'));
const keepArtifacts = path.join(workDir, 'artifacts');
const servers = new Set();
let browser;

const skip = !BIN ? 'QR_UPLOAD_BIN is not set (path to the qr-upload binary)' : false;

// ---- the server under test ----

// Starts `qr-upload serve` and resolves once it logs {"message":"listening","url":...}.
function startServer(extraArgs = []) {
  const dataDir = fs.mkdtempSync(path.join(workDir, 'data-'));
  const args = ['serve', '--port', '0', '--bind', '127.0.0.1', '--data-dir', dataDir, ...extraArgs];
  const proc = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = [];
  const server = { proc, log, url: null, dataDir, stop: () => stopServer(server) };
  servers.add(server);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`no "listening" line within ${STARTUP_MS} ms`)), STARTUP_MS);
    function fail(err) {
      clearTimeout(timer);
      stopServer(server);
      reject(new Error(`${err.message}\n$ ${BIN} ${args.join(' ')}\n${log.join('\n')}`));
    }
    proc.on('error', fail);
    proc.on('exit', (code, signal) => {
      if (!server.url) fail(new Error(`qr-upload exited (${code ?? signal}) before listening`));
    });
    // The log goes to stdout; stderr is read the same way so a line there is not missed either.
    const onLine = (prefix) => (line) => {
      log.push(prefix + line);
      if (server.url) return;
      let entry;
      try { entry = JSON.parse(line); } catch { return; }
      if (entry && entry.message === 'listening' && typeof entry.url === 'string') {
        clearTimeout(timer);
        server.url = entry.url.replace(/\/+$/, '');
        resolve(server);
      }
    };
    createInterface({ input: proc.stdout }).on('line', onLine(''));
    createInterface({ input: proc.stderr }).on('line', onLine('stderr: '));
  });
}

function stopServer(server) {
  servers.delete(server);
  const { proc } = server;
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => proc.kill('SIGKILL'), 5000);
    proc.once('exit', () => { clearTimeout(force); resolve(); });
    proc.kill('SIGTERM');
  });
}

process.on('exit', () => {
  for (const s of servers) s.proc.kill('SIGKILL');
});

// ---- browser helpers ----

before(async () => {
  if (skip) return;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
});

after(async () => {
  await Promise.all([...servers].map(stopServer));
  if (browser) await browser.close();
  // Keep screenshots of failed cases; otherwise leave nothing behind.
  if (!fs.existsSync(keepArtifacts)) fs.rmSync(workDir, { recursive: true, force: true });
});

// A desktop-sized and a phone-sized browser context, each with its page and a record of page errors.
async function openDesktop(t) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  return track(t, context, 'desktop');
}

async function openPhone(t) {
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2,
  });
  return track(t, context, 'phone');
}

const tracked = [];
async function track(t, context, name) {
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_MS);
  const errors = [];
  page.on('pageerror', (e) => errors.push(`${name}: ${e.message}`));
  const entry = { t, context, page, name, errors };
  tracked.push(entry);
  return entry;
}

// Runs one case; on failure keeps screenshots and the server's log, and names them in the error.
async function scenario(t, body) {
  const state = { server: null };
  try {
    await body(state);
    const mine = tracked.filter((e) => e.t === t);
    const errors = mine.flatMap((e) => e.errors);
    assert.deepEqual(errors, [], 'uncaught errors in the pages');
  } catch (err) {
    fs.mkdirSync(keepArtifacts, { recursive: true });
    const slug = t.name.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
    for (const e of tracked.filter((x) => x.t === t)) {
      const file = path.join(keepArtifacts, `${slug}-${e.name}.png`);
      await e.page.screenshot({ path: file, fullPage: true }).catch(() => {});
    }
    const serverLog = state.server ? state.server.log.slice(-40).join('\n') : '(no server)';
    err.message += `\n--- screenshots in ${keepArtifacts}\n--- server log (last lines):\n${serverLog}`;
    throw err;
  } finally {
    for (const e of tracked.filter((x) => x.t === t)) await e.context.close().catch(() => {});
    if (state.server) await state.server.stop();
  }
}

// The text of the QR code the desktop shows, read from a screenshot of #qr.
async function readQr(page) {
  const svg = page.locator('#qr svg, #qr canvas');
  await svg.first().waitFor({ state: 'visible' });
  const png = PNG.sync.read(await page.locator('#qr').screenshot());
  const code = jsQR(new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.length), png.width, png.height);
  assert.ok(code, 'jsQR found no QR code in the #qr screenshot');
  return code.data;
}

// A real image made by the browser's own encoder, written to a file.
async function makeImage(page, { width, height, type, name, noise = false }) {
  const bytes = await page.evaluate(async ({ width, height, type, noise }) => {
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    const ctx = canvas.getContext('2d');
    const g = ctx.createLinearGradient(0, 0, width, height);
    g.addColorStop(0, '#1f6feb');
    g.addColorStop(1, '#f5a623');
    ctx.fillStyle = g;
    ctx.fillRect(0, 0, width, height);
    ctx.fillStyle = '#fff';
    ctx.font = `${Math.round(height / 6)}px sans-serif`;
    ctx.fillText('qr-upload e2e', width / 10, height / 2);
    if (noise) {
      // Noise defeats compression, for a file of predictable bulk.
      const img = ctx.getImageData(0, 0, width, height);
      for (let i = 0; i < img.data.length; i += 4) img.data[i] = (i * 2654435761) >>> 24;
      ctx.putImageData(img, 0, 0);
    }
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, type, 0.9));
    return Array.from(new Uint8Array(await blob.arrayBuffer()));
  }, { width, height, type, noise });
  const file = path.join(workDir, name);
  fs.writeFileSync(file, Buffer.from(bytes));
  return file;
}

function sha256(buf) { return createHash('sha256').update(buf).digest('hex'); }

// Waits until the desktop shows the received photo, loaded (naturalWidth > 0); returns its size.
async function waitForPhoto(page) {
  await page.waitForFunction(() => {
    const img = document.querySelector('#result-image');
    return img && img.complete && img.naturalWidth > 0 && img.offsetParent !== null;
  }, null, { timeout: STEP_MS });
  return page.evaluate(() => {
    const img = document.querySelector('#result-image');
    return { width: img.naturalWidth, height: img.naturalHeight, src: img.src };
  });
}

// The phone sends a fresh image of the given size; the phone says so and the desktop shows it.
async function sendPhotoAndSeeIt(phone, desktop, image) {
  const photo = await makeImage(phone, image);
  await phone.setInputFiles('#file-input', photo);
  await phone.locator('#success').waitFor({ state: 'visible' });
  const shown = await waitForPhoto(desktop);
  assert.deepEqual([shown.width, shown.height], [image.width, image.height]);
}

async function sessionIdOf(phoneUrl) {
  const id = new URL(phoneUrl).searchParams.get('sessionId');
  assert.match(id || '', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);
  return id;
}

// Asserts the desktop received nothing: no photo on the page, and the server's session not completed.
async function assertNothingReceived(desktop, server, sessionId) {
  assert.equal(await desktop.locator('#result').isVisible(), false, 'the desktop shows no photo');
  const res = await fetch(`${server.url}/sessions/${sessionId}`);
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.notEqual(body.status, 'COMPLETED');
}

// ---- the cases ----

test('happy path: scan the desktop QR, upload from the phone, the desktop shows the photo', { skip }, async (t) => {
  await scenario(t, async (state) => {
    const server = (state.server = await startServer());
    const desktop = (await openDesktop(t)).page;
    await desktop.goto(server.url + '/');
    const phoneUrl = await readQr(desktop);
    assert.ok(phoneUrl.startsWith(server.url + '/phone.html?sessionId='), phoneUrl);
    assert.equal(await desktop.textContent('#phone-link'), phoneUrl);
    assert.equal(await desktop.getAttribute('#phone-link', 'href'), phoneUrl);
    await desktop.waitForFunction(() => /waiting/i.test(document.querySelector('#status').textContent));
    assert.match(await desktop.textContent('#countdown'), /^\d\d:\d\d$/);
    const sessionId = await sessionIdOf(phoneUrl);

    const phone = (await openPhone(t)).page;
    await phone.goto(phoneUrl);
    await phone.locator('#file-input').waitFor({ state: 'attached' });
    assert.equal(await phone.getAttribute('#camera-input', 'capture'), 'environment');
    const photo = await makeImage(phone, { width: 640, height: 480, type: 'image/jpeg', name: 'photo.jpg' });
    await phone.setInputFiles('#file-input', photo);
    await phone.locator('#success').waitFor({ state: 'visible' });
    assert.match(await phone.textContent('#success'), /sent/i);
    assert.equal(await phone.locator('#failure').isVisible(), false);

    const shown = await waitForPhoto(desktop);
    assert.deepEqual([shown.width, shown.height], [640, 480]);
    await desktop.waitForFunction(() => /received/i.test(document.querySelector('#status').textContent));
    // The Download button offers the very bytes the phone sent.
    const href = await desktop.getAttribute('#download', 'href');
    assert.ok(href && href !== '#', 'the Download button has a link');
    assert.notEqual(await desktop.getAttribute('#download', 'download'), null);
    const downloaded = await desktop.evaluate(async (url) => {
      const r = await fetch(url);
      return Array.from(new Uint8Array(await r.arrayBuffer()));
    }, href);
    assert.equal(sha256(Buffer.from(downloaded)), sha256(fs.readFileSync(photo)));

    // A multi-photo session stays open for more until the desktop presses Done (a single-photo
    // one is complete already and shows no Done button).
    if (await desktop.locator('#done').isVisible()) {
      await desktop.click('#done');
      await desktop.waitForFunction(() => document.querySelector('#status').dataset.state === 'done');
    }
    const res = await fetch(`${server.url}/sessions/${sessionId}`);
    assert.equal((await res.json()).status, 'COMPLETED');
  });
});

test('expired session: the desktop and the phone both say so', { skip }, async (t) => {
  await scenario(t, async (state) => {
    const server = (state.server = await startServer(['--session-ttl-seconds', '2']));
    const desktop = (await openDesktop(t)).page;
    await desktop.goto(server.url + '/');
    const phoneUrl = await readQr(desktop);

    // Opened while the code may still be valid: the page must notice the expiry by itself.
    const phone = (await openPhone(t)).page;
    await phone.goto(phoneUrl);
    await phone.locator('#unavailable').waitFor({ state: 'visible', timeout: 15000 });
    assert.match(await phone.textContent('#unavailable'), /expired/i);
    assert.equal(await phone.locator('#file-input').isVisible(), false);

    await desktop.waitForFunction(() => document.querySelector('#status').dataset.state === 'expired',
      null, { timeout: 15000 });
    assert.match(await desktop.textContent('#status'), /expired/i);
    assert.equal(await desktop.textContent('#countdown'), '00:00');
    assert.ok(await desktop.locator('#restart').isVisible());

    // Opened after the expiry: says so at once.
    const late = (await openPhone(t)).page;
    await late.goto(phoneUrl);
    await late.locator('#unavailable').waitFor({ state: 'visible' });
    assert.match(await late.textContent('#unavailable'), /expired/i);

    // Start again gives a fresh, different code.
    await desktop.click('#restart');
    await desktop.waitForFunction((old) => {
      const link = document.querySelector('#phone-link');
      return link.textContent && link.textContent !== old;
    }, phoneUrl);
    const fresh = await readQr(desktop);
    assert.notEqual(fresh, phoneUrl);
  });
});

test('wrong file type: the phone refuses it and nothing reaches the desktop', { skip }, async (t) => {
  await scenario(t, async (state) => {
    const server = (state.server = await startServer());
    const desktop = (await openDesktop(t)).page;
    await desktop.goto(server.url + '/');
    const phoneUrl = await readQr(desktop);
    const sessionId = await sessionIdOf(phoneUrl);
    const phone = (await openPhone(t)).page;
    await phone.goto(phoneUrl);

    // A text file for what it is.
    await phone.setInputFiles('#file-input', {
      name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('just some text, not a photo\n'),
    });
    await phone.locator('#failure').waitFor({ state: 'visible' });
    assert.match(await phone.textContent('#failure-message'), /not a (supported image|photo)/i);
    assert.equal(await phone.locator('#success').isVisible(), false);

    // A text file renamed .png: the browser calls it image/png, its bytes say otherwise.
    await phone.click('#retry');
    await phone.locator('#file-input').waitFor({ state: 'attached' });
    await phone.setInputFiles('#file-input', {
      name: 'holiday.png', mimeType: 'image/png', buffer: Buffer.from('this is text pretending to be a PNG\n'.repeat(4)),
    });
    await phone.locator('#failure').waitFor({ state: 'visible' });
    assert.match(await phone.textContent('#failure-message'), /not a (supported image|photo)/i);

    await assertNothingReceived(desktop, server, sessionId);
    const res = await fetch(`${server.url}/sessions/${sessionId}`);
    assert.equal((await res.json()).status, 'AWAITING_SCAN', 'no upload URL was even asked for');

    // The phone can still send a real photo afterwards.
    await phone.click('#retry'); // after a refused file, Retry goes back to choosing
    await sendPhotoAndSeeIt(phone, desktop, { width: 320, height: 200, type: 'image/png', name: 'real.png' });
  });
});

test('oversized file: the phone shows a clear failure and nothing reaches the desktop', { skip }, async (t) => {
  await scenario(t, async (state) => {
    const server = (state.server = await startServer(['--max-upload-bytes', '1000']));
    const desktop = (await openDesktop(t)).page;
    await desktop.goto(server.url + '/');
    const phoneUrl = await readQr(desktop);
    const sessionId = await sessionIdOf(phoneUrl);
    const phone = (await openPhone(t)).page;
    await phone.goto(phoneUrl);

    const big = await makeImage(phone, { width: 200, height: 200, type: 'image/png', name: 'big.png', noise: true });
    assert.ok(fs.statSync(big).size > 1000, 'the test image is over the limit');
    await phone.setInputFiles('#file-input', big);
    await phone.locator('#failure').waitFor({ state: 'visible' });
    assert.match(await phone.textContent('#failure-message'), /too large/i);
    assert.equal(await phone.locator('#success').isVisible(), false);
    assert.ok(await phone.locator('#retry').isVisible());
    await assertNothingReceived(desktop, server, sessionId);
  });
});

test('reload mid-session: the desktop keeps its session and still receives the photo', { skip }, async (t) => {
  await scenario(t, async (state) => {
    const server = (state.server = await startServer());
    const desktop = (await openDesktop(t)).page;
    await desktop.goto(server.url + '/');
    const first = await readQr(desktop);

    await desktop.reload();
    const afterReload = await readQr(desktop);
    assert.equal(afterReload, first, 'the same session (same QR) after a reload');
    await desktop.waitForFunction(() => /waiting/i.test(document.querySelector('#status').textContent));

    const phone = (await openPhone(t)).page;
    await phone.goto(afterReload);
    await sendPhotoAndSeeIt(phone, desktop, { width: 480, height: 360, type: 'image/jpeg', name: 'reload.jpg' });

    // A reload after the photo arrived shows it again (caught up through GET /sessions/{id}).
    await desktop.reload();
    const again = await waitForPhoto(desktop);
    assert.deepEqual([again.width, again.height], [480, 360]);
  });
});

test('server unreachable: the desktop says so clearly and offers Start again', { skip }, async (t) => {
  await scenario(t, async (state) => {
    const server = (state.server = await startServer());
    const desktop = (await openDesktop(t)).page;
    await desktop.goto(server.url + '/');
    await readQr(desktop);
    await server.stop();

    await desktop.click('#restart');
    await desktop.locator('#error').waitFor({ state: 'visible' });
    assert.match(await desktop.textContent('#error'), /cannot reach the server/i);
    assert.equal(await desktop.getAttribute('#status', 'data-state'), 'error');
    assert.ok(await desktop.locator('#restart').isVisible());
  });
});

test('upload rejected by the server: the desktop shows the error and keeps waiting', { skip }, async (t) => {
  await scenario(t, async (state) => {
    const server = (state.server = await startServer());
    const desktop = (await openDesktop(t)).page;
    await desktop.goto(server.url + '/');
    const phoneUrl = await readQr(desktop);
    const sessionId = await sessionIdOf(phoneUrl);
    await desktop.waitForFunction(() => document.querySelector('#status').dataset.live === 'true');

    // What a phone page would never send: text bytes under a signed image/png URL.
    const body = Buffer.from('definitely not a PNG\n'.repeat(8));
    const grantRes = await fetch(`${server.url}/upload-url?sessionId=${sessionId}&contentType=image/png&contentLength=${body.length}`);
    assert.equal(grantRes.status, 200);
    const grant = await grantRes.json();
    await fetch(grant.uploadUrl, { method: grant.method || 'PUT', headers: grant.headers, body });

    await desktop.locator('#error').waitFor({ state: 'visible' });
    assert.match(await desktop.textContent('#error'), /rejected|not (a|an)/i);
    assert.equal(await desktop.locator('#result').isVisible(), false);
    await desktop.waitForFunction(() => /waiting/i.test(document.querySelector('#status').textContent));

    // The session stays open: a real photo from the phone still arrives. (The bad upload above
    // claimed the session; it came from this phone, which keeps the uploader token it was given.)
    const phone = (await openPhone(t)).page;
    if (grant.uploaderToken) {
      await phone.addInitScript(([key, token]) => sessionStorage.setItem(key, token),
        [`qr-upload.uploader.${sessionId}`, grant.uploaderToken]);
    }
    await phone.goto(phoneUrl);
    await sendPhotoAndSeeIt(phone, desktop, { width: 300, height: 300, type: 'image/webp', name: 'after-error.webp' });
    assert.equal(await desktop.locator('#error').isVisible(), false, 'the old error is cleared');
  });
});

test('storage takes the photo but the server never accepts it (as with S3): the phone says so', { skip }, async (t) => {
  await scenario(t, async (state) => {
    const server = (state.server = await startServer());
    const created = await (await fetch(`${server.url}/sessions`, { method: 'POST' })).json();
    const phone = (await openPhone(t)).page;
    // S3 answers a presigned PUT with 200 and an empty body before the server has checked
    // anything; here the bytes never reach the server, so the session is never completed.
    await phone.route('**/config.js', (route) => route.fulfill({
      contentType: 'text/javascript',
      body: 'window.QR_UPLOAD_CONFIG = {"apiBase":"","wsUrl":"","phoneUrl":"","confirmTimeoutMs":1500};',
    }));
    let puts = 0;
    await phone.route('**/objects/**', (route) => {
      if (route.request().method() !== 'PUT') return route.continue();
      puts += 1;
      return route.fulfill({ status: 200, body: '' });
    });
    await phone.goto(`${server.url}/phone.html?sessionId=${created.sessionId}`);
    const photo = await makeImage(phone, { width: 200, height: 150, type: 'image/png', name: 'unconfirmed.png' });
    await phone.setInputFiles('#file-input', photo);
    await phone.locator('#failure').waitFor({ state: 'visible' });
    assert.match(await phone.textContent('#failure-message'), /not accepted/i);
    assert.equal(await phone.locator('#success').isVisible(), false);
    assert.equal(puts, 1);
    const session = await (await fetch(`${server.url}/sessions/${created.sessionId}`)).json();
    assert.equal(session.status, 'UPLOAD_REQUESTED');
  });
});
