// The pages on their own origin, as on AWS: CloudFront serves web/ with the config.js that
// deploy/deploy.sh writes, API Gateway serves the HTTP API and the WebSocket from other origins.
// Here a plain static server on one loopback port serves web/ and a config.js written by
// deploy.sh's own write_web_config; `qr-upload serve --allowed-origin <that origin>` on another
// port serves the API, the WebSocket and (standing in for S3) the signed upload/download URLs.
// So CORS, config.js, the WebSocket URL and the Date header the pages correct a wrong clock with
// are exercised as on AWS. Both browsers' clocks are two hours fast: only the server's Date,
// readable across origins only if the API exposes it, keeps the codes from looking expired.
//
//   npm ci --prefix tests/e2e
//   QR_UPLOAD_BIN=build/src/local/qr-upload node --test tests/e2e/two-origin.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  skip, getBrowser, startServer, track, scenario, readQr, makeImage, waitForPhoto, sessionIdOf, until,
  workDir,
} from './harness.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const WEB = path.join(REPO, 'web');
const CLOCK_AHEAD_MS = 2 * 3600 * 1000;
const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.json': 'application/json',
};

// config.js as deploy/deploy.sh writes it: its own write_web_config function, run by bash.
function deployConfigJs({ apiBase, wsUrl, phoneUrl, maxUploadBytes }) {
  const file = path.join(workDir, `config-${process.pid}-${Date.now()}.js`);
  const script = 'eval "$(sed -n \'/^write_web_config() {/,/^}$/p\' "$1")"; shift; write_web_config "$@"';
  execFileSync('bash', ['-c', script, 'bash', path.join(REPO, 'deploy', 'deploy.sh'), file, apiBase, wsUrl,
    phoneUrl, String(maxUploadBytes)]);
  const text = fs.readFileSync(file, 'utf8');
  fs.rmSync(file);
  assert.match(text, /^\/\/ Written by deploy\/deploy.sh/, 'the function deploy.sh writes config.js with');
  return text;
}

// A plain static server of web/ (what CloudFront serves from the site bucket): files, no API, no
// Content-Security-Policy of its own; config.js is what deploy.sh wrote.
function startSite() {
  const site = { requests: [], configJs: '' };
  const server = http.createServer((req, res) => {
    const { pathname } = new URL(req.url, 'http://site');
    site.requests.push(`${req.method} ${pathname}`);
    if (pathname === '/config.js') {
      res.writeHead(200, { 'Content-Type': 'application/javascript', 'Cache-Control': 'no-store' });
      return res.end(site.configJs);
    }
    const file = path.join(WEB, path.normalize(pathname === '/' ? '/index.html' : pathname));
    if (req.method !== 'GET' || !file.startsWith(WEB + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      return res.end('not found');
    }
    res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    site.port = server.address().port;
    site.origin = `http://127.0.0.1:${site.port}`;
    site.close = () => new Promise((r) => { server.closeAllConnections(); server.close(r); });
    resolve(site);
  }));
}

// S3 in front of qr-upload's signed URLs, for the third origin of AWS: it forwards /objects/
// requests (Host kept, so the signatures hold), answers them as S3 does (a PUT that storage took:
// 200 and no body; the check comes later, with the event), and answers CORS as the bucket's rule
// in deploy/template.yaml does: PUT and GET from the allowed origin with a content-type header,
// ETag exposed; any other preflight 403, as S3 answers one that matches no rule.
function startStorage(allowedOrigin) {
  const storage = { requests: [], upstreamPort: 0 };
  const server = http.createServer((req, res) => {
    storage.requests.push(`${req.method} ${req.url}`);
    const cors = req.headers.origin === allowedOrigin
      ? { 'access-control-allow-origin': allowedOrigin, 'access-control-expose-headers': 'ETag', vary: 'Origin' } : {};
    if (req.method === 'OPTIONS') {
      const method = req.headers['access-control-request-method'];
      const asked = (req.headers['access-control-request-headers'] || '').split(',').map((h) => h.trim().toLowerCase()).filter(Boolean);
      if (!cors['access-control-allow-origin'] || !['PUT', 'GET'].includes(method) || asked.some((h) => h !== 'content-type')) {
        res.writeHead(403, { 'content-type': 'application/xml' });
        return res.end('<Error><Code>AccessForbidden</Code><Message>CORSResponse: This CORS request is not allowed.</Message></Error>');
      }
      res.writeHead(200, { ...cors, 'access-control-allow-methods': method, 'access-control-allow-headers': asked.join(', '),
        'access-control-max-age': '3000' });
      return res.end();
    }
    const upstream = http.request({ host: '127.0.0.1', port: storage.upstreamPort, method: req.method, path: req.url, headers: req.headers }, (up) => {
      const headers = { ...up.headers, ...cors };
      if (req.method === 'PUT' && up.statusCode >= 200 && up.statusCode < 300) {
        up.resume();
        delete headers['content-type'];
        headers['content-length'] = '0';
        res.writeHead(200, headers);
        return res.end();
      }
      res.writeHead(up.statusCode, headers);
      up.pipe(res);
    });
    upstream.on('error', () => { res.writeHead(502); res.end(); });
    req.pipe(upstream);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    storage.origin = `http://127.0.0.1:${server.address().port}`;
    storage.close = () => new Promise((r) => { server.closeAllConnections(); server.close(r); });
    resolve(storage);
  }));
}

// The port qr-upload listens on (its "listening" line), whatever its public URL says.
function listeningPort(server) {
  for (const line of server.log) {
    try {
      const entry = JSON.parse(line);
      if (entry.message === 'listening') return entry.port;
    } catch { /* not JSON */ }
  }
  throw new Error('no listening line');
}

// The pages on one origin, qr-upload on another that lets them in; with `storage`, the signed
// upload and download URLs on a third, behind S3's answers (as on AWS: CloudFront, API Gateway, S3).
async function twoOrigins(state, { storage = false } = {}) {
  const site = (state.site = await startSite());
  const store = storage ? (state.storage = await startStorage(site.origin)) : null;
  const args = ['--allowed-origin', site.origin, ...(store ? ['--public-url', store.origin] : [])];
  const server = (state.server = await startServer(args));
  const api = `http://127.0.0.1:${listeningPort(server)}`;
  if (store) store.upstreamPort = listeningPort(server);
  assert.notEqual(api, site.origin, 'two origins');
  site.config = {
    apiBase: api, wsUrl: `ws://${new URL(api).host}/ws`, phoneUrl: `${site.origin}/phone.html`, maxUploadBytes: 26214400,
  };
  site.configJs = deployConfigJs(site.config);
  return { site, server: { ...server, url: api, stop: server.stop, log: server.log }, storage: store };
}

// A browser context whose clock is two hours fast, recording where its page's requests go.
async function openSkewed(t, name, kind) {
  const mobile = kind === 'phone' ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {};
  const viewport = kind === 'phone' ? { width: 390, height: 844 } : { width: 1280, height: 800 };
  const context = await getBrowser().newContext({ viewport, ...mobile });
  await context.addInitScript((ahead) => {
    const RealDate = Date;
    const now = () => RealDate.now() + ahead;
    class FastDate extends RealDate {
      constructor(...args) { if (args.length) super(...args); else super(now()); }
      static now() { return now(); }
    }
    globalThis.Date = FastDate;
  }, CLOCK_AHEAD_MS);
  const entry = await track(t, context, name);
  entry.requests = [];
  entry.sockets = [];
  entry.page.on('request', (req) => entry.requests.push(`${req.method()} ${req.url()}`));
  entry.page.on('websocket', (ws) => entry.sockets.push(ws.url()));
  return entry;
}

async function cleanUp(state) {
  if (state.site) await state.site.close();
  if (state.storage) await state.storage.close();
}

test('pages on their own origin: config.js, CORS, the WebSocket URL and the clock from Date, as on AWS', { skip }, async (t) => {
  const state = {};
  try {
    await scenario(t, async (s) => {
      const { site, server } = await twoOrigins(state);
      s.server = server;
      const desktop = await openSkewed(t, 'desktop', 'desktop');
      await desktop.page.goto(site.origin + '/');
      // The QR code names the phone page on the pages' origin (config.js's phoneUrl).
      const phoneUrl = await readQr(desktop.page);
      assert.ok(phoneUrl.startsWith(`${site.origin}/phone.html?sessionId=`), phoneUrl);
      const sessionId = await sessionIdOf(phoneUrl);
      // The WebSocket opened at config.js's wsUrl, on the API's origin, with the desktop's token.
      await desktop.page.waitForFunction(() => document.querySelector('#status').dataset.live === 'true');
      assert.equal(desktop.sockets.length, 1, desktop.sockets.join('\n'));
      const ws = new URL(desktop.sockets[0]);
      assert.equal(`${ws.protocol}//${ws.host}${ws.pathname}`, site.config.wsUrl);
      assert.equal(ws.searchParams.get('sessionId'), sessionId);
      assert.ok(ws.searchParams.get('token'), 'the desktop token travels in the query');
      // The API calls went to apiBase, across origins; the site only served files.
      assert.ok(desktop.requests.includes(`POST ${server.url}/sessions`), desktop.requests.join('\n'));
      assert.deepEqual(site.requests.filter((r) => !/^GET \/(|index\.html|config\.js|[a-z]+\.(js|css))$/.test(r)), [],
        'the static site got nothing but page requests');
      // Two hours fast, yet the code is good for its 30 minutes: the page read the API's Date.
      assert.match(await desktop.page.textContent('#countdown'), /^(29|30):\d\d$/);
      assert.notEqual(await desktop.page.locator('#status').getAttribute('data-state'), 'expired');
      const date = await desktop.page.evaluate(async (url) => {
        const r = await fetch(url, { cache: 'no-store' });
        return r.headers.get('date');
      }, `${server.url}/sessions/${sessionId}`);
      assert.ok(date && !Number.isNaN(Date.parse(date)), 'Date readable across origins');
      // What made it readable: the answer names the pages' origin and exposes Date (on AWS the
      // HTTP API's CorsConfiguration: AllowOrigins, ExposeHeaders [date]).
      const answer = await fetch(`${server.url}/sessions/${sessionId}`, { headers: { Origin: site.origin } });
      assert.equal(answer.headers.get('access-control-allow-origin'), site.origin);
      assert.match(answer.headers.get('access-control-expose-headers') || '', /\bdate\b/i);

      // The phone page, from the pages' origin too: it reads the session across origins, takes
      // the server's clock and offers the picker (a fast clock would otherwise call it expired).
      const phone = await openSkewed(t, 'phone', 'phone');
      const read = phone.page.waitForEvent('requestfinished',
        (req) => req.method() === 'GET' && req.url() === `${server.url}/sessions/${sessionId}`);
      await phone.page.goto(phoneUrl);
      await phone.page.locator('#file-input').waitFor({ state: 'attached' });
      await read;
      // Its own expiry check runs every second: give it two looks (a bounded poll for what must
      // not happen).
      const expired = await until(async () => (await phone.page.evaluate(() => document.body.dataset.screen)) === 'unavailable',
        2500, 'the phone to call the code expired').catch(() => false);
      assert.equal(expired, false, 'two hours fast, the phone still takes the code');
      assert.equal(await phone.page.evaluate(() => document.body.dataset.screen), 'choose');
      // Asking for an upload URL across origins (a preflight: the second call sends Authorization).
      const grants = await phone.page.evaluate(async (base) => {
        const url = `${base}/upload-url?sessionId=${new URLSearchParams(location.search).get('sessionId')}&contentType=image/jpeg`;
        const first = await fetch(url).then((r) => r.json());
        const second = await fetch(url, { headers: { Authorization: `Bearer ${first.uploaderToken}` } });
        return { first, second: second.status };
      }, server.url);
      assert.ok(grants.first.uploadUrl.startsWith(`${server.url}/objects/`), grants.first.uploadUrl);
      assert.equal(grants.second, 200, 'Authorization is an allowed header across origins');
    });
  } finally {
    await cleanUp(state);
  }
});

// On AWS S3 answers the phone's PUT at once, before anything checked the photo; the phone then
// reads its session until the photo is listed ("Checking on your computer"), and the desktop
// hears UPLOAD_COMPLETED and fetches the photo from storage: three origins, each with its CORS.
test('a photo crosses three origins as on AWS: the phone PUTs to storage, confirms through the API, the desktop shows it', { skip }, async (t) => {
  const state = {};
  try {
    await scenario(t, async (s) => {
      const { site, server, storage } = await twoOrigins(state, { storage: true });
      s.server = server;
      const desktop = await openSkewed(t, 'desktop', 'desktop');
      await desktop.page.goto(site.origin + '/');
      const phoneUrl = await readQr(desktop.page);
      const sessionId = await sessionIdOf(phoneUrl);
      await desktop.page.waitForFunction(() => document.querySelector('#status').dataset.live === 'true');
      const phone = await openSkewed(t, 'phone', 'phone');
      await phone.page.goto(phoneUrl);
      await phone.page.locator('#file-input').waitFor({ state: 'attached' });
      const photo = await makeImage(phone.page, { width: 640, height: 480, type: 'image/jpeg', name: 'two-origin.jpg' });
      await phone.page.setInputFiles('#file-input', photo);
      await phone.page.locator('#success').waitFor({ state: 'visible' });
      // The PUT went to storage's origin, preflighted; storage's empty 200 said nothing of the
      // check, so the phone confirmed through the API.
      const put = phone.requests.findIndex((r) => r.startsWith(`PUT ${storage.origin}/objects/session-uploads/${sessionId}/`));
      assert.ok(put >= 0, phone.requests.join('\n'));
      assert.ok(storage.requests.some((r) => r.startsWith('OPTIONS /objects/')), 'the browser asked storage first');
      assert.ok(phone.requests.slice(put + 1).includes(`GET ${server.url}/sessions/${sessionId}`),
        'the phone read its session after the PUT');
      const shown = await waitForPhoto(desktop.page);
      assert.deepEqual([shown.width, shown.height], [640, 480]);
      assert.ok(shown.src.startsWith(`${storage.origin}/objects/`), shown.src);
      // The desktop may fetch() the photo across origins too (Download all, Copy image).
      const bytes = await desktop.page.evaluate(async (url) => (await (await fetch(url)).arrayBuffer()).byteLength, shown.src);
      assert.equal(bytes, fs.statSync(photo).size);
    });
  } finally {
    await cleanUp(state);
  }
});

// `qr-upload serve --allowed-origin` lets another origin's pages use its API and its own signed
// /objects/ URLs: the preflight and the PUT's answer carry that origin, as the bucket's CORS does.
test('qr-upload serve answers CORS for its signed URLs as the bucket does (src/local)', { skip }, async (t) => {
  const state = {};
  try {
    await scenario(t, async (s) => {
      const { site, server } = await twoOrigins(state);
      s.server = server;
      const res = await fetch(`${server.url}/objects/session-uploads/x/y.jpg`, {
        method: 'OPTIONS',
        headers: { Origin: site.origin, 'Access-Control-Request-Method': 'PUT', 'Access-Control-Request-Headers': 'content-type' },
      });
      assert.ok(res.ok, `preflight ${res.status}`);
      assert.equal(res.headers.get('access-control-allow-origin'), site.origin);
      assert.match(res.headers.get('access-control-allow-methods') || '', /PUT/);
      assert.match(res.headers.get('access-control-allow-headers') || '', /content-type/i);
      // An origin the server was not told of is refused before any of that.
      const stranger = await fetch(`${server.url}/objects/session-uploads/x/y.jpg`, {
        method: 'OPTIONS',
        headers: { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'PUT' },
      });
      assert.equal(stranger.status, 403);
      assert.equal(stranger.headers.get('access-control-allow-origin') === 'http://evil.example', false);
    });
  } finally {
    await cleanUp(state);
  }
});

test('a page of an origin the API does not allow can use neither the API nor the WebSocket', { skip }, async (t) => {
  const state = {};
  try {
    await scenario(t, async (s) => {
      const { site, server } = await twoOrigins(state);
      s.server = server;
      // A real session and its token, made without a browser (no Origin header).
      const made = await (await fetch(`${server.url}/sessions`, { method: 'POST' })).json();
      // The same files under another origin (localhost instead of 127.0.0.1): not --allowed-origin.
      const stranger = await track(t, await getBrowser().newContext(), 'stranger');
      await stranger.page.goto(`http://localhost:${site.port}/`);
      const outcome = await stranger.page.evaluate(async ({ base, wsUrl, made }) => {
        const api = await fetch(`${base}/sessions/${made.sessionId}`).then(() => 'answered', () => 'blocked');
        const socket = await new Promise((resolve) => {
          const ws = new WebSocket(`${wsUrl}?sessionId=${made.sessionId}&token=${made.desktopToken}`);
          ws.onopen = () => { ws.close(); resolve('open'); };
          ws.onerror = () => resolve('refused');
        });
        return { api, socket };
      }, { base: server.url, wsUrl: site.config.wsUrl, made });
      assert.deepEqual(outcome, { api: 'blocked', socket: 'refused' });
      // The desktop page itself could not make a code, and says so.
      await stranger.page.waitForFunction(() => document.querySelector('#status').dataset.state === 'error');
      // The same socket from an allowed page opens (the refusal was the origin's).
      const allowed = await track(t, await getBrowser().newContext(), 'allowed');
      await allowed.page.goto(`${site.origin}/phone.html`);
      const socket = await allowed.page.evaluate(({ wsUrl, made }) => new Promise((resolve) => {
        const ws = new WebSocket(`${wsUrl}?sessionId=${made.sessionId}&token=${made.desktopToken}`);
        ws.onopen = () => { ws.close(); resolve('open'); };
        ws.onerror = () => resolve('refused');
      }), { wsUrl: site.config.wsUrl, made });
      assert.equal(socket, 'open');
    });
  } finally {
    await cleanUp(state);
  }
});
