// Multi-photo sessions against the running `qr-upload serve`: several photos per scan, into a
// folder under their own names, kept across a restart, refused clearly when they do not count.
//
// Run: npm ci --prefix tests/local/http
//      QR_UPLOAD_BIN=build/src/local/qr-upload node --test tests/local/http/multi_photo.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import WebSocket from 'ws';
import { startServer, tempDir, waitFor } from './harness.mjs';

function jpeg(size) {
  return Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]), Buffer.from('JFIF\0'),
    crypto.randomBytes(size), Buffer.from([0xff, 0xd9])]);
}

async function createSession(base, maxUploads) {
  const res = await fetch(`${base}/sessions`, { method: 'POST', body: JSON.stringify({ maxUploads }) });
  assert.equal(res.status, 200);
  return res.json();
}

/** The phone: asks for a slot (presenting its uploader token once it has one) and PUTs. */
async function send(base, sessionId, name, bytes, uploaderToken) {
  const q = `sessionId=${sessionId}&contentType=image%2Fjpeg&fileName=${encodeURIComponent(name)}`;
  const issued = await fetch(`${base}/upload-url?${q}`, {
    headers: uploaderToken ? { Authorization: `Bearer ${uploaderToken}` } : {},
  });
  const slot = await issued.json();
  if (issued.status !== 200) return { issued: issued.status, slot };
  const put = await fetch(slot.uploadUrl, { method: 'PUT', headers: slot.headers, body: bytes });
  return { issued: 200, slot, status: put.status, answer: await put.json() };
}

/** A desktop WebSocket collecting its messages. */
async function desktop(base, session) {
  const ws = new WebSocket(`${base.replace('http', 'ws')}/ws?sessionId=${session.sessionId}&token=${session.desktopToken}`);
  const messages = [];
  ws.on('message', (m) => messages.push(JSON.parse(m.toString())));
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  return { ws, messages, actions: () => messages.map((m) => m.action) };
}

test('photos of one scan land in the folder under their names, never over each other', async () => {
  const folder = path.join(tempDir(), 'Pictures');
  fs.mkdirSync(folder);
  fs.writeFileSync(path.join(folder, 'IMG_4821.JPG'), 'the user\'s own file');
  const server = await startServer({ args: ['--save-dir', folder] });
  try {
    const config = await (await fetch(`${server.base}/config.js`)).text();
    assert.match(config, new RegExp(`"saveDir":"${folder}"`), 'the page can say where photos go');
    const session = await createSession(server.base, 3);
    const desk = await desktop(server.base, session);
    const a = jpeg(40_000);
    const b = jpeg(50_000);
    const first = await send(server.base, session.sessionId, 'IMG_4821.JPG', a);
    assert.equal(first.status, 200);
    assert.equal(first.answer.fileName, 'IMG_4821.JPG');
    assert.equal(first.answer.index, 1);
    assert.equal(first.answer.uploadsRemaining, 2);
    assert.equal(first.answer.savedAs, path.join(folder, 'IMG_4821 (2).JPG'));
    const second = await send(server.base, session.sessionId, '../../etc/passwd', b, first.slot.uploaderToken);
    assert.equal(second.status, 200);
    assert.equal(second.answer.savedAs, path.join(folder, 'passwd.jpg'), 'no path, the type\'s extension');
    assert.equal(fs.readFileSync(path.join(folder, 'IMG_4821.JPG'), 'utf8'), 'the user\'s own file');
    assert.ok(fs.readFileSync(path.join(folder, 'IMG_4821 (2).JPG')).equals(a));
    assert.ok(fs.readFileSync(path.join(folder, 'passwd.jpg')).equals(b));
    assert.equal(fs.statSync(path.join(folder, 'passwd.jpg')).mode & 0o777, 0o600, 'private to the user');
    assert.deepEqual(fs.readdirSync(folder).sort(), ['IMG_4821 (2).JPG', 'IMG_4821.JPG', 'passwd.jpg']);

    await waitFor(() => desk.actions().filter((x) => x === 'UPLOAD_SAVED').length === 2, 5000, 'UPLOAD_SAVED twice');
    assert.deepEqual(desk.actions().slice(0, 3), ['PHONE_CONNECTED', 'UPLOAD_COMPLETED', 'UPLOAD_SAVED']);
    const saved = desk.messages.find((m) => m.action === 'UPLOAD_SAVED');
    assert.equal(saved.savedAs, path.join(folder, 'IMG_4821 (2).JPG'));
    const photo = desk.messages.find((m) => m.action === 'UPLOAD_COMPLETED');
    const download = await fetch(photo.downloadUrl);
    assert.equal(download.status, 200);
    assert.equal(download.headers.get('content-disposition'),
      'attachment; filename="IMG_4821.JPG"; filename*=UTF-8\'\'IMG_4821.JPG');
    assert.ok(Buffer.from(await download.arrayBuffer()).equals(a));
    // The signature covers the name: another one is refused.
    const forged = photo.downloadUrl.replace('IMG_4821.JPG', 'evil.exe');
    assert.equal((await fetch(forged)).status, 403);
    desk.ws.close();
  } finally {
    await server.stop();
  }
});

test('a restart in the middle of a session keeps every acknowledged photo and the count', async () => {
  const server = await startServer();
  const session = await createSession(server.base, 5);
  const photos = [jpeg(30_000), jpeg(31_000)];
  const first = await send(server.base, session.sessionId, 'one.jpg', photos[0]);
  const token = first.slot.uploaderToken;
  const second = await send(server.base, session.sessionId, 'two.jpg', photos[1], token);
  assert.deepEqual([first.status, second.status], [200, 200]);
  // A kill, not a clean stop: what was acknowledged must be on disk already.
  server.child.kill('SIGKILL');
  await waitFor(() => server.child.exitCode !== null || server.child.signalCode !== null, 5000, 'the kill');

  const again = await startServer({ dataDir: server.dataDir });
  try {
    const state = await (await fetch(`${again.base}/sessions/${session.sessionId}`, {
      headers: { Authorization: `Bearer ${session.desktopToken}` } })).json();
    assert.equal(state.uploadCount, 2);
    assert.equal(state.status, 'UPLOAD_REQUESTED');
    assert.deepEqual(state.uploads.map((u) => [u.fileName, u.index]), [['one.jpg', 1], ['two.jpg', 2]]);
    for (const [i, upload] of state.uploads.entries()) {
      const got = await fetch(upload.downloadUrl.replace(server.base, again.base));
      assert.ok(Buffer.from(await got.arrayBuffer()).equals(photos[i]), `photo ${i + 1} byte-identical`);
    }
    // The phone goes on with its token: the third photo is the third.
    const third = await send(again.base, session.sessionId, 'three.jpg', jpeg(1000), token);
    assert.equal(third.status, 200);
    assert.equal(third.answer.index, 3);
    // Another device that scanned the same code is refused.
    const stranger = await send(again.base, session.sessionId, 'x.jpg', jpeg(10));
    assert.equal(stranger.issued, 403);
    assert.match(stranger.slot.error, /already in use by another phone/);
  } finally {
    await again.stop();
  }
});

test('photos that do not count are refused with the reason and leave nothing behind', async () => {
  const server = await startServer();
  try {
    const session = await createSession(server.base, 1);
    const desk = await desktop(server.base, session);
    const first = await send(server.base, session.sessionId, 'a.jpg', jpeg(100));
    const token = first.slot.uploaderToken;
    // A second URL asked for before the first photo landed: the session has room for one.
    const issued = await fetch(`${server.base}/upload-url?sessionId=${session.sessionId}&contentType=image%2Fjpeg`,
      { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(issued.status, 400, 'full: no more URLs');
    assert.equal(first.status, 200);
    await waitFor(() => desk.actions().includes('SESSION_COMPLETED'), 5000, 'SESSION_COMPLETED');
    const end = desk.messages.find((m) => m.action === 'SESSION_COMPLETED');
    assert.deepEqual([end.reason, end.uploadCount], ['full', 1]);

    const other = await createSession(server.base, 2);
    const one = await send(server.base, other.sessionId, 'a.jpg', jpeg(100));
    const slotTwo = await (await fetch(`${server.base}/upload-url?sessionId=${other.sessionId}&contentType=image%2Fjpeg`,
      { headers: { Authorization: `Bearer ${one.slot.uploaderToken}` } })).json();
    const done = await fetch(`${server.base}/sessions/${other.sessionId}/complete`,
      { method: 'POST', headers: { Authorization: `Bearer ${other.desktopToken}` } });
    assert.equal(done.status, 200);
    const late = await fetch(slotTwo.uploadUrl, { method: 'PUT', headers: slotTwo.headers, body: jpeg(100) });
    assert.equal(late.status, 409);
    assert.match((await late.json()).error, /already has all its photos/);
    const objects = path.join(server.dataDir, 'objects', 'session-uploads', other.sessionId);
    assert.deepEqual(fs.readdirSync(objects), [path.basename(one.slot.uploadKey)], 'the refused bytes are gone');
    desk.ws.close();
  } finally {
    await server.stop();
  }
});

/** A real PNG (filled with a gradient), so heif-enc can make a real HEIC of it. */
function png(width, height) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([len, body, sum]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;  // truecolour
  const rows = [];
  for (let y = 0; y < height; y++) {
    rows.push(Buffer.from([0]));
    const row = Buffer.alloc(width * 3);
    for (let x = 0; x < width; x++) row.set([x % 256, y % 256, 128], x * 3);
    rows.push(row);
  }
  return Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'binary'), chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0))]);
}

test('a HEIC photo gets a JPEG preview the desktop can show; the original is kept as sent', async () => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'in.png'), png(640, 480));
  execFileSync('heif-enc', ['-q', '60', '-o', path.join(dir, 'IMG_0001.HEIC'), path.join(dir, 'in.png')]);
  const heic = fs.readFileSync(path.join(dir, 'IMG_0001.HEIC'));
  const server = await startServer();
  try {
    const session = await createSession(server.base, 2);
    const desk = await desktop(server.base, session);
    const q = `sessionId=${session.sessionId}&contentType=image%2Fheic&fileName=IMG_0001.HEIC`;
    const slot = await (await fetch(`${server.base}/upload-url?${q}`)).json();
    const put = await fetch(slot.uploadUrl, { method: 'PUT', headers: slot.headers, body: heic });
    assert.equal(put.status, 200, await put.clone().text());
    await waitFor(() => desk.messages.find((m) => m.action === 'UPLOAD_COMPLETED'), 5000, 'UPLOAD_COMPLETED');
    const photo = desk.messages.find((m) => m.action === 'UPLOAD_COMPLETED');
    assert.ok(photo.previewUrl, 'a preview link');
    const preview = Buffer.from(await (await fetch(photo.previewUrl)).arrayBuffer());
    assert.deepEqual([...preview.subarray(0, 3)], [0xff, 0xd8, 0xff], 'a JPEG');
    // Its size, from the first SOFn segment.
    let at = 2;
    while (preview[at + 1] < 0xc0 || preview[at + 1] > 0xc3) at += 2 + preview.readUInt16BE(at + 2);
    assert.deepEqual([preview.readUInt16BE(at + 7), preview.readUInt16BE(at + 5)], [640, 480]);
    const original = Buffer.from(await (await fetch(photo.downloadUrl)).arrayBuffer());
    assert.ok(original.equals(heic), 'the download is the HEIC as sent');
    const listed = await (await fetch(`${server.base}/sessions/${session.sessionId}`,
      { headers: { Authorization: `Bearer ${session.desktopToken}` } })).json();
    assert.ok(listed.uploads[0].previewUrl, 'a reloaded page finds the preview too');
    // A JPEG gets none: browsers show it as it is.
    const jpegSlot = await (await fetch(`${server.base}/upload-url?sessionId=${session.sessionId}&contentType=image%2Fjpeg`,
      { headers: { Authorization: `Bearer ${slot.uploaderToken}` } })).json();
    await fetch(jpegSlot.uploadUrl, { method: 'PUT', headers: jpegSlot.headers, body: jpeg(100) });
    await waitFor(() => desk.messages.filter((m) => m.action === 'UPLOAD_COMPLETED').length === 2, 5000, 'second photo');
    assert.equal(desk.messages.filter((m) => m.action === 'UPLOAD_COMPLETED')[1].previewUrl, undefined);
    desk.ws.close();
  } finally {
    await server.stop();
  }
});
