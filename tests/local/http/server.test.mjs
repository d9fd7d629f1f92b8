// HTTP-level tests of the running `qr-upload serve` binary: every bad input the issue lists
// (signatures, content type, size, unknown sessions, path traversal, malformed JSON, stalled and
// aborted uploads, WebSocket refusals), a restart, and the reasons it gives when it cannot start.
//
// Run: npm ci --prefix tests/local/http
//      QR_UPLOAD_BIN=build/src/local/qr-upload node --test tests/local/http/
//
// Every server runs on a loopback port chosen by the kernel with a fresh data directory. Nothing
// here sleeps for a fixed time: every wait polls a condition with a bound (waitFor).
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import {
  BIN, json, makePng, once, runToExit, serverFor, startServer, tempDir, waitFor, wsUrl,
} from './harness.mjs';

const PNG = makePng();

// ---------------------------------------------------------------------------------------------
// Helpers

async function createSession(server) {
  const res = await fetch(`${server.base}/sessions`, { method: 'POST' });
  assert.equal(res.status, 200);
  const body = await json(res);
  assert.match(body.sessionId, /^[0-9a-f-]{36}$/);
  assert.ok(body.desktopToken);
  return body;
}

// The uploader token each session's phone got when it claimed the session (issue 9): the phone
// presents it on every later request, as the phone page does.
const uploaderTokens = new Map();

async function getUploadUrl(server, sessionId, params = { contentType: 'image/png' }) {
  const query = new URLSearchParams({ sessionId, ...params });
  const token = uploaderTokens.get(sessionId);
  const res = await fetch(`${server.base}/upload-url?${query}`,
    { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  const body = await json(res);
  assert.equal(res.status, 200, `GET /upload-url: ${JSON.stringify(body)}`);
  assert.equal(body.method, 'PUT');
  if (body.uploaderToken) uploaderTokens.set(sessionId, body.uploaderToken);
  return body;
}

async function getSession(server, sessionId, token) {
  const res = await fetch(`${server.base}/sessions/${sessionId}`,
                          token ? { headers: { Authorization: `Bearer ${token}` } } : {});
  const body = await json(res);
  return { status: res.status, body };
}

function put(url, headers, body) {
  return fetch(url, { method: 'PUT', headers, body });
}

/** Opens a WebSocket; resolves with {ws, messages, next(pred, ms)} once it is open. */
async function openWebSocket(url) {
  const ws = new WebSocket(url);
  const messages = [];
  ws.on('message', (data) => messages.push(JSON.parse(data.toString())));
  const { event, args } = await once(ws, ['open', 'unexpected-response', 'error'], 5000, `WebSocket ${url}`);
  if (event !== 'open') {
    ws.terminate();
    throw new Error(`WebSocket ${url} not opened: ${event} ${args[1]?.statusCode ?? args[0]?.message}`);
  }
  return {
    ws,
    messages,
    next: (pred, ms = 5000) => waitFor(() => messages.find(pred), ms, 'a WebSocket message'),
    close() { ws.terminate(); },
  };
}

/** Opens a WebSocket that the server must refuse; resolves {status, body}. */
async function refusedWebSocket(url) {
  const ws = new WebSocket(url);
  ws.on('error', () => {}); // the refusal also surfaces as an error after the response
  const { event, args } = await once(ws, ['open', 'unexpected-response', 'error'], 5000, `WebSocket ${url}`);
  if (event === 'open') {
    ws.terminate();
    assert.fail(`WebSocket ${url} was accepted; expected a refusal`);
  }
  if (event === 'error') assert.fail(`WebSocket ${url}: ${args[0].message}; expected an HTTP refusal`);
  const [req, res] = args;
  let body = '';
  res.setEncoding('utf8');
  res.on('data', (d) => { body += d; });
  await once(res, ['end', 'close', 'error'], 5000, 'the refusal body');
  req.destroy();
  return { status: res.statusCode, body };
}

/**
 * Sends `data` on a fresh socket and collects the response until the server closes the
 * connection (or `timeoutMs`). Resolves {status, headers, body, closed, elapsedMs}.
 */
function rawHttp(port, data, { timeoutMs = 5000, keepOpen = false } = {}) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = net.connect(port, '127.0.0.1');
    const parts = [];
    let settled = false;
    const finish = (closed) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const raw = Buffer.concat(parts);
      const split = raw.indexOf('\r\n\r\n');
      const head = (split < 0 ? raw : raw.subarray(0, split)).toString('latin1');
      const [statusLine, ...headerLines] = head.split('\r\n');
      const headers = {};
      for (const line of headerLines) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const status = /^HTTP\/1\.\d (\d{3})/.exec(statusLine)?.[1];
      resolve({
        status: status ? Number(status) : null,
        headers,
        body: split < 0 ? '' : raw.subarray(split + 4).toString('latin1'),
        raw: raw.toString('latin1'),
        closed,
        elapsedMs: Date.now() - started,
      });
    };
    const timer = setTimeout(() => (keepOpen ? finish(false) : reject(new Error(`no close within ${timeoutMs} ms`))), timeoutMs);
    socket.on('data', (d) => parts.push(d));
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    // A reset after the answer still counts as the answer.
    socket.on('error', (e) => (parts.length ? finish(true) : (settled = true, clearTimeout(timer), reject(e))));
    socket.write(data);
  });
}

/** The path and query of a URL, as sent on the request line. */
function target(url) {
  const u = new URL(url);
  return u.pathname + u.search;
}

function listDir(dir) {
  try { return fs.readdirSync(dir); } catch { return []; }
}

function objectFile(server, key) {
  return path.join(server.dataDir, 'objects', ...key.split('/'));
}

/** A session with a completed PNG upload; returns {session, upload, download}. */
async function completedUpload(server, image = PNG) {
  const session = await createSession(server);
  const upload = await getUploadUrl(server, session.sessionId);
  const res = await put(upload.uploadUrl, upload.headers, image);
  assert.equal(res.status, 200, await res.text());
  const { body } = await getSession(server, session.sessionId, session.desktopToken);
  assert.equal(body.status, 'COMPLETED');
  return { session, upload, downloadUrl: body.downloadUrl };
}

// ---------------------------------------------------------------------------------------------

test('the binary under test exists', () => {
  assert.ok(fs.existsSync(BIN), `no qr-upload binary at ${BIN} (set QR_UPLOAD_BIN)`);
});

describe('happy path', () => {
  const server = serverFor();

  test('a PNG put to the signed URL is announced on the desktop WebSocket and downloads byte for byte', async () => {
    const session = await createSession(server);
    const desktop = await openWebSocket(wsUrl(server, { sessionId: session.sessionId, token: session.desktopToken }));
    try {
      const upload = await getUploadUrl(server, session.sessionId);
      assert.deepEqual(upload.headers, { 'Content-Type': 'image/png' });
      assert.match(upload.uploadKey, new RegExp(`^session-uploads/${session.sessionId}/image-\\d+.*\\.png$`));
      assert.ok(upload.uploadUrl.startsWith(`${server.base}/objects/${upload.uploadKey}?`), upload.uploadUrl);

      const requested = await getSession(server, session.sessionId);
      assert.equal(requested.body.status, 'UPLOAD_REQUESTED');

      const res = await put(upload.uploadUrl, upload.headers, PNG);
      assert.equal(res.status, 200, await res.clone().text());
      const putBody = await json(res);
      assert.equal(putBody.uploadKey, upload.uploadKey);
      assert.equal(putBody.size, PNG.length);

      const message = await desktop.next((m) => m.action === 'UPLOAD_COMPLETED');
      assert.equal(message.sessionId, session.sessionId);
      assert.equal(message.uploadKey, upload.uploadKey);
      assert.equal(message.contentType, 'image/png');
      assert.equal(message.size, PNG.length);
      assert.ok(message.downloadUrl, JSON.stringify(message));

      const download = await fetch(message.downloadUrl);
      assert.equal(download.status, 200);
      assert.equal(download.headers.get('content-type'), 'image/png');
      assert.deepEqual(Buffer.from(await download.arrayBuffer()), PNG);

      const anonymous = await getSession(server, session.sessionId);
      assert.equal(anonymous.status, 200);
      assert.equal(anonymous.body.status, 'COMPLETED');
      assert.equal(anonymous.body.uploadKey, upload.uploadKey);
      assert.equal(anonymous.body.downloadUrl, undefined, 'no download link without the token');

      const desktopView = await getSession(server, session.sessionId, session.desktopToken);
      assert.equal(desktopView.status, 200);
      assert.equal(desktopView.body.status, 'COMPLETED');
      assert.equal(desktopView.body.contentType, 'image/png');
      assert.equal(desktopView.body.size, PNG.length);
      const again = await fetch(desktopView.body.downloadUrl);
      assert.equal(again.status, 200);
      assert.deepEqual(Buffer.from(await again.arrayBuffer()), PNG);

      const wrongToken = await getSession(server, session.sessionId, 'not-the-token');
      assert.equal(wrongToken.status, 403);
    } finally {
      desktop.close();
    }
  });
});

describe('signatures', () => {
  const server = serverFor();

  test('a tampered X-Amz-Signature is refused with 403', async () => {
    const session = await createSession(server);
    const upload = await getUploadUrl(server, session.sessionId);
    const url = new URL(upload.uploadUrl);
    const sig = url.searchParams.get('X-Amz-Signature');
    url.searchParams.set('X-Amz-Signature', (sig[0] === '0' ? '1' : '0') + sig.slice(1));
    const res = await put(url, upload.headers, PNG);
    assert.equal(res.status, 403);
    assert.match((await json(res)).error, /Forbidden/);
    assert.equal(fs.existsSync(objectFile(server, upload.uploadKey)), false);
    assert.equal((await getSession(server, session.sessionId)).body.status, 'UPLOAD_REQUESTED');
  });

  test("a valid signature used on another key's path is refused with 403", async () => {
    const a = await createSession(server);
    const b = await createSession(server);
    const uploadA = await getUploadUrl(server, a.sessionId);
    const uploadB = await getUploadUrl(server, b.sessionId);
    const forged = new URL(uploadA.uploadUrl);
    forged.pathname = new URL(uploadB.uploadUrl).pathname;
    const res = await put(forged, uploadA.headers, PNG);
    assert.equal(res.status, 403);
    // The same session, another file name.
    const renamed = new URL(uploadA.uploadUrl);
    renamed.pathname = renamed.pathname.replace(/image-[^/]*$/, 'image-1.png');
    const res2 = await put(renamed, uploadA.headers, PNG);
    assert.equal(res2.status, 403);
    for (const s of [a, b]) assert.equal((await getSession(server, s.sessionId)).body.status, 'UPLOAD_REQUESTED');
    assert.deepEqual(listDir(path.join(server.dataDir, 'objects', 'session-uploads', b.sessionId)), []);
  });

  test('a signed PUT URL used for GET, or a download URL used for PUT, is refused with 403', async () => {
    const { downloadUrl } = await completedUpload(server);
    const res = await put(downloadUrl, { 'Content-Type': 'image/png' }, PNG);
    assert.equal(res.status, 403);
    const session = await createSession(server);
    const upload = await getUploadUrl(server, session.sessionId);
    const get = await fetch(upload.uploadUrl);
    assert.ok([403, 404].includes(get.status), `GET of a PUT URL: ${get.status}`);
  });

  test('a URL signed with a contentLength refuses a body of another length', async () => {
    const session = await createSession(server);
    const upload = await getUploadUrl(server, session.sessionId, { contentType: 'image/png', contentLength: String(PNG.length) });
    assert.deepEqual(upload.headers, { 'Content-Type': 'image/png', 'Content-Length': String(PNG.length) });
    const longer = Buffer.concat([PNG, Buffer.alloc(16)]);
    const res = await put(upload.uploadUrl, { 'Content-Type': 'image/png' }, longer);
    assert.equal(res.status, 403);
    assert.equal(fs.existsSync(objectFile(server, upload.uploadKey)), false);
    // fetch sets Content-Length from the body itself: the exact bytes are accepted.
    const ok = await put(upload.uploadUrl, { 'Content-Type': 'image/png' }, PNG);
    assert.equal(ok.status, 200, await ok.text());
  });

  test('missing signature parameters are refused with 403', async () => {
    const session = await createSession(server);
    const upload = await getUploadUrl(server, session.sessionId);
    const url = new URL(upload.uploadUrl);
    for (const name of ['X-Amz-Signature', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-Credential',
                        'X-Amz-SignedHeaders', 'X-Amz-Algorithm']) {
      const stripped = new URL(url);
      stripped.searchParams.delete(name);
      const res = await put(stripped, upload.headers, PNG);
      assert.equal(res.status, 403, `without ${name}`);
    }
    const bare = new URL(url);
    bare.search = '';
    const res = await put(bare, upload.headers, PNG);
    assert.equal(res.status, 403, 'without any query');
    assert.match((await json(res)).error, /Forbidden/);
    assert.equal(fs.existsSync(objectFile(server, upload.uploadKey)), false);
  });

  test('a download URL with a tampered signature is refused with 403', async () => {
    const { downloadUrl } = await completedUpload(server);
    const url = new URL(downloadUrl);
    const sig = url.searchParams.get('X-Amz-Signature');
    url.searchParams.set('X-Amz-Signature', sig.slice(0, -1) + (sig.endsWith('0') ? '1' : '0'));
    const res = await fetch(url);
    assert.equal(res.status, 403);
    const body = await res.text();
    assert.equal(body.includes('PNG'), false, 'no image bytes in the refusal');
    const unsigned = new URL(downloadUrl);
    unsigned.search = '';
    assert.equal((await fetch(unsigned)).status, 403);
  });
});

describe('expired signatures', () => {
  const server = serverFor({ args: ['--upload-url-ttl-seconds', '1', '--max-upload-bytes', '1000'] });

  test('an upload URL past its expiry is refused with 403 and says it expired', async () => {
    const session = await createSession(server);
    const upload = await getUploadUrl(server, session.sessionId);
    assert.equal(upload.expiresIn, 1);
    // Poll with headers only and a Content-Length over the maximum (1000 here): while the URL
    // is valid the server answers 413 without storing anything; once it has expired, 403.
    const probe = [
      `PUT ${target(upload.uploadUrl)} HTTP/1.1`,
      `Host: 127.0.0.1:${server.port}`,
      'Content-Type: image/png',
      'Content-Length: 5000',
      'Connection: close',
      '', '',
    ].join('\r\n');
    const refusal = await waitFor(async () => {
      const res = await rawHttp(server.port, probe);
      assert.ok([403, 413].includes(res.status), `probe answered ${res.status}: ${res.raw}`);
      return res.status === 403 ? res : null;
    }, 10_000, 'the upload URL to expire');
    assert.match(JSON.parse(refusal.body).error, /expired/i);

    const small = makePng(4, 4, 3);
    const res = await put(upload.uploadUrl, upload.headers, small);
    assert.equal(res.status, 403);
    assert.match((await json(res)).error, /expired/i);
    assert.equal(fs.existsSync(objectFile(server, upload.uploadKey)), false);
    assert.equal((await getSession(server, session.sessionId)).body.status, 'UPLOAD_REQUESTED');
  });
});

describe('content type', () => {
  const server = serverFor();

  test('a PUT with another Content-Type than the signed one is refused with 403', async () => {
    const session = await createSession(server);
    const upload = await getUploadUrl(server, session.sessionId);
    const res = await put(upload.uploadUrl, { 'Content-Type': 'image/jpeg' }, PNG);
    assert.equal(res.status, 403);
    assert.equal(fs.existsSync(objectFile(server, upload.uploadKey)), false);
    assert.equal((await getSession(server, session.sessionId)).body.status, 'UPLOAD_REQUESTED');
  });

  test('a PUT without a Content-Type is refused with 403', async () => {
    const session = await createSession(server);
    const upload = await getUploadUrl(server, session.sessionId);
    const res = await put(upload.uploadUrl, {}, PNG); // a Buffer body gets no Content-Type
    assert.equal(res.status, 403);
    assert.match((await json(res)).error, /content-type/i);
    assert.equal(fs.existsSync(objectFile(server, upload.uploadKey)), false);
  });

  test('an unsupported contentType is refused when the URL is asked for', async () => {
    const session = await createSession(server);
    const res = await fetch(`${server.base}/upload-url?sessionId=${session.sessionId}&contentType=text/html`);
    assert.equal(res.status, 400);
    assert.equal((await json(res)).error, 'Unsupported contentType');
  });
});

describe('too large', () => {
  const server = serverFor({ args: ['--max-upload-bytes', '1000'] });
  const big = Buffer.concat([PNG.subarray(0, 8), crypto.randomBytes(5000 - 8)]);

  async function assertNothingStored(session, upload) {
    assert.notEqual((await getSession(server, session.sessionId)).body.status, 'COMPLETED');
    await waitFor(() => listDir(path.join(server.dataDir, 'tmp')).length === 0, 5000, 'data-dir/tmp to be empty');
    assert.equal(fs.existsSync(objectFile(server, upload.uploadKey)), false);
  }

  test('asking for an upload URL with a contentLength over the maximum answers 413', async () => {
    const session = await createSession(server);
    const res = await fetch(`${server.base}/upload-url?sessionId=${session.sessionId}&contentType=image/png&contentLength=5000`);
    assert.equal(res.status, 413);
    assert.equal((await json(res)).error, 'File too large');
    const bad = await fetch(`${server.base}/upload-url?sessionId=${session.sessionId}&contentLength=lots`);
    assert.equal(bad.status, 400);
  });

  test('a PUT with a Content-Length over the maximum answers 413 and stores nothing', async () => {
    const session = await createSession(server);
    const upload = await getUploadUrl(server, session.sessionId);
    const res = await rawHttp(server.port, Buffer.concat([Buffer.from([
      `PUT ${target(upload.uploadUrl)} HTTP/1.1`,
      `Host: 127.0.0.1:${server.port}`,
      'Content-Type: image/png',
      `Content-Length: ${big.length}`,
      '', '',
    ].join('\r\n')), big]));
    assert.equal(res.status, 413, res.raw);
    assert.equal(JSON.parse(res.body).error, 'File too large');
    await assertNothingStored(session, upload);
  });

  test('the same PUT through fetch (Content-Length known up front) answers 413', async () => {
    const session = await createSession(server);
    const upload = await getUploadUrl(server, session.sessionId);
    const res = await put(upload.uploadUrl, upload.headers, big);
    assert.equal(res.status, 413);
    await assertNothingStored(session, upload);
  });

  test('a chunked PUT (no Content-Length) that grows past the maximum answers 413 and stores nothing', async () => {
    const session = await createSession(server);
    const upload = await getUploadUrl(server, session.sessionId);
    const chunks = [];
    for (let offset = 0; offset < big.length; offset += 500) {
      const piece = big.subarray(offset, offset + 500);
      chunks.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
    }
    chunks.push(Buffer.from('0\r\n\r\n'));
    const res = await rawHttp(server.port, Buffer.concat([Buffer.from([
      `PUT ${target(upload.uploadUrl)} HTTP/1.1`,
      `Host: 127.0.0.1:${server.port}`,
      'Content-Type: image/png',
      'Transfer-Encoding: chunked',
      '', '',
    ].join('\r\n')), ...chunks]));
    await assertNothingStored(session, upload);
    assert.equal(res.status, 413, `expected a 413 answer, got: ${JSON.stringify(res.raw)}`);
    assert.equal(JSON.parse(res.body).error, 'File too large');
  });

  test('a chunked PUT under the maximum is accepted', async () => {
    const small = makePng(4, 4, 7);
    assert.ok(small.length < 1000);
    const session = await createSession(server);
    const upload = await getUploadUrl(server, session.sessionId);
    const res = await fetch(upload.uploadUrl, {
      method: 'PUT',
      headers: upload.headers,
      body: new ReadableStream({ start(c) { c.enqueue(small.subarray(0, 10)); c.enqueue(small.subarray(10)); c.close(); } }),
      duplex: 'half',
    });
    assert.equal(res.status, 200, await res.text());
    assert.deepEqual(fs.readFileSync(objectFile(server, upload.uploadKey)), small);
  });
});

describe('photos of realistic size (default maximum, 25 MiB)', () => {
  const server = serverFor();

  test('a 2 MiB PNG sent with a Content-Length is accepted and stored byte for byte', async () => {
    const photo = makePng(740, 740, 5, true);
    assert.ok(photo.length > 2 * 1024 * 1024, `${photo.length}`);
    const session = await createSession(server);
    const upload = await getUploadUrl(server, session.sessionId);
    let res;
    try {
      res = await put(upload.uploadUrl, upload.headers, photo);
    } catch (e) {
      assert.fail(`PUT of ${photo.length} bytes with Content-Length: no HTTP answer (${e.cause?.code ?? e.message})`);
    }
    assert.equal(res.status, 200, await res.text());
    assert.deepEqual(fs.readFileSync(objectFile(server, upload.uploadKey)), photo);
  });

  test('a 2 MiB PNG sent chunked is accepted', async () => {
    const photo = makePng(740, 740, 6, true);
    const session = await createSession(server);
    const upload = await getUploadUrl(server, session.sessionId);
    const res = await fetch(upload.uploadUrl, {
      method: 'PUT',
      headers: upload.headers,
      body: new ReadableStream({ start(c) { c.enqueue(photo); c.close(); } }),
      duplex: 'half',
    });
    assert.equal(res.status, 200, await res.text());
    assert.deepEqual(fs.readFileSync(objectFile(server, upload.uploadKey)), photo);
  });

  test('a PUT announcing more than 25 MiB answers 413 before any byte is sent', async () => {
    const session = await createSession(server);
    const upload = await getUploadUrl(server, session.sessionId);
    const res = await rawHttp(server.port, [
      `PUT ${target(upload.uploadUrl)} HTTP/1.1`,
      `Host: 127.0.0.1:${server.port}`,
      'Content-Type: image/png',
      `Content-Length: ${25 * 1024 * 1024 + 1}`,
      '', '',
    ].join('\r\n'));
    assert.equal(res.status, 413, `expected a 413 answer, got: ${JSON.stringify(res.raw)}`);
    assert.equal(JSON.parse(res.body).error, 'File too large');
  });
});

describe('bytes that are not the signed image type', () => {
  const server = serverFor();

  test('are rejected with 422, reported on the WebSocket, and the session can still upload', async () => {
    const session = await createSession(server);
    const desktop = await openWebSocket(wsUrl(server, { sessionId: session.sessionId, token: session.desktopToken }));
    try {
      const upload = await getUploadUrl(server, session.sessionId);
      const res = await put(upload.uploadUrl, upload.headers, Buffer.from('this is not a PNG, only some text\n'.repeat(4)));
      assert.equal(res.status, 422);
      assert.match((await json(res)).error, /^Upload rejected/);
      const error = await desktop.next((m) => m.action === 'ERROR');
      assert.equal(error.sessionId, session.sessionId);
      assert.match(error.error, /^Upload rejected/);
      assert.equal((await getSession(server, session.sessionId)).body.status, 'UPLOAD_REQUESTED');
      assert.equal(fs.existsSync(objectFile(server, upload.uploadKey)), false, 'the rejected bytes are deleted');

      // A JPEG signature is not a PNG either.
      const jpegBytes = Buffer.from([0xff, 0xd8, 0xff, 0xe0, ...Buffer.alloc(64)]);
      const res2 = await put(upload.uploadUrl, upload.headers, jpegBytes);
      assert.equal(res2.status, 422);

      const retry = await getUploadUrl(server, session.sessionId);
      assert.notEqual(retry.uploadKey, upload.uploadKey, 'a fresh key');
      const ok = await put(retry.uploadUrl, retry.headers, PNG);
      assert.equal(ok.status, 200, await ok.text());
      const done = await desktop.next((m) => m.action === 'UPLOAD_COMPLETED');
      assert.equal(done.uploadKey, retry.uploadKey);
      const { body } = await getSession(server, session.sessionId);
      assert.equal(body.status, 'COMPLETED');
      assert.equal(body.uploadKey, retry.uploadKey);
    } finally {
      desktop.close();
    }
  });

  test('after completion no new upload URL is issued and the old URL cannot replace the image', async () => {
    const { session, upload, downloadUrl } = await completedUpload(server);
    const res = await fetch(`${server.base}/upload-url?sessionId=${session.sessionId}&contentType=image/png`);
    assert.equal(res.status, 400);
    assert.equal((await json(res)).error, 'Session already completed');
    // The upload URL is still within its lifetime: a second PUT, with bytes that are not even an
    // image, must not replace what the desktop was told about.
    const again = await put(upload.uploadUrl, upload.headers, Buffer.from('<html>not a PNG</html>'));
    const stored = fs.readFileSync(objectFile(server, upload.uploadKey));
    const download = Buffer.from(await (await fetch(downloadUrl)).arrayBuffer());
    const digest = (b) => `${b.length} bytes, sha256 ${crypto.createHash('sha256').update(b).digest('hex').slice(0, 16)}`;
    assert.deepEqual({ stored: digest(stored), download: digest(download) },
                     { stored: digest(PNG), download: digest(PNG) },
                     `a second PUT to the completed session's URL (answered ${again.status}) replaced the image`);
  });
});

describe('unknown sessions', () => {
  const server = serverFor();

  test('an upload URL for a random uuid answers 404 "Session not found"', async () => {
    const res = await fetch(`${server.base}/upload-url?sessionId=${crypto.randomUUID()}&contentType=image/png`);
    assert.equal(res.status, 404);
    assert.equal((await json(res)).error, 'Session not found');
  });

  test('a malformed sessionId answers 404 "Invalid sessionId format"', async () => {
    for (const id of ['nope', '12345678-1234-1234-1234-12345678901', '../../etc/passwd', "' OR 1=1 --"]) {
      const res = await fetch(`${server.base}/upload-url?${new URLSearchParams({ sessionId: id })}`);
      assert.equal(res.status, 404, id);
      assert.equal((await json(res)).error, 'Invalid sessionId format', id);
    }
  });

  test('a missing sessionId answers 400', async () => {
    const res = await fetch(`${server.base}/upload-url?contentType=image/png`);
    assert.equal(res.status, 400);
    assert.equal((await json(res)).error, 'sessionId is required');
    const empty = await fetch(`${server.base}/upload-url?sessionId=`);
    assert.equal(empty.status, 400);
  });

  test('GET /sessions/<random uuid> answers 404', async () => {
    const res = await fetch(`${server.base}/sessions/${crypto.randomUUID()}`);
    assert.equal(res.status, 404);
    assert.equal((await json(res)).error, 'Session not found');
    const malformed = await fetch(`${server.base}/sessions/not-a-uuid`);
    assert.equal(malformed.status, 404);
    assert.equal((await json(malformed)).error, 'Invalid sessionId format');
  });
});

describe('path traversal', () => {
  const server = serverFor();
  let secret;
  before(() => {
    secret = fs.readFileSync(path.join(server.dataDir, 'secret'), 'utf8').trim();
    assert.ok(secret.length >= 32);
  });

  async function rawGet(requestTarget) {
    return rawHttp(server.port, `GET ${requestTarget} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nConnection: close\r\n\r\n`);
  }

  for (const requestTarget of ['/../data/secret', '/../secret', '/objects/../secret', '/%2e%2e/secret',
                               '/%2e%2e/%2e%2e/etc/passwd', '/..%2fsecret', '/objects/session-uploads/../../secret',
                               '/objects/..%2f..%2fsecret', '//etc/passwd', '/.%2e/secret', '/./secret']) {
    test(`GET ${requestTarget} is refused and never returns the data dir's secret`, async () => {
      const res = await rawGet(requestTarget);
      assert.ok(res.status >= 400 && res.status < 500, `${requestTarget}: ${res.status}`);
      assert.equal(res.raw.includes(secret), false);
      assert.equal(res.raw.includes('root:'), false);
    });
  }

  test('a traversal in the session part of a signed download key is refused', async () => {
    const { session, downloadUrl } = await completedUpload(server);
    const url = new URL(downloadUrl);
    const query = url.search;
    for (const p of [`/objects/session-uploads/${session.sessionId}/../../../secret`,
                     `/objects/session-uploads/${session.sessionId}/..%2f..%2f..%2fsecret`]) {
      const res = await rawGet(p + query);
      assert.ok(res.status >= 400 && res.status < 500, `${p}: ${res.status}`);
      assert.equal(res.raw.includes(secret), false);
    }
  });

  test('PUT /objects/session-uploads/../../secret is refused and the secret file is untouched', async () => {
    const session = await createSession(server);
    const upload = await getUploadUrl(server, session.sessionId);
    const query = new URL(upload.uploadUrl).search;
    const payload = 'overwritten';
    for (const p of ['/objects/session-uploads/../../secret',
                     `/objects/session-uploads/${session.sessionId}/../../../secret`,
                     `/objects/session-uploads/${session.sessionId}/..%2f..%2f..%2fsecret`,
                     `/objects/${upload.uploadKey}/../../../../secret`]) {
      const res = await rawHttp(server.port, [
        `PUT ${p}${query} HTTP/1.1`,
        `Host: 127.0.0.1:${server.port}`,
        'Content-Type: image/png',
        `Content-Length: ${payload.length}`,
        'Connection: close',
        '',
        payload,
      ].join('\r\n'));
      assert.ok(res.status >= 400 && res.status < 500, `${p}: ${res.status} ${res.raw}`);
      assert.equal(res.raw.includes(secret), false);
    }
    assert.equal(fs.readFileSync(path.join(server.dataDir, 'secret'), 'utf8').trim(), secret);
    assert.equal(fs.existsSync(path.join(path.dirname(server.dataDir), 'secret')), false);
    await waitFor(() => listDir(path.join(server.dataDir, 'tmp')).length === 0, 5000, 'data-dir/tmp to be empty');
  });

  test('the static pages are still served: GET /phone.html', async () => {
    const res = await fetch(`${server.base}/phone.html`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/html/);
    assert.match(await res.text(), /<html/i);
    const index = await fetch(`${server.base}/`);
    assert.equal(index.status, 200);
    const config = await fetch(`${server.base}/config.js`);
    assert.equal(config.status, 200);
    assert.match(await config.text(), /QR_UPLOAD_CONFIG/);
  });
});

describe('malformed requests', () => {
  const server = serverFor();

  test('POST /sessions with malformed JSON answers 400 "Invalid JSON body"', async () => {
    const res = await fetch(`${server.base}/sessions`, { method: 'POST', body: '{nope', headers: { 'Content-Type': 'application/json' } });
    assert.equal(res.status, 400);
    assert.equal((await json(res)).error, 'Invalid JSON body');
  });

  test('POST /sessions with a JSON array (not an object) answers 400', async () => {
    for (const body of ['[]', '[1,2]', '"text"', '42', 'null']) {
      const res = await fetch(`${server.base}/sessions`, { method: 'POST', body, headers: { 'Content-Type': 'application/json' } });
      assert.equal(res.status, 400, body);
      assert.ok((await json(res)).error, body);
    }
    const ok = await fetch(`${server.base}/sessions`, { method: 'POST', body: '{"ignored": true}' });
    assert.equal(ok.status, 200);
  });

  test('POST /sessions with a body over the 64 KiB API limit answers 413', async () => {
    for (const size of [100_000, 2 * 1024 * 1024]) {
      let res;
      try {
        res = await fetch(`${server.base}/sessions`, { method: 'POST', body: `{"x":"${'a'.repeat(size)}"}` });
      } catch (e) {
        assert.fail(`${size}-byte body: no HTTP answer (${e.cause?.code ?? e.message})`);
      }
      assert.equal(res.status, 413, `${size}-byte body`);
      assert.equal((await json(res)).error, 'Request body too large');
    }
  });

  test('an unknown route answers 404 {"error":"Not Found"}', async () => {
    for (const p of ['/nope', '/sessions/a/b', '/api/sessions']) {
      const res = await fetch(`${server.base}${p}`);
      assert.equal(res.status, 404, p);
      assert.deepEqual(await json(res), { error: 'Not Found' }, p);
    }
  });

  test('a wrong method on an API route answers 405', async () => {
    const session = await createSession(server);
    for (const [method, p] of [['GET', '/sessions'], ['DELETE', '/sessions'], ['PUT', '/sessions'],
                               ['POST', '/upload-url'], ['DELETE', `/sessions/${session.sessionId}`]]) {
      const res = await fetch(`${server.base}${p}`, { method });
      assert.equal(res.status, 405, `${method} ${p}`);
      assert.equal((await json(res)).error, 'Method Not Allowed');
    }
  });

  test('OPTIONS /sessions answers the preflight: 204 with Access-Control-Allow-Origin', async () => {
    const res = await fetch(`${server.base}/sessions`, {
      method: 'OPTIONS',
      headers: { Origin: server.base, 'Access-Control-Request-Method': 'POST' },
    });
    assert.equal(res.status, 204);
    assert.ok(res.headers.get('access-control-allow-origin'));
    const api = await fetch(`${server.base}/sessions`, { method: 'POST' });
    assert.ok(api.headers.get('access-control-allow-origin'), 'JSON answers carry CORS headers too');
  });

  test('garbage instead of an HTTP request is refused without crashing the server', async () => {
    const res = await rawHttp(server.port, 'HELLO THERE\r\n\r\n');
    assert.ok(res.status === null || (res.status >= 400 && res.status < 500), res.raw);
    const alive = await fetch(`${server.base}/sessions`, { method: 'POST' });
    assert.equal(alive.status, 200);
  });
});

describe('stalled and aborted uploads', () => {
  const server = serverFor({ args: ['--idle-timeout-seconds', '1'] });
  const tmp = () => path.join(server.dataDir, 'tmp');

  function headers(upload, length) {
    return [
      `PUT ${target(upload.uploadUrl)} HTTP/1.1`,
      `Host: 127.0.0.1:${server.port}`,
      'Content-Type: image/png',
      `Content-Length: ${length}`,
      '', '',
    ].join('\r\n');
  }

  test('an upload that goes silent is cut off after the idle timeout and leaves nothing', async () => {
    const session = await createSession(server);
    const upload = await getUploadUrl(server, session.sessionId);
    const socket = net.connect(server.port, '127.0.0.1');
    try {
      await once(socket, ['connect'], 5000, 'the connection');
      const closed = once(socket, ['close'], 10_000, 'the server to close the stalled upload');
      socket.on('error', () => {});
      socket.resume(); // the server answers 408 before it closes: read it, or 'close' never comes
      socket.write(Buffer.concat([Buffer.from(headers(upload, 100_000)), PNG.subarray(0, 10)]));
      // The upload is under way: its temporary file exists.
      await waitFor(() => listDir(tmp()).length > 0, 5000, 'a temporary file for the upload');
      const started = Date.now();
      await closed;
      assert.ok(Date.now() - started < 10_000);
    } finally {
      socket.destroy();
    }
    await waitFor(() => listDir(tmp()).length === 0, 5000, 'data-dir/tmp to be empty');
    assert.equal(fs.existsSync(objectFile(server, upload.uploadKey)), false);
    assert.notEqual((await getSession(server, session.sessionId)).body.status, 'COMPLETED');
  });

  test('a client that aborts mid-upload leaves nothing in tmp', async () => {
    const session = await createSession(server);
    const upload = await getUploadUrl(server, session.sessionId);
    const socket = net.connect(server.port, '127.0.0.1');
    socket.on('error', () => {});
    await once(socket, ['connect'], 5000, 'the connection');
    socket.write(Buffer.concat([Buffer.from(headers(upload, 100_000)), PNG.subarray(0, 50)]));
    await waitFor(() => listDir(tmp()).length > 0, 5000, 'a temporary file for the upload');
    socket.destroy();
    await waitFor(() => listDir(tmp()).length === 0, 5000, 'data-dir/tmp to be empty');
    assert.equal(fs.existsSync(objectFile(server, upload.uploadKey)), false);
    assert.equal((await getSession(server, session.sessionId)).body.status, 'UPLOAD_REQUESTED');

    // The same URL still works for a complete upload afterwards.
    const res = await put(upload.uploadUrl, upload.headers, PNG);
    assert.equal(res.status, 200, await res.text());
  });

  test('an API request whose body goes silent is cut off after the idle timeout', async () => {
    const res = await rawHttp(server.port, [
      'POST /sessions HTTP/1.1',
      `Host: 127.0.0.1:${server.port}`,
      'Content-Type: application/json',
      'Content-Length: 100',
      '', '{',
    ].join('\r\n'), { timeoutMs: 10_000 });
    assert.equal(res.closed, true);
    assert.ok(res.status === null || res.status >= 400, res.raw);
  });
});

describe('WebSocket refusals', () => {
  const server = serverFor();

  test('a wrong token is refused with 403', async () => {
    const session = await createSession(server);
    const { status, body } = await refusedWebSocket(wsUrl(server, { sessionId: session.sessionId, token: 'wrong' }));
    assert.equal(status, 403);
    assert.equal(JSON.parse(body).error, 'Invalid token');
  });

  test('no sessionId is refused with 400', async () => {
    assert.equal((await refusedWebSocket(wsUrl(server, {}))).status, 400);
    assert.equal((await refusedWebSocket(wsUrl(server, { token: 'x' }))).status, 400);
  });

  test('an unknown session is refused with 404', async () => {
    const { status, body } = await refusedWebSocket(wsUrl(server, { sessionId: crypto.randomUUID() }));
    assert.equal(status, 404);
    assert.equal(JSON.parse(body).error, 'Session not found');
    assert.equal((await refusedWebSocket(wsUrl(server, { sessionId: 'not-a-uuid' }))).status, 404);
  });

  test('a tokenless connection after the desktop is accepted but the completion goes only to the desktop', async () => {
    const session = await createSession(server);
    const desktop = await openWebSocket(wsUrl(server, { sessionId: session.sessionId, token: session.desktopToken }));
    const intruder = await openWebSocket(wsUrl(server, { sessionId: session.sessionId }));
    try {
      const upload = await getUploadUrl(server, session.sessionId);
      const res = await put(upload.uploadUrl, upload.headers, PNG);
      assert.equal(res.status, 200);
      const message = await desktop.next((m) => m.action === 'UPLOAD_COMPLETED');
      assert.ok(message.downloadUrl);
      // Anything sent to the intruder was queued before the PUT answered; a ping's pong comes
      // after it, so once the pong is back the intruder has heard all it ever will.
      const pong = once(intruder.ws, ['pong'], 5000, 'a pong');
      intruder.ws.ping();
      await pong;
      assert.deepEqual(intruder.messages, []);
    } finally {
      desktop.close();
      intruder.close();
    }
  });
});

describe('restart', () => {
  test('sessions and finished uploads survive stopping and starting the server', async () => {
    const dataDir = path.join(tempDir(), 'data');
    const first = await startServer({ dataDir });
    let session, upload, downloadUrl, pending;
    try {
      ({ session, upload, downloadUrl } = await completedUpload(first));
      pending = await createSession(first);
    } finally {
      const { code, signal } = await first.stop();
      assert.equal(signal, null);
      assert.equal(code, 0, `exit after SIGTERM: ${first.stderr()}`);
    }
    assert.ok(first.logs.some((l) => l.message === 'stopped'));

    // The same port, so the signed URLs' host still matches.
    const second = await startServer({ dataDir, port: first.port });
    try {
      assert.equal(second.base, first.base);
      const { status, body } = await getSession(second, session.sessionId, session.desktopToken);
      assert.equal(status, 200);
      assert.equal(body.status, 'COMPLETED');
      assert.equal(body.uploadKey, upload.uploadKey);
      assert.equal(body.size, PNG.length);

      const before = await fetch(downloadUrl);
      assert.equal(before.status, 200, 'the download URL signed before the restart still works');
      assert.deepEqual(Buffer.from(await before.arrayBuffer()), PNG);
      const after = await fetch(body.downloadUrl);
      assert.deepEqual(Buffer.from(await after.arrayBuffer()), PNG);

      // A session made before the restart can still be used, and its desktop token still counts.
      const ws = await openWebSocket(wsUrl(second, { sessionId: pending.sessionId, token: pending.desktopToken }));
      try {
        const u = await getUploadUrl(second, pending.sessionId);
        assert.equal((await put(u.uploadUrl, u.headers, PNG)).status, 200);
        await ws.next((m) => m.action === 'UPLOAD_COMPLETED');
      } finally {
        ws.close();
      }
    } finally {
      const { code } = await second.stop();
      assert.equal(code, 0);
    }
  });
});

describe('refusing to start', () => {
  test('a second server on a port in use exits non-zero and says the address is in use', async () => {
    const first = await startServer();
    try {
      const { code, stderr } = await runToExit(['serve', '--port', String(first.port), '--bind', '127.0.0.1',
                                                '--data-dir', path.join(tempDir(), 'data')]);
      assert.notEqual(code, 0);
      assert.match(stderr, /address already in use/i);
      assert.match(stderr, new RegExp(String(first.port)));
      // The first server is unharmed.
      assert.equal((await fetch(`${first.base}/sessions`, { method: 'POST' })).status, 200);
    } finally {
      await first.stop();
    }
  });

  test('a data directory that cannot be created exits non-zero with a clear message', async () => {
    const file = path.join(tempDir(), 'a-file');
    fs.writeFileSync(file, 'not a directory');
    const dataDir = path.join(file, 'sub');
    const { code, stdout, stderr } = await runToExit(['serve', '--port', '0', '--bind', '127.0.0.1', '--data-dir', dataDir]);
    assert.notEqual(code, 0);
    assert.match(stderr, /data directory/i);
    assert.ok(stderr.includes(dataDir), stderr);
    assert.equal(stdout.includes('"listening"'), false);
  });

  test('an invalid flag value exits non-zero naming the flag', async () => {
    const { code, stderr } = await runToExit(['serve', '--port', 'eighty']);
    assert.notEqual(code, 0);
    assert.match(stderr, /--port/);
  });
});
