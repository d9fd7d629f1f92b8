// The harness of the browser tests: the server under test (the binary named by QR_UPLOAD_BIN, or
// tests/e2e/fake-server.mjs), Debian's chromium through playwright-core, and helpers shared by the
// case files. Every case starts its own server on a free port with a fresh data directory and
// waits only on events or bounded polls, never a fixed sleep.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
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

export const BIN = process.env.QR_UPLOAD_BIN;
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const STARTUP_MS = 20000; // the server's "listening" line
export const STEP_MS = 20000;    // any one page step (a page, an upload, a WebSocket message)
export const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qr-upload-e2e-'));
const keepArtifacts = path.join(workDir, 'artifacts');
const servers = new Set();
let browser;
export function getBrowser() { return browser; }

export const skip = !BIN ? 'QR_UPLOAD_BIN is not set (path to the qr-upload binary)' : false;

// ---- the server under test ----

// Starts `qr-upload serve` and resolves once it logs {"message":"listening","url":...}.
export function startServer(extraArgs = []) {
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

export function stopServer(server) {
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
export async function openDesktop(t) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  return track(t, context, 'desktop');
}

export async function openPhone(t) {
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2,
  });
  return track(t, context, 'phone');
}

const tracked = [];
export async function track(t, context, name) {
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_MS);
  const errors = [];
  page.on('pageerror', (e) => errors.push(`${name}: ${e.message}`));
  const entry = { t, context, page, name, errors };
  tracked.push(entry);
  return entry;
}

// Runs one case; on failure keeps screenshots and the server's log, and names them in the error.
export async function scenario(t, body) {
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
export async function readQr(page) {
  const svg = page.locator('#qr svg, #qr canvas');
  await svg.first().waitFor({ state: 'visible' });
  const png = PNG.sync.read(await page.locator('#qr').screenshot());
  const code = jsQR(new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.length), png.width, png.height);
  assert.ok(code, 'jsQR found no QR code in the #qr screenshot');
  return code.data;
}

// A real image made by the browser's own encoder, written to a file.
export async function makeImage(page, { width, height, type, name, noise = false }) {
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

export function sha256(buf) { return createHash('sha256').update(buf).digest('hex'); }

// Waits until the desktop shows the received photo, loaded (naturalWidth > 0); returns its size.
export async function waitForPhoto(page) {
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
export async function sendPhotoAndSeeIt(phone, desktop, image) {
  const photo = await makeImage(phone, image);
  await phone.setInputFiles('#file-input', photo);
  await phone.locator('#success').waitFor({ state: 'visible' });
  const shown = await waitForPhoto(desktop);
  assert.deepEqual([shown.width, shown.height], [image.width, image.height]);
}

export async function sessionIdOf(phoneUrl) {
  const id = new URL(phoneUrl).searchParams.get('sessionId');
  assert.match(id || '', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);
  return id;
}

// Asserts the desktop received nothing: no photo on the page, and the server's session not completed.
export async function assertNothingReceived(desktop, server, sessionId) {
  assert.equal(await desktop.locator('#result').isVisible(), false, 'the desktop shows no photo');
  const res = await fetch(`${server.url}/sessions/${sessionId}`);
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.notEqual(body.status, 'COMPLETED');
}


// ---- more helpers for the multi-photo and page cases ----

// The sizes the pages are checked at (CSS pixels).
export const SIZES = {
  phone: [{ width: 390, height: 844 }, { width: 360, height: 800 }],
  desktop: [{ width: 1440, height: 900 }, { width: 1280, height: 720 }],
};

// A browser context of the given kind and size, tracked like openDesktop/openPhone.
export async function openContext(t, name, { kind = 'desktop', size, ...options } = {}) {
  const viewport = size || SIZES[kind][0];
  const mobile = kind === 'phone' ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {};
  const context = await browser.newContext({ viewport, acceptDownloads: true, ...mobile, ...options });
  return track(t, context, name);
}

// Polls `probe` (sync or async) until it returns a truthy value, at most `ms`; returns that value.
export async function until(probe, ms = STEP_MS, what = 'a condition') {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

// Does the server under test take multi-photo sessions (docs/API.md: POST /sessions {"maxUploads"})?
export async function supportsMultiPhoto(server) {
  const res = await fetch(`${server.url}/sessions`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ maxUploads: 3 }),
  });
  const body = await res.json().catch(() => ({}));
  return res.status === 200 && body.maxUploads === 3;
}

// Does the binary know this flag (its --help lists it)?
export function binaryKnows(flag) {
  try {
    const out = spawnSync(BIN, ['serve', '--help'], { encoding: 'utf8', timeout: 10000 });
    return `${out.stdout}${out.stderr}`.includes(flag);
  } catch {
    return false;
  }
}

// The files of a ZIP archive (stored or not; only stored entries get their bytes).
export function readZip(buf) {
  const files = [];
  let i = 0;
  while (i + 30 <= buf.length && buf.readUInt32LE(i) === 0x04034b50) {
    const method = buf.readUInt16LE(i + 8);
    const size = buf.readUInt32LE(i + 18);
    const nameLen = buf.readUInt16LE(i + 26);
    const extraLen = buf.readUInt16LE(i + 28);
    const name = buf.subarray(i + 30, i + 30 + nameLen).toString('utf8');
    const start = i + 30 + nameLen + extraLen;
    files.push({ name, method, bytes: buf.subarray(start, start + size) });
    i = start + size;
  }
  return files;
}

// A few real photos of distinct sizes, made by the page's encoder.
export async function makePhotos(page, specs) {
  const out = [];
  for (const [i, spec] of specs.entries()) {
    out.push(await makeImage(page, { width: 320 + 40 * i, height: 240 + 20 * i, type: 'image/jpeg', ...spec }));
  }
  return out;
}

// Bytes with HEIC's signature (an ISO BMFF "ftyp heic" box): what the server's check and the
// phone's sniffing call HEIC, and what Chromium cannot draw.
export function fakeHeic(name) {
  const head = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypheic'), Buffer.from([0, 0, 0, 0]),
    Buffer.from('mif1heic')]);
  const file = path.join(workDir, name);
  fs.writeFileSync(file, Buffer.concat([head, Buffer.alloc(4000, 7)]));
  return file;
}

// ---- the typed fallback (issue 12) ----

// The 6-digit code of a session: the id's first 8 hex digits as a number, modulo 1,000,000.
export function shortCodeOf(sessionId) {
  return String(parseInt(sessionId.replace(/-/g, '').slice(0, 8), 16) % 1000000).padStart(6, '0');
}

// "483921" as the pages show it: "483 921".
export function grouped(code) { return `${code.slice(0, 3)} ${code.slice(3)}`; }

// Does the server under test answer POST /sessions with a shortCode and serve GET /c/{code}?
// Resolves with the session it made to find out (waiting for a scan), or null.
export async function supportsShortCodes(server) {
  const made = await (await fetch(`${server.url}/sessions`, { method: 'POST' })).json().catch(() => ({}));
  if (!/^[0-9]{6}$/.test(made.shortCode || '')) return null;
  const res = await fetch(`${server.url}/c/${made.shortCode}`, { headers: { Accept: 'application/json' } });
  return res.status === 200 ? made : null;
}

// config.js as the server writes it, with `extra` assigned over it (test-only settings).
export async function withConfig(page, extra) {
  await page.route('**/config.js', async (route) => {
    const response = await route.fetch();
    const body = (await response.text()).replace(/;\s*$/, '') + `;\nObject.assign(window.QR_UPLOAD_CONFIG, ${JSON.stringify(extra)});\n`;
    return route.fulfill({ response, body, contentType: 'text/javascript' });
  });
}
