// `qr-upload serve` under abuse and faults (issue 10): strict HTTP, limits with clear answers,
// disk quota and free-space floor, who may talk to the server (Host, Origin, CORS), the security
// headers, private files, start-up refusals, UTF-8 logs and TLS.
//
// Run: npm ci --prefix tests/local/http
//      QR_UPLOAD_BIN=build/src/local/qr-upload node --test tests/local/http/abuse.test.mjs
//
// Every server runs on a loopback port chosen by the kernel with a fresh data directory. Nothing
// here sleeps for a fixed time: every wait polls a condition with a bound (waitFor), and every
// raw connection has a deadline.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import WebSocket from 'ws';
import {
  BIN, json, makePng, once, runToExit, serverFor, startServer, tempDir, waitFor, wsUrl,
} from './harness.mjs';

// Incompressible pixels (abuse tests want real bytes to stream).
const PNG = makePng(16, 16, 1, true);

// ---------------------------------------------------------------------------------------------
// Helpers

async function createSession(server, headers = {}) {
  const res = await fetch(`${server.base}/sessions`, { method: 'POST', headers });
  const body = await json(res);
  assert.equal(res.status, 200, JSON.stringify(body));
  return body;
}

async function getUploadUrl(server, sessionId) {
  const res = await fetch(`${server.base}/upload-url?${new URLSearchParams({ sessionId, contentType: 'image/png' })}`);
  const body = await json(res);
  assert.equal(res.status, 200, `GET /upload-url: ${JSON.stringify(body)}`);
  return body;
}

/** Opens a WebSocket; resolves {ws} once open, or {status, body} when refused. */
async function webSocket(url, options = {}) {
  const ws = new WebSocket(url, options);
  ws.on('error', () => {});
  const { event, args } = await once(ws, ['open', 'unexpected-response', 'error'], 5000, `WebSocket ${url}`);
  if (event === 'open') return { ws };
  if (event === 'error') throw args[0];
  const [req, res] = args;
  let body = '';
  res.setEncoding('utf8');
  res.on('data', (d) => { body += d; });
  await once(res, ['end', 'close', 'error'], 5000, 'the refusal body');
  req.destroy();
  return { status: res.statusCode, headers: res.headers, body };
}

/** Splits raw bytes into HTTP responses (status, headers, body by Content-Length). */
function parseResponses(raw, { head = false } = {}) {
  const out = [];
  let rest = raw;
  while (rest.length) {
    const split = rest.indexOf('\r\n\r\n');
    if (split < 0) break;
    const [statusLine, ...lines] = rest.subarray(0, split).toString('latin1').split('\r\n');
    const headers = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const status = Number(/^HTTP\/1\.\d (\d{3})/.exec(statusLine)?.[1] ?? NaN);
    const length = head || status === 100 || status === 204 ? 0 : Number(headers['content-length'] ?? 0);
    const body = rest.subarray(split + 4, split + 4 + length).toString('latin1');
    out.push({ status, headers, body });
    rest = rest.subarray(split + 4 + length);
  }
  return out;
}

/**
 * Writes `data` (string, Buffer, or an array of pieces written one after another) on a fresh
 * connection and collects what comes back until the server closes or `timeoutMs` (then
 * closed = false). Resolves {responses, raw, closed, elapsedMs}.
 */
function rawHttp(port, data, { timeoutMs = 5000, head = false, connect = net.connect, options = {} } = {}) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect({ port, host: '127.0.0.1', ...options });
    const parts = [];
    let settled = false;
    const finish = (closed) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const raw = Buffer.concat(parts);
      resolve({ responses: parseResponses(raw, { head }), raw: raw.toString('latin1'), closed, elapsedMs: Date.now() - started });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('data', (d) => parts.push(d));
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', (e) => (parts.length ? finish(true) : (settled = true, clearTimeout(timer), reject(e))));
    for (const piece of Array.isArray(data) ? data : [data]) socket.write(piece);
  });
}

function request(lines, body = '') {
  return lines.join('\r\n') + '\r\n\r\n' + body;
}

function target(url) {
  const u = new URL(url);
  return u.pathname + u.search;
}

function listDir(dir) {
  try { return fs.readdirSync(dir); } catch { return []; }
}

// ---------------------------------------------------------------------------------------------

test('the binary under test exists', () => {
  assert.ok(fs.existsSync(BIN), `no qr-upload binary at ${BIN} (set QR_UPLOAD_BIN)`);
});

describe('strict HTTP', () => {
  const server = serverFor();
  const host = () => `Host: 127.0.0.1:${server.port}`;
  const smuggled = () => request(['GET /config.js HTTP/1.1', host()]);

  for (const encoding of [['Transfer-Encoding: xchunked'], ['Transfer-Encoding: chunked, identity'],
                          ['Transfer-Encoding: identity'], ['Transfer-Encoding: chunked', 'Transfer-Encoding: chunked'],
                          ['Transfer-Encoding: chunked', 'Content-Length: 5']]) {
    test(`${encoding.join(' + ')} is a 400 and the bytes after it are never a second request`, async () => {
      const res = await rawHttp(server.port, request(['POST /sessions HTTP/1.1', host(), ...encoding]) +
                                             '0\r\n\r\n' + smuggled());
      assert.equal(res.closed, true, 'the connection closes');
      assert.equal(res.responses.length, 1, res.raw);
      assert.equal(res.responses[0].status, 400, res.raw);
      assert.ok(JSON.parse(res.responses[0].body).error);
      assert.equal(res.raw.includes('QR_UPLOAD_CONFIG'), false, 'the smuggled request was served');
    });
  }

  test('Transfer-Encoding on HTTP/1.0 is a 400', async () => {
    const res = await rawHttp(server.port, request(['POST /sessions HTTP/1.0', host(), 'Transfer-Encoding: chunked']) + '0\r\n\r\n');
    assert.equal(res.responses[0]?.status, 400, res.raw);
  });

  test('exactly "chunked" is still read as a chunked body', async () => {
    const res = await rawHttp(server.port, request(['POST /sessions HTTP/1.1', host(), 'Transfer-Encoding: chunked',
                                                    'Connection: close']) + '2\r\n{}\r\n0\r\n\r\n');
    assert.equal(res.responses[0]?.status, 200, res.raw);
  });

  test('methods are case-sensitive: "post /sessions" does not create a session', async () => {
    for (const method of ['post', 'Post', 'get']) {
      const res = await rawHttp(server.port, request([`${method} /sessions HTTP/1.1`, host(), 'Content-Length: 0', 'Connection: close']));
      assert.equal(res.responses[0]?.status, 405, `${method}: ${res.raw}`);
    }
    const page = await rawHttp(server.port, request(['get / HTTP/1.1', host(), 'Connection: close']));
    assert.equal(page.responses[0]?.status, 405, page.raw);
  });

  test('a lower-case "put" to a signed upload URL is not an upload', async () => {
    const session = await createSession(server);
    const upload = await getUploadUrl(server, session.sessionId);
    const res = await rawHttp(server.port, request([`put ${target(upload.uploadUrl)} HTTP/1.1`, host(),
                                                    'Content-Type: image/png', `Content-Length: ${PNG.length}`,
                                                    'Connection: close'], '') + PNG.toString('latin1'));
    assert.equal(res.responses[0]?.status, 405, res.raw);
  });

  test('an empty PUT is answered at once and the request pipelined after it is served', async () => {
    const session = await createSession(server);
    const upload = await getUploadUrl(server, session.sessionId);
    const res = await rawHttp(server.port, request([`PUT ${target(upload.uploadUrl)} HTTP/1.1`, host(),
                                                    'Content-Type: image/png', 'Content-Length: 0']) +
                                           request(['GET /config.js HTTP/1.1', host(), 'Connection: close']),
                              { timeoutMs: 10_000 });
    assert.ok(res.elapsedMs < 5000, `took ${res.elapsedMs} ms`);
    assert.equal(res.responses.length, 2, res.raw);
    assert.ok(res.responses[0].status >= 400 && res.responses[0].status < 500, res.raw);
    assert.equal(res.responses[1].status, 200, res.raw);
    assert.match(res.responses[1].body, /QR_UPLOAD_CONFIG/);
    await waitFor(() => listDir(path.join(server.dataDir, 'tmp')).length === 0, 5000, 'tmp to be empty');
  });

  for (const page of ['/', '/phone.html', '/config.js', '/style.css']) {
    test(`HEAD ${page} answers the GET's header with no body, and the connection goes on`, async () => {
      const get = await fetch(`${server.base}${page}`);
      const length = Buffer.from(await get.arrayBuffer()).length;
      const res = await rawHttp(server.port, [request([`HEAD ${page} HTTP/1.1`, host()]),
                                              request(['GET /config.js HTTP/1.1', host(), 'Connection: close'])],
                                { head: false });
      // The first answer has no body: what follows its header is the second answer.
      const split = res.raw.indexOf('\r\n\r\n');
      const first = parseResponses(Buffer.from(res.raw.slice(0, split + 4), 'latin1'), { head: true })[0];
      assert.equal(first.status, 200, res.raw);
      assert.equal(Number(first.headers['content-length']), length);
      assert.ok(res.raw.slice(split + 4).startsWith('HTTP/1.1 200'), `a body followed the HEAD answer: ${res.raw.slice(split + 4, split + 80)}`);
      assert.match(res.raw, /QR_UPLOAD_CONFIG/);
    });
  }

  test('oversized request headers get 431 with JSON, not a silent close', async () => {
    const res = await rawHttp(server.port, request(['GET / HTTP/1.1', host(), `X-Big: ${'a'.repeat(20_000)}`]));
    assert.equal(res.responses[0]?.status, 431, res.raw.slice(0, 200));
    assert.ok(JSON.parse(res.responses[0].body).error);
    assert.equal(res.closed, true);
  });

  for (const [what, data] of [['a bad request line', 'G@T / HTTP/1.1\r\nHost: x\r\n\r\n'],
                              ['an unknown HTTP version', 'GET / HTTP/7.1\r\nHost: x\r\n\r\n'],
                              ['a header line without a colon', 'GET / HTTP/1.1\r\nHost: x\r\nnocolon\r\n\r\n'],
                              ['a bad Content-Length', 'POST /sessions HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n'],
                              ['a bad chunk', 'POST /sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n']]) {
    test(`${what} gets 400 with JSON and the connection closes`, async () => {
      const res = await rawHttp(server.port, data);
      assert.equal(res.responses[0]?.status, 400, res.raw);
      assert.ok(JSON.parse(res.responses[0].body).error);
      assert.equal(res.closed, true);
    });
  }

  test('every response carries Date', async () => {
    const session = await createSession(server);
    const answers = [
      await fetch(`${server.base}/config.js`),
      await fetch(`${server.base}/`),
      await fetch(`${server.base}/nope`),
      await fetch(`${server.base}/sessions`, { method: 'POST' }),
      await fetch(`${server.base}/sessions/${session.sessionId}`),
      await fetch(`${server.base}/sessions`, { method: 'OPTIONS' }),
    ];
    for (const res of answers) assert.match(res.headers.get('date') ?? '', /^\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$/, res.url);
    const upload = await getUploadUrl(server, session.sessionId);
    const put = await fetch(upload.uploadUrl, { method: 'PUT', headers: upload.headers, body: PNG });
    assert.ok(put.headers.get('date'), 'the PUT answer');
    const refused = await webSocket(wsUrl(server, { sessionId: session.sessionId, token: 'wrong' }));
    assert.equal(refused.status, 403);
    assert.ok(refused.headers.date, 'a WebSocket refusal');
    const accepted = new WebSocket(wsUrl(server, { sessionId: session.sessionId }));
    const { args: [upgrade] } = await once(accepted, ['upgrade'], 5000, 'the upgrade');
    assert.ok(upgrade.headers.date, 'the WebSocket upgrade');
    accepted.terminate();
    const big = await rawHttp(server.port, request(['GET / HTTP/1.1', `X-Big: ${'a'.repeat(20_000)}`]));
    assert.ok(big.responses[0]?.headers.date, '431');
  });
});

describe('connection cap', () => {
  const server = serverFor({ args: ['--max-connections', '4'] });

  test('past the cap a connection gets 503 with JSON; within it the server goes on answering', async () => {
    const idle = [];
    try {
      for (let i = 0; i < 4; i++) {
        const socket = net.connect(server.port, '127.0.0.1');
        socket.on('error', () => {});
        await once(socket, ['connect'], 5000, 'an idle connection');
        idle.push(socket);
      }
      const refused = await waitFor(async () => {
        const res = await rawHttp(server.port, request(['GET /config.js HTTP/1.1', `Host: 127.0.0.1:${server.port}`]));
        return res.responses[0]?.status === 503 && res;
      }, 5000, 'a 503 past the cap');
      assert.equal(refused.responses[0].headers['content-type'], 'application/json');
      assert.ok(JSON.parse(refused.responses[0].body).error);
      assert.ok(refused.responses[0].headers['retry-after']);
      idle.pop().destroy();
      await waitFor(async () => {
        const res = await rawHttp(server.port, request(['GET /config.js HTTP/1.1', `Host: 127.0.0.1:${server.port}`, 'Connection: close']));
        return res.responses[0]?.status === 200;
      }, 5000, 'an answer within the cap');
      // The connection that just closed frees its slot when the server sees the close, a moment
      // after the client does: ask again (bounded) rather than race it.
      const api = await waitFor(async () => {
        const res = await rawHttp(server.port, request(['POST /sessions HTTP/1.1', `Host: 127.0.0.1:${server.port}`, 'Content-Length: 0', 'Connection: close']));
        return res.responses[0]?.status === 200 && res;
      }, 5000, 'the API within the cap');
      assert.equal(api.responses[0].status, 200, api.raw);
    } finally {
      for (const socket of idle) socket.destroy();
    }
  });
});

// Starts the signed PUT of `length` bytes on a socket of its own and writes `next()` every `everyMs`
// until the server closes the connection (bounded: 8 s); resolves with what the server sent and
// when the connection was up.
async function dripUntilCut(server, upload, length, next, everyMs, what) {
  const socket = net.connect(server.port, '127.0.0.1');
  socket.on('error', () => {});
  const parts = [];
  socket.on('data', (d) => parts.push(d));
  await once(socket, ['connect'], 5000, 'the connection');
  const connectedAt = Date.now();
  const closed = once(socket, ['close'], 8000, what);
  socket.write(request([`PUT ${target(upload.uploadUrl)} HTTP/1.1`, `Host: 127.0.0.1:${server.port}`,
                        'Content-Type: image/png', `Content-Length: ${length}`]));
  const drip = setInterval(() => { if (!socket.destroyed) socket.write(next()); }, everyMs);
  try {
    await closed;
  } finally {
    clearInterval(drip);
    socket.destroy();
  }
  return { parts, connectedAt };
}

describe('uploads that drip', () => {
  const server = serverFor({ args: ['--idle-timeout-seconds', '1', '--min-upload-rate', '1000'] });

  test('an upload averaging under the minimum rate is cut off (408) and leaves nothing', async () => {
    const session = await createSession(server);
    const upload = await getUploadUrl(server, session.sessionId);
    // One byte every 200 ms: each read is well within the idle timeout.
    let sent = 0;
    const { parts } = await dripUntilCut(server, upload, 100000, () => PNG.subarray(sent, ++sent), 200,
                                         'the server to cut the drip');
    const answer = parseResponses(Buffer.concat(parts))[0];
    assert.equal(answer?.status, 408, Buffer.concat(parts).toString());
    await waitFor(() => listDir(path.join(server.dataDir, 'tmp')).length === 0, 5000, 'tmp to be empty');
  });
});

describe('upload deadline', () => {
  const server = serverFor({ args: ['--upload-deadline-seconds', '2', '--min-upload-rate', '0'] });

  test('an upload still going at its deadline is cut off (408)', async () => {
    const session = await createSession(server);
    const upload = await getUploadUrl(server, session.sessionId);
    const { parts, connectedAt: started } = await dripUntilCut(
      server, upload, 10000000, () => Buffer.alloc(2000), 100, 'the server to cut the upload at its deadline');
    assert.ok(Date.now() - started >= 1900, `cut after ${Date.now() - started} ms`);
    assert.equal(parseResponses(Buffer.concat(parts))[0]?.status, 408);
  });
});

describe('limits per session and per client', () => {
  const server = serverFor({ args: ['--max-sockets-per-session', '2', '--max-open-sessions', '4', '--rate-limit', '6'] });

  test('WebSockets per session are capped: the third is refused with 429', async () => {
    const session = await createSession(server);
    const a = await webSocket(wsUrl(server, { sessionId: session.sessionId, token: session.desktopToken }));
    const b = await webSocket(wsUrl(server, { sessionId: session.sessionId }));
    try {
      assert.ok(a.ws && b.ws);
      const c = await webSocket(wsUrl(server, { sessionId: session.sessionId }));
      assert.equal(c.status, 429, JSON.stringify(c));
      assert.ok(JSON.parse(c.body).error);
      // One closes: room for another.
      b.ws.terminate();
      const d = await waitFor(async () => {
        const r = await webSocket(wsUrl(server, { sessionId: session.sessionId }));
        return r.ws ?? false;
      }, 5000, 'a socket once one closed');
      d.terminate();
    } finally {
      a.ws?.terminate();
      b.ws?.terminate();
    }
  });

  test('open sessions are capped (503 with Retry-After), POST /sessions is rate-limited per client (429)', async () => {
    // One session exists already (the test above); three more fill the cap of 4.
    for (let i = 0; i < 3; i++) await createSession(server);
    const full = await fetch(`${server.base}/sessions`, { method: 'POST' });
    assert.equal(full.status, 503);
    assert.ok(Number(full.headers.get('retry-after')) > 0);
    assert.match((await json(full)).error, /open sessions/);
    // Six a minute (one more every 10 s): within a few more requests the client is refused.
    let limited;
    for (let i = 0; i < 4 && limited?.status !== 429; i++) {
      limited = await fetch(`${server.base}/sessions`, { method: 'POST' });
      if (limited.status !== 429) await limited.arrayBuffer();
    }
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
    assert.match((await json(limited)).error, /Too many requests/);
    assert.ok(server.logs.some((l) => l.message === 'rate limited'));
  });
});

describe('open sessions across a restart', () => {
  test('a restart does not reset the cap: the sessions a previous run left open still count', async () => {
    const args = ['--max-open-sessions', '2'];
    const first = await startServer({ args });
    let second;
    try {
      await createSession(first);
      await createSession(first);
      await first.stop();
      second = await startServer({ dataDir: first.dataDir, args });
      const full = await fetch(`${second.base}/sessions`, { method: 'POST' });
      assert.equal(full.status, 503, 'the two from before the restart fill the cap');
      assert.ok(Number(full.headers.get('retry-after')) > 1700, 'they expire in about 30 minutes');
    } finally {
      await first.stop();
      if (second) await second.stop();
    }
  });
});

describe('GET /upload-url rate limit', () => {
  const server = serverFor({ args: ['--rate-limit', '3'] });

  test('past the limit GET /upload-url answers 429 with Retry-After', async () => {
    const session = await createSession(server);
    const statuses = [];
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${server.base}/upload-url?sessionId=${session.sessionId}`);
      statuses.push(res.status);
      if (res.status === 429) assert.ok(Number(res.headers.get('retry-after')) > 0);
    }
    // Three a minute: the fourth and fifth are refused (one token comes back every 20 s).
    assert.ok(statuses.filter((s) => s === 429).length >= 1, statuses.join());
    assert.equal(statuses[0], 200, statuses.join());
  });
});

describe('GET /c/{code}: the typed short code', () => {
  const server = serverFor({});

  test('a code finds its session (JSON for fetch, a redirect for a typed link) and guessing is rate-limited', async () => {
    const session = await createSession(server);
    assert.match(session.shortCode, /^\d{6}$/);
    const found = await fetch(`${server.base}/c/${session.shortCode}`, { headers: { accept: 'application/json' } });
    assert.equal(found.status, 200);
    assert.equal((await json(found)).sessionId, session.sessionId);
    const typed = await fetch(`${server.base}/c/${session.shortCode}`, { headers: { accept: 'text/html' }, redirect: 'manual' });
    assert.equal(typed.status, 302);
    assert.equal(typed.headers.get('location'), `${server.base}/phone.html?sessionId=${session.sessionId}`);
    // 20 lookups a minute per address (two were just spent): the rest of a run of 25 wrong
    // guesses is refused with Retry-After, and the refusal is logged.
    const statuses = [];
    for (let i = 0; i < 25; i++) {
      const guess = String((Number(session.shortCode) + 1 + i) % 1_000_000).padStart(6, '0');
      const res = await fetch(`${server.base}/c/${guess}`);
      statuses.push(res.status);
      if (res.status === 429) assert.ok(Number(res.headers.get('retry-after')) > 0);
      else await res.arrayBuffer();
    }
    assert.deepEqual(new Set(statuses), new Set([404, 429]), statuses.join());
    assert.ok(statuses.filter((s) => s === 404).length <= 19, statuses.join());
    assert.ok(server.logs.some((l) => l.message === 'rate limited' && l.path.startsWith('/c/')));
  });
});

describe('out of space', () => {
  test('below the free-space floor an upload is refused with 507 before a byte is written, and logged', async () => {
    const server = await startServer({ args: ['--min-free-bytes', String(2 ** 60)] });
    try {
      const session = await createSession(server);
      const upload = await getUploadUrl(server, session.sessionId);
      const res = await fetch(upload.uploadUrl, { method: 'PUT', headers: upload.headers, body: PNG });
      assert.equal(res.status, 507);
      assert.match((await json(res)).error, /out of space/);
      assert.ok(server.logs.some((l) => l.message === 'upload refused: out of space' && l.level === 'WARN'));
      assert.deepEqual(listDir(path.join(server.dataDir, 'tmp')), []);
    } finally {
      await server.stop();
    }
  });

  test('over the photo quota an upload is refused with 507, and accepted again once space is freed', async () => {
    const server = await startServer({ args: ['--disk-quota-bytes', String(Math.floor(PNG.length * 1.5))] });
    try {
      const first = await createSession(server);
      const firstUpload = await getUploadUrl(server, first.sessionId);
      assert.equal((await fetch(firstUpload.uploadUrl, { method: 'PUT', headers: firstUpload.headers, body: PNG })).status, 200);
      const second = await createSession(server);
      const upload = await getUploadUrl(server, second.sessionId);
      const refused = await fetch(upload.uploadUrl, { method: 'PUT', headers: upload.headers, body: PNG });
      assert.equal(refused.status, 507);
      // The user frees space: the server notices by itself.
      fs.rmSync(path.join(server.dataDir, 'objects', ...firstUpload.uploadKey.split('/')));
      await waitFor(async () => {
        const res = await fetch(upload.uploadUrl, { method: 'PUT', headers: upload.headers, body: PNG });
        return res.status === 200;
      }, 5000, 'the upload to be accepted once space is freed');
    } finally {
      await server.stop();
    }
  });
});

describe('Host and Origin', () => {
  const server = serverFor({ args: ['--allowed-origin', 'http://other.test:3000', '--allowed-host', 'photos.home.test'] });

  test('a Host that is not this server (DNS rebinding) cannot create sessions, read pages or open a WebSocket', async () => {
    for (const req of [['POST /sessions HTTP/1.1', 'Content-Length: 0'], ['GET / HTTP/1.1'], ['GET /config.js HTTP/1.1']]) {
      const res = await rawHttp(server.port, request([...req, 'Host: attacker.example:' + server.port, 'Connection: close']));
      assert.equal(res.responses[0]?.status, 403, res.raw);
      assert.equal(res.raw.includes('desktopToken'), false);
    }
    const ws = await webSocket(wsUrl(server, { sessionId: crypto.randomUUID() }), { headers: { Host: 'attacker.example' } });
    assert.equal(ws.status, 403);
    const none = await rawHttp(server.port, 'POST /sessions HTTP/1.1\r\nContent-Length: 0\r\n\r\n');
    assert.equal(none.responses[0]?.status, 400, 'HTTP/1.1 without Host');
  });

  test('the public host, loopback names and listed hosts are answered', async () => {
    for (const name of [`127.0.0.1:${server.port}`, `localhost:${server.port}`, 'LOCALHOST', 'photos.home.test', 'photos.home.test.:8443']) {
      const res = await rawHttp(server.port, request(['GET /config.js HTTP/1.1', `Host: ${name}`, 'Connection: close']));
      assert.equal(res.responses[0]?.status, 200, `${name}: ${res.raw.slice(0, 100)}`);
    }
  });

  test('another page (Origin) cannot create sessions, claim them or open the WebSocket', async () => {
    const evil = { Origin: 'http://evil.example' };
    const res = await fetch(`${server.base}/sessions`, { method: 'POST', headers: evil });
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('access-control-allow-origin') === 'http://evil.example', false);
    const session = await createSession(server);
    assert.equal((await fetch(`${server.base}/upload-url?sessionId=${session.sessionId}`, { headers: evil })).status, 403);
    assert.equal((await fetch(`${server.base}/sessions/${session.sessionId}`, { headers: evil })).status, 403);
    const preflight = await fetch(`${server.base}/sessions`, { method: 'OPTIONS', headers: { ...evil, 'Access-Control-Request-Method': 'POST' } });
    assert.equal(preflight.status, 403);
    const ws = await webSocket(wsUrl(server, { sessionId: session.sessionId, token: session.desktopToken }), { origin: 'http://evil.example' });
    assert.equal(ws.status, 403);
    assert.equal((await fetch(`${server.base}/sessions`, { method: 'POST', headers: { Origin: 'null' } })).status, 403);
  });

  test('CORS answers only its own origin and the listed ones, never "*"', async () => {
    const own = await fetch(`${server.base}/sessions`, { method: 'POST', headers: { Origin: server.base } });
    assert.equal(own.status, 200);
    assert.equal(own.headers.get('access-control-allow-origin'), server.base);
    assert.match(own.headers.get('vary') ?? '', /Origin/);
    const listed = await fetch(`${server.base}/sessions`, { method: 'POST', headers: { Origin: 'http://other.test:3000' } });
    assert.equal(listed.status, 200);
    assert.equal(listed.headers.get('access-control-allow-origin'), 'http://other.test:3000');
    const local = await rawHttp(server.port, request(['POST /sessions HTTP/1.1', `Host: localhost:${server.port}`,
                                                      `Origin: http://localhost:${server.port}`, 'Content-Length: 0', 'Connection: close']));
    assert.equal(local.responses[0]?.status, 200, 'the page as opened on localhost');
    assert.equal(local.responses[0].headers['access-control-allow-origin'], `http://localhost:${server.port}`);
    const bare = await fetch(`${server.base}/sessions`, { method: 'POST' });
    assert.equal(bare.headers.get('access-control-allow-origin'), server.base);
    const preflight = await fetch(`${server.base}/sessions`, { method: 'OPTIONS', headers: { Origin: server.base, 'Access-Control-Request-Method': 'POST' } });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), server.base);
    const ws = await webSocket(wsUrl(server, { sessionId: (await createSession(server)).sessionId }), { origin: server.base });
    assert.ok(ws.ws, 'a WebSocket from its own page');
    ws.ws.terminate();
  });

  test('a listed origin may PUT to and GET from the signed /objects/ URLs, as the bucket CORS allows', async () => {
    const other = 'http://other.test:3000';
    const session = await createSession(server, { Origin: other });
    const upload = await getUploadUrl(server, session.sessionId);
    const preflight = await fetch(upload.uploadUrl, {
      method: 'OPTIONS', headers: { Origin: other, 'Access-Control-Request-Method': 'PUT', 'Access-Control-Request-Headers': 'content-type' },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), other);
    assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /PUT/);
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /content-type/i);
    const put = await fetch(upload.uploadUrl, { method: 'PUT', headers: { ...upload.headers, Origin: other }, body: PNG });
    assert.equal(put.status, 200, await put.clone().text());
    assert.equal(put.headers.get('access-control-allow-origin'), other);
    const evil = await fetch(upload.uploadUrl, { method: 'OPTIONS', headers: { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'PUT' } });
    assert.equal(evil.status, 403);
  });
});

describe('security headers', () => {
  const server = serverFor();

  test('pages carry a CSP without inline script, nosniff, no framing and no Referer', async () => {
    for (const page of ['/', '/phone.html']) {
      const res = await fetch(`${server.base}${page}`);
      assert.equal(res.status, 200);
      const csp = res.headers.get('content-security-policy') ?? '';
      assert.match(csp, /script-src 'self'/, csp);
      assert.match(csp, /frame-ancestors 'none'/, csp);
      assert.match(csp, /default-src 'none'/, csp);
      assert.equal(/unsafe-inline|unsafe-eval/.test(csp), false, csp);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
      assert.equal(res.headers.get('x-frame-options'), 'DENY');
      // The policy holds only if the pages need nothing inline.
      const html = await res.text();
      assert.equal(/<script(?![^>]*\bsrc=)[^>]*>/i.test(html), false, `${page} has an inline <script>`);
      assert.equal(/<style\b/i.test(html) || /\sstyle=/i.test(html), false, `${page} has inline style`);
      assert.equal(/\son[a-z]+=/i.test(html), false, `${page} has an inline event handler`);
    }
  });

  test('answers that carry the desktop token or a signed link are never stored: Cache-Control no-store', async () => {
    const created = await fetch(`${server.base}/sessions`, { method: 'POST' });
    assert.equal(created.headers.get('cache-control'), 'no-store');
    const session = await json(created);
    const url = await fetch(`${server.base}/upload-url?sessionId=${session.sessionId}&contentType=image/png`);
    assert.equal(url.headers.get('cache-control'), 'no-store');
    const upload = await json(url);
    const put = await fetch(upload.uploadUrl, { method: 'PUT', headers: upload.headers, body: PNG });
    assert.equal(put.status, 200);
    assert.equal(put.headers.get('cache-control'), 'no-store');
    const read = await fetch(`${server.base}/sessions/${session.sessionId}`, { headers: { Authorization: `Bearer ${session.desktopToken}` } });
    assert.ok((await json(read)).downloadUrl);
    assert.equal(read.headers.get('cache-control'), 'no-store');
    assert.equal((await fetch(`${server.base}/config.js`)).headers.get('cache-control'), 'no-store');
  });
});

describe('private files', () => {
  test('under umask 000 the data directory is 0700 and every file in it 0600', async () => {
    const dataDir = path.join(tempDir(), 'data');
    fs.mkdirSync(dataDir, { mode: 0o777 });
    fs.chmodSync(dataDir, 0o777);
    const server = await startServer({ dataDir, umask: '000' });
    try {
      const session = await createSession(server);
      const upload = await getUploadUrl(server, session.sessionId);
      assert.equal((await fetch(upload.uploadUrl, { method: 'PUT', headers: upload.headers, body: PNG })).status, 200);
      // A second upload still in progress: its temporary file too.
      const other = await getUploadUrl(server, (await createSession(server)).sessionId);
      const socket = net.connect(server.port, '127.0.0.1');
      socket.on('error', () => {});
      await once(socket, ['connect'], 5000, 'the connection');
      socket.write(request([`PUT ${target(other.uploadUrl)} HTTP/1.1`, `Host: 127.0.0.1:${server.port}`,
                            'Content-Type: image/png', 'Content-Length: 100000']) + 'x'.repeat(100));
      try {
        await waitFor(() => listDir(path.join(dataDir, 'tmp')).length > 0, 5000, 'the upload in progress');
        const seen = [];
        const walk = (p) => {
          const st = fs.lstatSync(p);
          seen.push([path.relative(dataDir, p) || '.', st.mode & 0o777, st.isDirectory()]);
          if (st.isDirectory()) for (const name of fs.readdirSync(p)) walk(path.join(p, name));
        };
        walk(dataDir);
        for (const [name, mode, dir] of seen) assert.equal(mode, dir ? 0o700 : 0o600, `${name}: ${mode.toString(8)}`);
        const names = seen.map(([name]) => name);
        for (const name of ['sessions.db', 'sessions.db-wal', 'secret']) assert.ok(names.includes(name), names.join());
        assert.ok(names.some((n) => n.endsWith('.png')), names.join());
      } finally {
        socket.destroy();
      }
    } finally {
      await server.stop();
    }
  });

  test('files an older version left readable are made private at start', async () => {
    const dataDir = path.join(tempDir(), 'data');
    const first = await startServer({ dataDir });
    await first.stop();
    fs.chmodSync(dataDir, 0o755);
    fs.chmodSync(path.join(dataDir, 'secret'), 0o644);
    fs.chmodSync(path.join(dataDir, 'sessions.db'), 0o644);
    const second = await startServer({ dataDir });
    try {
      assert.equal(fs.statSync(dataDir).mode & 0o777, 0o700);
      assert.equal(fs.statSync(path.join(dataDir, 'secret')).mode & 0o777, 0o600);
      assert.equal(fs.statSync(path.join(dataDir, 'sessions.db')).mode & 0o777, 0o600);
    } finally {
      await second.stop();
    }
  });
});

describe('refusing to start', () => {
  test('a zero-length sessions.db is refused: the error names the file and says what to do', async () => {
    const dataDir = path.join(tempDir(), 'data');
    fs.mkdirSync(dataDir);
    fs.writeFileSync(path.join(dataDir, 'sessions.db'), '');
    const { code, stdout, stderr } = await runToExit(['serve', '--port', '0', '--bind', '127.0.0.1', '--data-dir', dataDir]);
    assert.notEqual(code, 0);
    assert.ok(stderr.includes(path.join(dataDir, 'sessions.db')), stderr);
    assert.match(stderr, /empty/);
    assert.match(stderr, /move the file aside/);
    assert.equal(stdout.includes('"listening"'), false);
    assert.equal(fs.statSync(path.join(dataDir, 'sessions.db')).size, 0, 'the file is left as it was');
  });

  test('a sessions.db that is not a database is refused naming the file', async () => {
    const dataDir = path.join(tempDir(), 'data');
    fs.mkdirSync(dataDir);
    fs.writeFileSync(path.join(dataDir, 'sessions.db'), 'x'.repeat(10_000));
    const { code, stderr } = await runToExit(['serve', '--port', '0', '--bind', '127.0.0.1', '--data-dir', dataDir]);
    assert.notEqual(code, 0);
    assert.ok(stderr.includes(path.join(dataDir, 'sessions.db')), stderr);
    assert.match(stderr, /move the file aside/);
  });
});

describe('logs', () => {
  const server = serverFor();

  test('every log line is valid UTF-8 JSON whatever bytes requests carried', async () => {
    const bad = Buffer.from([0xff, 0xfe, 0xc0, 0xaf, 0xed, 0xa0, 0x80]).toString('latin1');
    const session = await createSession(server);
    const upload = await getUploadUrl(server, session.sessionId);
    const u = new URL(upload.uploadUrl);
    for (const p of [`/objects/session-uploads/${session.sessionId}/%FF%FE.png${u.search}`, `/%FF${bad}`, `/sessions/${bad}`]) {
      await rawHttp(server.port, Buffer.from(request([`PUT ${p} HTTP/1.1`, `Host: 127.0.0.1:${server.port}`, `X-Note: ${bad}`,
                                                      'Content-Type: image/png', 'Content-Length: 4', 'Connection: close'], 'abcd'), 'latin1'));
    }
    await rawHttp(server.port, Buffer.from(request([`GET /upload-url?sessionId=${bad} HTTP/1.1`, `Host: 127.0.0.1:${server.port}`, 'Connection: close']), 'latin1'));
    const out = Buffer.concat(server.raw);
    const text = new TextDecoder('utf-8', { fatal: true }).decode(out); // throws on ill-formed bytes
    for (const line of text.split('\n').filter(Boolean)) JSON.parse(line);
  });
});

describe('TLS', () => {
  let dir;
  let cert;
  before(() => {
    dir = tempDir();
    cert = { key: path.join(dir, 'key.pem'), cert: path.join(dir, 'cert.pem') };
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
                             '-keyout', cert.key, '-out', cert.cert, '-days', '2', '-subj', '/CN=127.0.0.1',
                             '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
  });

  test('--tls-cert/--tls-key serve HTTPS and WSS on one port, with https signed URLs and QR', async () => {
    const server = await startServer({ args: ['--tls-cert', cert.cert, '--tls-key', cert.key] });
    const ca = fs.readFileSync(cert.cert);
    const agent = new https.Agent({ ca, keepAlive: false });
    const call = (method, url, { headers = {}, body } = {}) => new Promise((resolve, reject) => {
      const req = https.request(url, { method, agent, headers }, (res) => {
        const parts = [];
        res.on('data', (d) => parts.push(d));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(parts) }));
      });
      req.on('error', reject);
      req.end(body);
    });
    try {
      assert.match(server.base, /^https:\/\/127\.0\.0\.1:\d+$/);
      const created = await call('POST', `${server.base}/sessions`);
      assert.equal(created.status, 200);
      const session = JSON.parse(created.body);
      const desktop = new WebSocket(`${server.base.replace(/^https/, 'wss')}/ws?sessionId=${session.sessionId}&token=${session.desktopToken}`, { ca });
      const messages = [];
      desktop.on('message', (d) => messages.push(JSON.parse(d.toString())));
      await once(desktop, ['open'], 5000, 'the WSS connection');
      try {
        const urlAnswer = await call('GET', `${server.base}/upload-url?sessionId=${session.sessionId}&contentType=image/png`);
        const upload = JSON.parse(urlAnswer.body);
        assert.match(upload.uploadUrl, /^https:\/\/127\.0\.0\.1:\d+\/objects\//);
        const put = await call('PUT', upload.uploadUrl, { headers: { ...upload.headers, 'Content-Length': PNG.length }, body: PNG });
        assert.equal(put.status, 200, put.body.toString());
        const done = await waitFor(() => messages.find((m) => m.action === 'UPLOAD_COMPLETED'), 5000, 'UPLOAD_COMPLETED over WSS');
        assert.match(done.downloadUrl, /^https:/);
        const download = await call('GET', done.downloadUrl);
        assert.deepEqual(download.body, PNG);
        const config = await call('GET', `${server.base}/config.js`);
        assert.match(config.body.toString(), /"phoneUrl":"https:\/\/127\.0\.0\.1:\d+\/phone\.html"/);
      } finally {
        desktop.terminate();
      }
      // Plain HTTP on the TLS port is not served.
      const plain = await rawHttp(server.port, request(['GET /config.js HTTP/1.1', `Host: 127.0.0.1:${server.port}`]));
      assert.equal(plain.raw.includes('QR_UPLOAD_CONFIG'), false);
      // A TLS client that stalls in the handshake is cut off.
      const stalled = await rawHttp(server.port, Buffer.from([0x16, 0x03, 0x01]), { timeoutMs: 20_000 });
      assert.equal(stalled.closed, true);
    } finally {
      agent.destroy();
      await server.stop();
    }
  });

  test('a missing or unreadable certificate is refused at start naming the file', async () => {
    const missing = path.join(dir, 'nope.pem');
    const { code, stderr } = await runToExit(['serve', '--port', '0', '--bind', '127.0.0.1', '--data-dir', path.join(tempDir(), 'data'),
                                              '--tls-cert', missing, '--tls-key', cert.key]);
    assert.notEqual(code, 0);
    assert.ok(stderr.includes(missing), stderr);
    const alone = await runToExit(['serve', '--port', '0', '--tls-cert', cert.cert]);
    assert.notEqual(alone.code, 0);
    assert.match(alone.stderr, /--tls-key/);
  });
});
