#!/usr/bin/env node
// A stand-in for `qr-upload serve`, written from docs/API.md, for working on the pages and the
// browser test without the C++ build: QR_UPLOAD_BIN=tests/e2e/fake-server.mjs node --test ...
// It takes the same flags and prints the same "listening" log line. ctest runs the real binary.
import http from 'node:http';
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
const port = Number(flag('--port', '8080'));
const bind = flag('--bind', '127.0.0.1');
const maxBytes = Number(flag('--max-upload-bytes', String(25 * 1024 * 1024)));
const ttl = Number(flag('--session-ttl-seconds', '1800'));
const types = { 'image/jpeg': '.jpg', 'image/png': '.png', 'image/gif': '.gif', 'image/webp': '.webp', 'image/heic': '.heic', 'image/heif': '.heif' };
const sessions = new Map();
const objects = new Map();
const sockets = new Map(); // sessionId -> socket
const secret = crypto.randomBytes(16);
const now = () => Math.floor(Date.now() / 1000);
const sha = (s) => crypto.createHash('sha256').update(s).digest('hex');
const sign = (s) => crypto.createHmac('sha256', secret).update(s).digest('hex');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
let baseUrl = '';

function json(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Access-Control-Allow-Origin': '*',
    'Access-Control-Allow-Headers': 'Authorization,Content-Type', 'Access-Control-Allow-Methods': 'GET,POST,PUT,OPTIONS' });
  res.end(JSON.stringify(body));
}
function lookup(id) {
  if (!id) return [400, 'sessionId is required'];
  if (!UUID.test(id)) return [404, 'Invalid sessionId format'];
  const s = sessions.get(id);
  if (!s) return [404, 'Session not found'];
  return [200, s];
}
function sniff(b) {
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b.subarray(0, 8).toString('latin1') === '\x89PNG\r\n\x1a\n') return 'image/png';
  if (/^GIF8[79]a/.test(b.subarray(0, 6).toString('latin1'))) return 'image/gif';
  if (b.subarray(0, 4).toString() === 'RIFF' && b.subarray(8, 12).toString() === 'WEBP') return 'image/webp';
  return null;
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

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const p = url.pathname;
  if (req.method === 'OPTIONS') return json(res, 204, {});
  if (req.method === 'POST' && p === '/sessions') {
    const id = crypto.randomUUID();
    const token = crypto.randomBytes(32).toString('base64url');
    sessions.set(id, { sessionId: id, status: 'AWAITING_SCAN', createdAt: now(), expiresAt: now() + ttl, tokenHash: sha(token) });
    return json(res, 200, { sessionId: id, expiresAt: now() + ttl, desktopToken: token });
  }
  if (req.method === 'GET' && p.startsWith('/sessions/')) {
    const [code, s] = lookup(decodeURIComponent(p.slice(10)));
    if (code !== 200) return json(res, code, { error: s });
    const out = { sessionId: s.sessionId, status: s.status, expiresAt: s.expiresAt };
    if (s.uploadKey) out.uploadKey = s.uploadKey;
    if (s.completedAt) out.completedAt = s.completedAt;
    if (now() > s.expiresAt) out.expired = true;
    const auth = req.headers.authorization || '';
    if (s.status === 'COMPLETED' && auth.startsWith('Bearer ') && sha(auth.slice(7)) === s.tokenHash) {
      Object.assign(out, { downloadUrl: downloadUrl(s.uploadKey), contentType: s.contentType, size: s.size });
    }
    return json(res, 200, out);
  }
  if (req.method === 'GET' && p === '/upload-url') {
    const [code, s] = lookup(url.searchParams.get('sessionId'));
    if (code !== 200) return json(res, code, { error: s });
    if (now() > s.expiresAt) return json(res, 400, { error: 'Session expired' });
    if (s.status === 'COMPLETED') return json(res, 400, { error: 'Session already completed' });
    const ct = url.searchParams.get('contentType') || 'image/*';
    if (ct !== 'image/*' && !types[ct]) return json(res, 400, { error: 'Unsupported contentType' });
    const len = url.searchParams.get('contentLength');
    if (len !== null && !/^\d+$/.test(len)) return json(res, 400, { error: 'contentLength must be a number' });
    if (len !== null && Number(len) > maxBytes) return json(res, 413, { error: 'File too large' });
    const key = `session-uploads/${s.sessionId}/image-${Date.now()}${types[ct] || ''}`;
    Object.assign(s, { status: 'UPLOAD_REQUESTED', uploadKey: key, contentType: ct });
    const exp = now() + 300;
    return json(res, 200, { uploadUrl: `${baseUrl}/objects/${key}?X-Amz-Expires=${exp}&X-Amz-Signature=${sign('PUT' + key + ct + exp)}`,
      uploadKey: key, method: 'PUT', headers: { 'Content-Type': ct }, expiresIn: 300 });
  }
  if (p.startsWith('/objects/')) {
    const key = decodeURIComponent(p.slice(9));
    const exp = url.searchParams.get('X-Amz-Expires');
    if (req.method === 'GET') {
      const o = objects.get(key);
      if (!o || url.searchParams.get('X-Amz-Signature') !== sign('GET' + key + exp)) return json(res, 403, { error: 'Forbidden' });
      res.writeHead(200, { 'Content-Type': o.type, 'Content-Length': o.body.length });
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
        json(res, 200, {});
        const actual = sniff(body);
        if (!actual || (ct !== 'image/*' && actual !== ct)) {
          return wsSend(s.sessionId, { action: 'ERROR', sessionId: s.sessionId, error: 'Upload rejected: not an image of type ' + ct, timestamp: now() });
        }
        objects.set(key, { body, type: actual });
        Object.assign(s, { status: 'COMPLETED', completedAt: now(), size: body.length, contentType: actual });
        wsSend(s.sessionId, { action: 'UPLOAD_COMPLETED', sessionId: s.sessionId, uploadKey: key, timestamp: now(),
          downloadUrl: downloadUrl(key), contentType: actual, size: body.length });
      });
      return;
    }
  }
  if (req.method === 'GET') {
    if (p === '/config.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript' });
      return res.end(`window.QR_UPLOAD_CONFIG = ${JSON.stringify({ apiBase: baseUrl, wsUrl: baseUrl.replace('http', 'ws') + '/ws', phoneUrl: baseUrl + '/phone.html', maxUploadBytes: maxBytes })};\n`);
    }
    const file = path.join(webDir, p === '/' ? 'index.html' : path.normalize(p).replace(/^(\.\.[/\\])+/, ''));
    if (file.startsWith(webDir) && fs.existsSync(file) && fs.statSync(file).isFile()) {
      const ext = path.extname(file);
      const mime = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css' }[ext] || 'application/octet-stream';
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
