// Unit tests of web/common.js, the helpers both pages share. Run: node --test tests/web/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const require = createRequire(import.meta.url);
const U = require(path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'web', 'common.js'));

const httpLoc = { origin: 'http://192.168.1.20:8080', protocol: 'http:', host: '192.168.1.20:8080' };
const httpsLoc = { origin: 'https://uploads.example.test', protocol: 'https:', host: 'uploads.example.test' };

test('empty configuration means same origin', () => {
  const empty = { apiBase: '', wsUrl: '', phoneUrl: '', maxUploadBytes: 26214400 };
  assert.deepEqual(U.resolveConfig(empty, httpLoc), {
    apiBase: 'http://192.168.1.20:8080',
    wsUrl: 'ws://192.168.1.20:8080/ws',
    phoneUrl: 'http://192.168.1.20:8080/phone.html',
    maxUploadBytes: 26214400,
    confirmTimeoutMs: 15000,
    shortLinkBase: '',
  });
  assert.equal(U.resolveConfig(empty, httpsLoc).wsUrl, 'wss://uploads.example.test/ws');
  assert.equal(U.resolveConfig(undefined, httpLoc).maxUploadBytes, 25 * 1024 * 1024);
});

test('explicit configuration wins; a trailing slash on apiBase is dropped', () => {
  const cfg = U.resolveConfig({
    apiBase: 'https://abc.execute-api.eu-west-1.amazonaws.com/prod/',
    wsUrl: 'wss://def.execute-api.eu-west-1.amazonaws.com/prod',
    phoneUrl: 'https://d1.cloudfront.net/phone.html',
    maxUploadBytes: 1000,
  }, httpsLoc);
  assert.equal(cfg.apiBase, 'https://abc.execute-api.eu-west-1.amazonaws.com/prod');
  assert.equal(cfg.wsUrl, 'wss://def.execute-api.eu-west-1.amazonaws.com/prod');
  assert.equal(cfg.phoneUrl, 'https://d1.cloudfront.net/phone.html');
  assert.equal(cfg.maxUploadBytes, 1000);
  assert.equal(U.resolveConfig({ confirmTimeoutMs: 1500 }, httpsLoc).confirmTimeoutMs, 1500);
  assert.equal(U.resolveConfig({ confirmTimeoutMs: 'x' }, httpsLoc).confirmTimeoutMs, 15000);
  assert.equal(U.resolveConfig({ confirmTimeoutMs: 90000 }, httpsLoc).confirmTimeoutMs, 90000, 'what deploy.sh writes');
  assert.equal(U.resolveConfig({ shortLinkBase: 'http://192.168.1.5:8080/' }, httpLoc).shortLinkBase, 'http://192.168.1.5:8080');
  assert.equal(U.resolveConfig({ shortLinkBase: 42 }, httpLoc).shortLinkBase, '');
});

test('withQuery appends and encodes parameters', () => {
  assert.equal(U.withQuery('http://h/phone.html', { sessionId: 'a b' }), 'http://h/phone.html?sessionId=a%20b');
  assert.equal(U.withQuery('wss://h/prod?x=1', { sessionId: 's', token: 't+/=' }), 'wss://h/prod?x=1&sessionId=s&token=t%2B%2F%3D');
  assert.equal(U.withQuery('http://h/', { skipped: undefined }), 'http://h/');
});

test('sniffImageType recognises the allowed images by their bytes', () => {
  const b = (...parts) => Uint8Array.from(parts.flatMap((p) => typeof p === 'string' ? [...p].map((c) => c.charCodeAt(0)) : p));
  assert.equal(U.sniffImageType(b([0xff, 0xd8, 0xff, 0xe0], 'JFIF')), 'image/jpeg');
  assert.equal(U.sniffImageType(b([0x89], 'PNG\r\n\x1a\n', [0, 0, 0, 13])), 'image/png');
  assert.equal(U.sniffImageType(b('GIF89a', [1, 0])), 'image/gif');
  assert.equal(U.sniffImageType(b('GIF87a')), 'image/gif');
  assert.equal(U.sniffImageType(b('RIFF', [0, 0, 0, 0], 'WEBPVP8 ')), 'image/webp');
  assert.equal(U.sniffImageType(b([0, 0, 0, 24], 'ftypheic', [0, 0, 0, 0])), 'image/heic');
  assert.equal(U.sniffImageType(b([0, 0, 0, 24], 'ftypmif1', [0, 0, 0, 0])), 'image/heif');
  assert.equal(U.sniffImageType(b([0, 0, 0, 24], 'ftypisom', [0, 0, 0, 0])), null, 'an MP4 is no image');
  assert.equal(U.sniffImageType(b('just some text')), null);
  assert.equal(U.sniffImageType(b('RIFF', [0, 0, 0, 0], 'WAVEfmt ')), null);
  assert.equal(U.sniffImageType(new Uint8Array(0)), null);
});

test('uploadContentType signs what the bytes are', () => {
  assert.equal(U.uploadContentType('image/png', 'image/png'), 'image/png');
  assert.equal(U.uploadContentType('image/jpeg', 'image/png'), 'image/png', 'a PNG named .jpg');
  assert.equal(U.uploadContentType('', 'image/jpeg'), 'image/jpeg', 'no type from the browser');
  assert.equal(U.uploadContentType('image/heif', 'image/heic'), 'image/heif', 'HEIF family keeps the declared type');
  assert.equal(U.uploadContentType('image/png', null), null);
});

test('allow-list of types', () => {
  for (const t of ['image/jpeg', 'image/png', 'image/gif', 'image/webp', 'image/heic', 'image/heif', 'IMAGE/JPEG']) {
    assert.ok(U.isAllowedType(t), t);
  }
  for (const t of ['text/plain', 'image/svg+xml', 'image/bmp', '', undefined]) assert.ok(!U.isAllowedType(t), String(t));
});

test('isUuid', () => {
  assert.ok(U.isUuid('3f2a9c1e-7b4d-4e8a-9c21-5d6e7f809a1b'));
  assert.ok(!U.isUuid('3f2a9c1e-7b4d-4e8a-9c21-5d6e7f809a1'));
  assert.ok(!U.isUuid('../../etc/passwd'));
  assert.ok(!U.isUuid(null));
});

test('formatting for people', () => {
  assert.equal(U.formatCountdown(1800), '30:00');
  assert.equal(U.formatCountdown(61.9), '01:01');
  assert.equal(U.formatCountdown(-5), '00:00');
  assert.equal(U.formatBytes(999), '999 bytes');
  assert.equal(U.formatBytes(1536), '1.5 KB');
  assert.equal(U.formatBytes(26214400), '25 MB');
  assert.equal(U.formatBytes(3 * 1024 * 1024 + 200000), '3.2 MB');
});

test('errorMessageFrom reads JSON errors, S3 XML errors, or falls back to the status', () => {
  assert.equal(U.errorMessageFrom(400, 'Bad Request', '{"error":"Session expired"}'), 'Session expired');
  assert.equal(U.errorMessageFrom(403, 'Forbidden',
    '<?xml version="1.0"?><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match</Message></Error>'),
  'The request signature we calculated does not match');
  assert.equal(U.errorMessageFrom(502, 'Bad Gateway', '<html>oops</html>'), 'HTTP 502 Bad Gateway');
  assert.equal(U.errorMessageFrom(500, '', ''), 'HTTP 500');
});

test('formatProgress puts both amounts in the larger one\'s unit', () => {
  assert.equal(U.formatProgress(1.2 * 1024 * 1024, 6.3 * 1024 * 1024), '1.2 of 6.3 MB');
  assert.equal(U.formatProgress(0, 26 * 1024), '0 of 26 KB');
  assert.equal(U.formatProgress(5 * 1024 * 1024, 40 * 1024 * 1024), '5 of 40 MB');
  assert.equal(U.formatProgress(10, 900), '10 of 900 bytes');
});

test('formatTimeLeft says seconds, then minutes, and nothing it cannot know', () => {
  assert.equal(U.formatTimeLeft(0.4), 'about 1 s left');
  assert.equal(U.formatTimeLeft(12.4), 'about 12 s left');
  assert.equal(U.formatTimeLeft(89), 'about 89 s left');
  assert.equal(U.formatTimeLeft(185), 'about 3 min left');
  assert.equal(U.formatTimeLeft(Infinity), '');
  assert.equal(U.formatTimeLeft(NaN), '');
  assert.equal(U.formatTimeLeft(-1), '');
});

test('shortCode: 6 digits from the session id\'s first 8 hex digits, as the server derives it', () => {
  const id = '3f2a9c1e-7b4d-4e8a-9c21-5d6e7f809a1b';
  // 0x3f2a9c1e = 1059757086; modulo 1,000,000: 757086.
  assert.equal(U.shortCode(id), '757086');
  assert.equal(U.shortCode(id.toUpperCase()), '757086');
  assert.equal(U.shortCode('3f2a8c1e-7b4d-4e8a-9c21-5d6e7f809a1b'), '752990'); // 0x3f2a8c1e = 1059752990
  // Zero-padded, and the arithmetic is unsigned 32-bit: 0xffffffff = 4294967295.
  assert.equal(U.shortCode('00000000-0000-4000-8000-000000000000'), '000000');
  assert.equal(U.shortCode('000003e8-0000-4000-8000-000000000000'), '001000');
  assert.equal(U.shortCode('ffffffff-0000-4000-8000-000000000000'), '967295');
  // The formula of the issue, for many ids.
  for (let i = 0; i < 200; i++) {
    const hex = (Math.floor(Math.random() * 2 ** 32)).toString(16).padStart(8, '0');
    const sid = `${hex}-7b4d-4e8a-9c21-5d6e7f809a1b`;
    assert.equal(U.shortCode(sid), String(parseInt(sid.replace(/-/g, '').slice(0, 8), 16) % 1000000).padStart(6, '0'));
  }
  assert.equal(U.shortCode('not a uuid'), '');
  assert.equal(U.shortCode(''), '');
  assert.equal(U.shortCode(undefined), '');
});

test('isShortCode and groupCode: "483921" is shown "483 921"', () => {
  assert.ok(U.isShortCode('483921'));
  assert.ok(U.isShortCode('000000'));
  for (const bad of ['48392', '4839211', '483 921', 'abcdef', '', null, 483921]) assert.ok(!U.isShortCode(bad), String(bad));
  assert.equal(U.groupCode('483921'), '483 921');
  assert.equal(U.groupCode('000042'), '000 042');
  assert.equal(U.groupCode('4839'), '4839', 'anything but 6 digits as it is');
  assert.equal(U.groupCode(''), '');
});

test('codeFromInput: what people type or paste, down to its digits', () => {
  assert.equal(U.codeFromInput('483921'), '483921');
  assert.equal(U.codeFromInput('483 921'), '483921');
  assert.equal(U.codeFromInput('483-921'), '483921');
  assert.equal(U.codeFromInput(' 483\u00a0921 '), '483921');
  assert.equal(U.codeFromInput('483.921\n'), '483921');
  assert.equal(U.codeFromInput('48392'), '48392', 'too short stays too short');
  assert.equal(U.codeFromInput('4839210'), '4839210', 'too long stays too long');
  assert.equal(U.codeFromInput('abc'), '');
  assert.equal(U.codeFromInput(undefined), '');
  // A pasted short link gives its code, not the address's digits too.
  assert.equal(U.codeFromInput('192.168.1.5:8080/c/483921'), '483921');
  assert.equal(U.codeFromInput('http://192.168.1.5:8080/c/012345'), '012345');
});

test('shortLink and displayUrl: the link to open, and how it is written for people', () => {
  assert.equal(U.shortLink('http://192.168.1.5:8080', '483921'), 'http://192.168.1.5:8080/c/483921');
  assert.equal(U.shortLink('http://192.168.1.5:8080/', '483921'), 'http://192.168.1.5:8080/c/483921');
  assert.equal(U.displayUrl('http://192.168.1.5:8080/c/483921'), '192.168.1.5:8080/c/483921');
  assert.equal(U.displayUrl('https://d1234abcd.cloudfront.net/phone.html'), 'd1234abcd.cloudfront.net/phone.html');
  assert.equal(U.displayUrl('https://d1.cloudfront.net/phone.html?sessionId=x#y'), 'd1.cloudfront.net/phone.html');
  assert.equal(U.displayUrl('https://photos.example.test/'), 'photos.example.test');
  assert.equal(U.displayUrl(''), '');
});

test('retryAfterSeconds: a 429\'s Retry-After in seconds or as a date', () => {
  assert.equal(U.retryAfterSeconds('30'), 30);
  assert.equal(U.retryAfterSeconds(' 5 '), 5);
  const now = Date.parse('2024-05-01T12:00:00Z');
  assert.equal(U.retryAfterSeconds('Wed, 01 May 2024 12:00:42 GMT', now), 42);
  assert.equal(U.retryAfterSeconds('Wed, 01 May 2024 11:00:00 GMT', now), 0);
  assert.equal(U.retryAfterSeconds(null), null);
  assert.equal(U.retryAfterSeconds(''), null);
  assert.equal(U.retryAfterSeconds('soon'), null);
});

test('typeName: what people call the types, never a MIME type', () => {
  assert.equal(U.typeName('image/jpeg'), 'JPEG');
  assert.equal(U.typeName('IMAGE/HEIC'), 'HEIC');
  assert.equal(U.typeName('image/avif'), 'AVIF');
  assert.equal(U.typeName(''), 'image');
  assert.equal(U.typeName('application/octet-stream'), 'image');
});

test('AVIF is recognised and allowed, as on the server', () => {
  const b = (...parts) => Uint8Array.from(parts.flatMap((p) => typeof p === 'string' ? [...p].map((c) => c.charCodeAt(0)) : p));
  assert.equal(U.sniffImageType(b([0, 0, 0, 28], 'ftypavif', [0, 0, 0, 0])), 'image/avif');
  assert.ok(U.isAllowedType('image/avif'));
});
