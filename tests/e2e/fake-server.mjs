#!/usr/bin/env node
// A stand-in for `qr-upload serve`, written from docs/API.md, for working on the pages and the
// browser test without the C++ build: QR_UPLOAD_BIN=tests/e2e/fake-server.mjs node --test ...
// It takes the same flags (--port, --bind, --data-dir, --max-upload-bytes, --session-ttl-seconds,
// --save-dir) and prints the same "listening" log line. ctest runs the real binary.
// Multi-photo sessions as docs/API.md has them: maxUploads, the uploader token of the phone that
// claimed the session, the uploads list, POST /sessions/{id}/complete, and the WebSocket messages
// PHONE_CONNECTED, UPLOAD_COMPLETED (index, uploadsRemaining), SESSION_COMPLETED, ERROR, UPLOAD_SAVED.
// The typed fallback (issue 12): POST /sessions answers a 6-digit shortCode, GET /c/{code} finds
// the session waiting for a scan that has it (JSON for fetch, a 302 to the phone page for a browser).
import http from 'node:http';
import os from 'node:os';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const webDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'web');
const args = process.argv.slice(2);
function flag(name, fallback) {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
}
if (args.includes('--help')) {
  console.log('fake qr-upload serve: --port --bind --data-dir --max-upload-bytes --session-ttl-seconds --save-dir');
  process.exit(0);
}
const port = Number(flag('--port', '8080'));
const bind = flag('--bind', '127.0.0.1');
const maxBytes = Number(flag('--max-upload-bytes', String(25 * 1024 * 1024)));
const ttl = Number(flag('--session-ttl-seconds', '1800'));
const saveDir = flag('--save-dir', null);
const types = {
  'image/jpeg': '.jpg', 'image/png': '.png', 'image/gif': '.gif', 'image/webp': '.webp',
  'image/heic': '.heic', 'image/heif': '.heif', 'image/avif': '.avif',
};
const CLAIMED = 'This code is already in use by another phone. Scan a new code on the computer.';
const sessions = new Map();
const objects = new Map();
const sockets = new Map(); // sessionId -> socket
const secret = crypto.randomBytes(16);
const now = () => Math.floor(Date.now() / 1000);
const sha = (s) => crypto.createHash('sha256').update(s).digest('hex');
const sign = (s) => crypto.createHmac('sha256', secret).update(s).digest('hex');
// The session id's first 32 bits modulo 1,000,000, zero-padded (as serve and the pages derive it).
const shortCodeOf = (id) => String(parseInt(id.replace(/-/g, '').slice(0, 8), 16) % 1000000).padStart(6, '0');
const waitingForScan = (s) => s.status === 'AWAITING_SCAN' && now() <= s.expiresAt;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
let baseUrl = '';

function json(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Access-Control-Allow-Origin': '*',
    'Access-Control-Allow-Headers': 'Authorization,Content-Type', 'Access-Control-Allow-Methods': 'GET,POST,PUT,OPTIONS' });
  res.end(status === 204 ? undefined : JSON.stringify(body));
}
function lookup(id) {
  if (!id) return [400, 'sessionId is required'];
  if (!UUID.test(id)) return [404, 'Invalid sessionId format'];
  const s = sessions.get(id);
  if (!s) return [404, 'Session not found'];
  return [200, s];
}
function bearer(req) {
  const auth = req.headers.authorization || '';
  return auth.startsWith('Bearer ') ? auth.slice(7) : '';
}
function sniff(b) {
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b.subarray(0, 8).toString('latin1') === '\x89PNG\r\n\x1a\n') return 'image/png';
  if (/^GIF8[79]a/.test(b.subarray(0, 6).toString('latin1'))) return 'image/gif';
  if (b.subarray(0, 4).toString() === 'RIFF' && b.subarray(8, 12).toString() === 'WEBP') return 'image/webp';
  if (b.subarray(4, 8).toString() === 'ftyp') {
    const brand = b.subarray(8, 12).toString();
    if (['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis'].includes(brand)) return 'image/heic';
    if (['mif1', 'msf1'].includes(brand)) return 'image/heif';
    if (['avif', 'avis'].includes(brand)) return 'image/avif';
  }
  return null;
}
const sameFamily = (a, b) => a === b || (['image/heic', 'image/heif'].includes(a) && ['image/heic', 'image/heif'].includes(b));

// docs/API.md "File names", in short.
function cleanName(raw) {
  let name = String(raw || '').split(/[/\\]/).pop();
  name = name.replace(/[\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/g, '');
  name = name.trim().replace(/^\.+/, '').trim();
  while (Buffer.byteLength(name) > 120) name = [...name].slice(0, -1).join('');
  return name || 'photo';
}
function withExtension(name, type) {
  const ext = (/\.([^.]+)$/.exec(name) || [])[1];
  const want = types[type].slice(1);
  const fine = ext && (ext.toLowerCase() === want || (want === 'jpg' && /^jpe?g$/i.test(ext)) ||
    (['heic', 'heif'].includes(want) && /^hei[cf]$/i.test(ext)));
  if (fine) return name;
  return (ext ? name.slice(0, -(ext.length + 1)) : name) + '.' + want;
}

function wsSend(sessionId, obj) {
  const sock = sockets.get(sessionId);
  if (!sock) return;
  const payload = Buffer.from(JSON.stringify(obj));
  const header = payload.length < 126 ? Buffer.from([0x81, payload.length])
    : Buffer.from([0x81, 126, payload.length >> 8, payload.length & 255]);
  sock.write(Buffer.concat([header, payload]));
}
function downloadUrl(key) {
  const exp = now() + 900;
  return `${baseUrl}/objects/${key}?X-Amz-Expires=${exp}&X-Amz-Signature=${sign('GET' + key + exp)}`;
}
function uploadView(u, withLink) {
  const out = { uploadKey: u.uploadKey, fileName: u.fileName, contentType: u.contentType, size: u.size, index: u.index, completedAt: u.completedAt };
  if (withLink) out.downloadUrl = downloadUrl(u.uploadKey);
  if (withLink && objects.has(u.uploadKey + '.preview.jpg')) out.previewUrl = downloadUrl(u.uploadKey + '.preview.jpg');
  return out;
}
// A JPEG preview of a HEIC/HEIF photo, as serve makes with libheif: here by heif-convert, when
// it is installed and can read the bytes.
function makePreview(key, body) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-heic-'));
  try {
    fs.writeFileSync(path.join(dir, 'in.heic'), body);
    const r = spawnSync('heif-convert', [path.join(dir, 'in.heic'), path.join(dir, 'out.jpg')], { timeout: 20000 });
    if (r.status !== 0 || !fs.existsSync(path.join(dir, 'out.jpg'))) return false;
    objects.set(key + '.preview.jpg', { body: fs.readFileSync(path.join(dir, 'out.jpg')), type: 'image/jpeg', fileName: 'preview.jpg' });
    return true;
  } catch {
    return false;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
function complete(s, reason) {
  if (s.status === 'COMPLETED') return;
  Object.assign(s, { status: 'COMPLETED', completedAt: now() });
  wsSend(s.sessionId, { action: 'SESSION_COMPLETED', sessionId: s.sessionId, uploadCount: s.uploads.length, reason, timestamp: now() });
}
function saveCopy(s, u, body) {
  if (!saveDir) return;
  fs.mkdirSync(saveDir, { recursive: true });
  const ext = path.extname(u.fileName);
  const stem = u.fileName.slice(0, u.fileName.length - ext.length);
  let target = path.join(saveDir, u.fileName);
  for (let n = 2; fs.existsSync(target); n++) target = path.join(saveDir, `${stem} (${n})${ext}`);
  fs.writeFileSync(target, body);
  wsSend(s.sessionId, { action: 'UPLOAD_SAVED', sessionId: s.sessionId, uploadKey: u.uploadKey, fileName: u.fileName, savedAs: target });
}

function readBody(req) {
  return new Promise((resolve) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString()));
  });
}

async function createSession(req, res) {
  const text = (await readBody(req)).trim();
  let maxUploads = 1;
  if (text) {
    let body;
    try { body = JSON.parse(text); } catch { return json(res, 400, { error: 'Invalid JSON body' }); }
    if (!body || typeof body !== 'object' || Array.isArray(body)) return json(res, 400, { error: 'Body must be a JSON object' });
    if (body.maxUploads !== undefined) {
      if (!Number.isInteger(body.maxUploads) || body.maxUploads < 1 || body.maxUploads > 100) {
        return json(res, 400, { error: 'maxUploads must be an integer from 1 to 100' });
      }
      maxUploads = body.maxUploads;
    }
  }
  // The code must be unique among the sessions waiting for a scan: draw again on a clash.
  const taken = new Set([...sessions.values()].filter(waitingForScan).map((s) => s.shortCode));
  let id = crypto.randomUUID();
  while (taken.has(shortCodeOf(id))) id = crypto.randomUUID();
  const token = crypto.randomBytes(32).toString('base64url');
  sessions.set(id, {
    sessionId: id, shortCode: shortCodeOf(id), status: 'AWAITING_SCAN', createdAt: now(), expiresAt: now() + ttl, tokenHash: sha(token),
    maxUploads, uploads: [], slots: new Map(), issued: 0, uploaderHash: null,
  });
  return json(res, 200, { sessionId: id, expiresAt: now() + ttl, desktopToken: token, maxUploads, shortCode: shortCodeOf(id) });
}

// GET /c/{code}: the session waiting for a scan with this code. A browser that opened the short
// link (Accept: text/html) is sent on to the phone page; fetch (Accept: application/json) gets JSON.
function findByCode(req, res, code) {
  const valid = /^[0-9]{6}$/.test(code);
  const s = valid ? [...sessions.values()].find((x) => x.shortCode === code && waitingForScan(x)) : null;
  const accept = String(req.headers.accept || '');
  if (/text\/html/.test(accept) && !/application\/json/.test(accept)) {
    const to = s ? `/phone.html?sessionId=${s.sessionId}` : `/phone.html?code=${valid ? code : ''}`;
    res.writeHead(302, { Location: to, 'Cache-Control': 'no-store' });
    return res.end();
  }
  if (!valid) return json(res, 400, { error: 'Invalid code' });
  if (!s) return json(res, 404, { error: 'Code not found' });
  return json(res, 200, { sessionId: s.sessionId, expiresAt: s.expiresAt });
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const p = url.pathname;
  if (req.method === 'OPTIONS') return json(res, 204, {});
  if (req.method === 'POST' && p === '/sessions') return createSession(req, res);
  if (req.method === 'GET' && p.startsWith('/c/')) return findByCode(req, res, decodeURIComponent(p.slice(3)));
  const completeMatch = /^\/sessions\/([^/]+)\/complete$/.exec(p);
  if (req.method === 'POST' && completeMatch) {
    const [code, s] = lookup(decodeURIComponent(completeMatch[1]));
    if (code !== 200) return json(res, code, { error: s });
    if (sha(bearer(req)) !== s.tokenHash) return json(res, 403, { error: 'Invalid token' });
    if (s.status !== 'COMPLETED' && now() > s.expiresAt) return json(res, 400, { error: 'Session expired' });
    complete(s, 'ended');
    return json(res, 200, { sessionId: s.sessionId, status: 'COMPLETED', uploadCount: s.uploads.length });
  }
  if (req.method === 'GET' && p.startsWith('/sessions/')) {
    const [code, s] = lookup(decodeURIComponent(p.slice(10)));
    if (code !== 200) return json(res, code, { error: s });
    const desktop = sha(bearer(req)) === s.tokenHash;
    const out = {
      sessionId: s.sessionId, status: s.status, expiresAt: s.expiresAt, maxUploads: s.maxUploads,
      uploadCount: s.uploads.length, phoneConnected: !!s.uploaderHash, uploads: s.uploads.map((u) => uploadView(u, desktop)),
    };
    if (s.uploadKey) out.uploadKey = s.uploadKey;
    if (s.completedAt) out.completedAt = s.completedAt;
    if (now() > s.expiresAt) out.expired = true;
    if (s.maxUploads === 1 && s.uploads.length === 1 && desktop) {
      Object.assign(out, { downloadUrl: downloadUrl(s.uploads[0].uploadKey), contentType: s.uploads[0].contentType, size: s.uploads[0].size });
    }
    return json(res, 200, out);
  }
  if (req.method === 'GET' && p === '/upload-url') {
    const [code, s] = lookup(url.searchParams.get('sessionId'));
    if (code !== 200) return json(res, code, { error: s });
    if (now() > s.expiresAt) return json(res, 400, { error: 'Session expired' });
    if (s.status === 'COMPLETED') return json(res, 400, { error: 'Session already completed' });
    if (s.uploaderHash && sha(bearer(req)) !== s.uploaderHash) return json(res, 403, { error: CLAIMED });
    const ct = url.searchParams.get('contentType') || 'image/*';
    if (ct !== 'image/*' && !types[ct]) return json(res, 400, { error: 'Unsupported contentType' });
    const len = url.searchParams.get('contentLength');
    if (len !== null && !/^\d+$/.test(len)) return json(res, 400, { error: 'contentLength must be a number' });
    if (len !== null && Number(len) > maxBytes) return json(res, 413, { error: 'File too large' });
    if (s.issued >= 2 * s.maxUploads + 10) return json(res, 409, { error: 'Too many upload URLs for this session' });
    s.issued += 1;
    const key = `session-uploads/${s.sessionId}/image-${Date.now()}-${crypto.randomBytes(4).toString('hex')}${types[ct] || ''}`;
    const fileName = cleanName(url.searchParams.get('fileName'));
    s.slots.set(key, { fileName, contentType: ct, used: false });
    Object.assign(s, { status: s.status === 'AWAITING_SCAN' ? 'UPLOAD_REQUESTED' : s.status, uploadKey: key });
    const exp = now() + 300;
    const grant = {
      uploadUrl: `${baseUrl}/objects/${key}?X-Amz-Expires=${exp}&X-Amz-Signature=${sign('PUT' + key + ct + exp)}`,
      uploadKey: key, method: 'PUT', headers: { 'Content-Type': ct }, expiresIn: 300,
      fileName, maxUploads: s.maxUploads, uploadsRemaining: s.maxUploads - s.uploads.length,
    };
    if (!s.uploaderHash) {
      const token = crypto.randomBytes(32).toString('base64url');
      s.uploaderHash = sha(token);
      grant.uploaderToken = token;
      wsSend(s.sessionId, { action: 'PHONE_CONNECTED', sessionId: s.sessionId, timestamp: now() });
    }
    return json(res, 200, grant);
  }
  if (p.startsWith('/objects/')) {
    const key = decodeURIComponent(p.slice(9));
    const exp = url.searchParams.get('X-Amz-Expires');
    if (req.method === 'GET') {
      const o = objects.get(key);
      if (!o || url.searchParams.get('X-Amz-Signature') !== sign('GET' + key + exp)) return json(res, 403, { error: 'Forbidden' });
      const ascii = o.fileName.replace(/[^\x20-\x7e]|["\\]/g, '_');
      res.writeHead(200, {
        'Content-Type': o.type, 'Content-Length': o.body.length, 'Access-Control-Allow-Origin': '*',
        'Content-Disposition': `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(o.fileName)}`,
      });
      return res.end(o.body);
    }
    if (req.method === 'PUT') {
      const ct = req.headers['content-type'] || '';
      if (url.searchParams.get('X-Amz-Signature') !== sign('PUT' + key + ct + exp) || Number(exp) < now()) {
        return json(res, 403, { error: 'SignatureDoesNotMatch' });
      }
      const chunks = [];
      let size = 0;
      req.on('data', (c) => { size += c.length; if (size <= maxBytes) chunks.push(c); });
      req.on('end', () => {
        if (size > maxBytes) return json(res, 413, { error: 'File too large' });
        const body = Buffer.concat(chunks);
        const s = sessions.get(key.split('/')[1]);
        const slot = s.slots.get(key);
        const refuse = (status, error) => {
          wsSend(s.sessionId, { action: 'ERROR', sessionId: s.sessionId, uploadKey: key, fileName: slot && slot.fileName, error, timestamp: now() });
          return json(res, status, { error });
        };
        if (now() > s.expiresAt) return refuse(410, 'Upload rejected: the session has expired');
        if (s.status === 'COMPLETED') return refuse(409, 'Upload rejected: this session already has all its photos');
        if (!slot || slot.used) return refuse(409, 'Upload rejected: this upload URL was already used');
        const actual = sniff(body);
        if (!actual || (ct !== 'image/*' && !sameFamily(actual, ct))) {
          return refuse(422, 'Upload rejected: not ' + (ct === 'image/*' ? 'an image' : 'a ' + ct.slice(6).toUpperCase() + ' image'));
        }
        slot.used = true;
        const u = {
          uploadKey: key, fileName: withExtension(slot.fileName, actual), contentType: actual, size: body.length,
          index: s.uploads.length + 1, completedAt: now(),
        };
        s.uploads.push(u);
        objects.set(key, { body, type: actual, fileName: u.fileName });
        const preview = ['image/heic', 'image/heif'].includes(actual) && makePreview(key, body);
        const remaining = s.maxUploads - s.uploads.length;
        json(res, 200, { uploadKey: key, size: u.size, fileName: u.fileName, index: u.index, uploadsRemaining: remaining });
        wsSend(s.sessionId, { action: 'UPLOAD_COMPLETED', sessionId: s.sessionId, uploadKey: key, timestamp: now(),
          fileName: u.fileName, contentType: actual, size: u.size, index: u.index, maxUploads: s.maxUploads,
          uploadsRemaining: remaining, downloadUrl: downloadUrl(key),
          ...(preview ? { previewUrl: downloadUrl(key + '.preview.jpg') } : {}) });
        saveCopy(s, u, body);
        if (remaining === 0) complete(s, 'full');
      });
      return;
    }
  }
  if (req.method === 'GET') {
    if (p === '/config.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript' });
      return res.end(`window.QR_UPLOAD_CONFIG = ${JSON.stringify({ apiBase: '', wsUrl: '', phoneUrl: baseUrl + '/phone.html', shortLinkBase: baseUrl, maxUploadBytes: maxBytes, ...(saveDir ? { saveDir: path.resolve(saveDir) } : {}) })};\n`);
    }
    const file = path.join(webDir, p === '/' ? 'index.html' : path.normalize(p).replace(/^(\.\.[/\\])+/, ''));
    if (file.startsWith(webDir) && fs.existsSync(file) && fs.statSync(file).isFile()) {
      const ext = path.extname(file);
      const mime = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' }[ext] || 'application/octet-stream';
      res.writeHead(200, { 'Content-Type': mime });
      return res.end(fs.readFileSync(file));
    }
  }
  json(res, 404, { error: 'Not found' });
});

server.on('upgrade', (req, socket) => {
  const url = new URL(req.url, 'http://x');
  const id = url.searchParams.get('sessionId');
  const s = sessions.get(id);
  if (url.pathname !== '/ws' || !s || sha(url.searchParams.get('token') || '') !== s.tokenHash) {
    socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
    return;
  }
  const accept = crypto.createHash('sha1').update(req.headers['sec-websocket-key'] + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  sockets.set(id, socket);
  socket.on('data', (d) => { if ((d[0] & 0x0f) === 8) socket.end(Buffer.from([0x88, 0])); });
  socket.on('close', () => { if (sockets.get(id) === socket) sockets.delete(id); });
  socket.on('error', () => {});
});

server.listen(port, bind, () => {
  baseUrl = `http://${bind}:${server.address().port}`;
  console.log(JSON.stringify({ level: 'INFO', message: 'listening', url: baseUrl }));
});
process.on('SIGTERM', () => process.exit(0));
