// Unit tests of web/qr.js: every symbol it makes must decode, with an independent decoder (jsQR),
// to exactly the text that went in. Run: node --test tests/web/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const QR = require(path.join(here, '..', '..', 'web', 'qr.js'));
const jsQR = require('jsqr');

// The matrix as an RGBA image: `scale` pixels a module, a `margin`-module light quiet zone.
function render(modules, scale = 4, margin = 4) {
  const size = modules.length;
  const px = (size + 2 * margin) * scale;
  const data = new Uint8ClampedArray(px * px * 4).fill(255);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      if (!modules[y][x]) continue;
      for (let dy = 0; dy < scale; dy++) {
        for (let dx = 0; dx < scale; dx++) {
          const i = (((y + margin) * scale + dy) * px + (x + margin) * scale + dx) * 4;
          data[i] = data[i + 1] = data[i + 2] = 0;
        }
      }
    }
  }
  return { data, width: px, height: px };
}

function decode(encoded, scale = encoded.size > 100 ? 2 : 4) {
  const img = render(encoded.modules, scale);
  const result = jsQR(img.data, img.width, img.height, { inversionAttempts: 'dontInvert' });
  assert.ok(result, `jsQR found no code (version ${encoded.version}, mask ${encoded.mask})`);
  return result;
}

function roundTrip(text, options) {
  const encoded = QR.encode(text, options);
  assert.equal(encoded.size, encoded.modules.length);
  assert.equal(encoded.size, 17 + 4 * encoded.version);
  const result = decode(encoded);
  assert.equal(result.data, text, `version ${encoded.version} ${encoded.ecl} mask ${encoded.mask}`);
  assert.equal(result.version, encoded.version);
  return encoded;
}

const uuid = '3f2a9c1e-7b4d-4e8a-9c21-5d6e7f809a1b';

test('short strings', () => {
  for (const text of ['a', 'hello', 'Hello, World!', '0123456789', ' ', '~!@#$%^&*()_+']) roundTrip(text);
});

test('the phone URL the desktop page shows (about 80 characters)', () => {
  const text = `http://192.168.1.20:8080/phone.html?sessionId=${uuid}`;
  const encoded = roundTrip(text);
  assert.equal(encoded.ecl, 'M');
  assert.ok(encoded.version <= 6, `version ${encoded.version}`);
});

test('an AWS-style HTTPS phone URL', () => {
  roundTrip(`https://d111111abcdef8.cloudfront.net/phone.html?sessionId=${uuid}`);
});

test('long strings of 200 and more characters', () => {
  const base = 'The quick brown fox jumps over the lazy dog. ';
  for (const n of [200, 271, 300, 500]) roundTrip(base.repeat(20).slice(0, n));
});

test('UTF-8 text', () => {
  for (const text of ['héllo wörld', 'Grüße aus Köln — 10 €', '日本語のテキスト', 'emoji 📷🖥️', 'Ελληνικά και Русский']) {
    roundTrip(text);
  }
});

test('every length from 1 to 120 picks the smallest fitting version and decodes', () => {
  let previous = 1;
  for (let n = 1; n <= 120; n++) {
    const text = 'x'.repeat(n - 1) + String(n % 10);
    const encoded = roundTrip(text);
    assert.ok(encoded.version >= previous, 'version never shrinks as the text grows');
    previous = encoded.version;
  }
});

test('every version 1 to 40 at every level decodes when filled to capacity', () => {
  const levels = { L: 0, M: 1, Q: 2, H: 3 };
  for (const [ecl, index] of Object.entries(levels)) {
    for (let v = 1; v <= 40; v++) {
      // jsQR 1.4.0 lists version 23's alignment centres as 6, 30, 54, 74, 102; ISO/IEC 18004
      // Annex E has 6, 30, 54, 78, 102 (evenly spaced, as every other version), so jsQR cannot read
      // any version-23 symbol. Its layout is checked against the standard below instead.
      if (v === 23) continue;
      const capacityBits = QR._internals.dataCodewords(v, index) * 8 - 4 - (v <= 9 ? 8 : 16);
      const maxBytes = Math.floor(capacityBits / 8);
      const text = Array.from({ length: maxBytes }, (_, i) => String.fromCharCode(33 + ((i * 7 + v) % 90))).join('');
      const encoded = roundTrip(text, { ecl, fallback: false });
      assert.equal(encoded.version, v, `${maxBytes} bytes should fill version ${v}-${ecl} exactly`);
      assert.equal(encoded.ecl, ecl);
      if (v < 40) assert.throws(() => QR.encode(text + 'y', { ecl, maxVersion: v, fallback: false }), RangeError);
    }
  }
});

test('larger versions (with version information) decode', () => {
  for (const n of [700, 1000]) roundTrip('0123456789abcdef'.repeat(80).slice(0, n));
});

test('all eight masks decode', () => {
  const text = `http://10.0.0.5:8080/phone.html?sessionId=${uuid}`;
  for (let mask = 0; mask < 8; mask++) {
    const encoded = roundTrip(text, { mask });
    assert.equal(encoded.mask, mask);
  }
});

test('the chosen mask has the lowest penalty', () => {
  const text = `http://192.168.1.20:8080/phone.html?sessionId=${uuid}`;
  const chosen = QR.encode(text);
  const chosenScore = QR._internals.penalty({ size: chosen.size, dark: chosen.modules });
  for (let mask = 0; mask < 8; mask++) {
    const other = QR.encode(text, { mask });
    assert.ok(chosenScore <= QR._internals.penalty({ size: other.size, dark: other.modules }));
  }
});

test('levels L, Q and H decode too', () => {
  for (const ecl of ['L', 'Q', 'H']) {
    const encoded = roundTrip(`https://example.test/phone.html?sessionId=${uuid}`, { ecl, fallback: false });
    assert.equal(encoded.ecl, ecl);
  }
});

test('falls back to level L when the text is too long for M', () => {
  const mMax = QR._internals.dataCodewords(40, 1) - 3; // byte mode: 4 + 16 bits of header
  const encoded = QR.encode('z'.repeat(mMax + 10));
  assert.equal(encoded.ecl, 'L');
  assert.ok(encoded.version >= 36, `version ${encoded.version}`);
  assert.throws(() => QR.encode('z'.repeat(mMax + 10), { fallback: false }), RangeError);
  assert.throws(() => QR.encode('z'.repeat(3000)), RangeError);
});

test('known constants of the standard', () => {
  const I = QR._internals;
  // Format information for L/mask 0 and M/mask 0, version information for version 7 (Annex C, D).
  assert.equal(I.formatBits(0, 0), 0b111011111000100);
  assert.equal(I.formatBits(1, 0), 0b101010000010010);
  assert.equal(I.versionBits(7), 0x07c94);
  assert.equal(I.versionBits(40), 0x28c69);
  // Total codewords per version (Table 1).
  assert.deepEqual([1, 2, 7, 10, 14, 21, 40].map(I.totalCodewords), [26, 44, 196, 346, 581, 1156, 3706]);
  // Alignment pattern centres (Annex E), version 32 being the irregular one.
  assert.deepEqual(I.alignmentPositions(2), [6, 18]);
  assert.deepEqual(I.alignmentPositions(15), [6, 26, 48, 70]);
  assert.deepEqual(I.alignmentPositions(23), [6, 30, 54, 78, 102]);
  assert.deepEqual(I.alignmentPositions(32), [6, 34, 60, 86, 112, 138]);
  assert.deepEqual(I.alignmentPositions(40), [6, 30, 58, 86, 114, 142, 170]);
});

test('Reed-Solomon: known error-correction codewords of version 1-M symbols', () => {
  const rs = QR._internals.reedSolomon;
  // "01234567" in numeric mode, the worked example of ISO/IEC 18004 Annex I.
  assert.deepEqual(rs([16, 32, 12, 86, 97, 128, 236, 17, 236, 17, 236, 17, 236, 17, 236, 17], 10),
    [165, 36, 212, 193, 237, 54, 199, 135, 44, 85]);
  // "HELLO WORLD" in alphanumeric mode.
  assert.deepEqual(rs([32, 91, 11, 120, 209, 114, 220, 77, 67, 64, 236, 17, 236, 17, 236, 17], 10),
    [196, 35, 39, 119, 235, 215, 231, 226, 93, 23]);
});

test('toSvg draws one square per dark module inside a quiet zone', () => {
  const encoded = QR.encode('svg test');
  const svg = QR.toSvg(encoded, { scale: 10, margin: 4 });
  const full = encoded.size + 8;
  assert.match(svg, new RegExp(`^<svg [^>]*width="${full * 10}" height="${full * 10}"`));
  assert.match(svg, new RegExp(`viewBox="0 0 ${full} ${full}"`));
  const darkCount = encoded.modules.flat().filter(Boolean).length;
  assert.equal((svg.match(/h1v1h-1z/g) || []).length, darkCount);
  assert.equal(QR.toSvg('svg test'), QR.toSvg(encoded));
});

test('toCanvas paints a decodable image', () => {
  // A minimal canvas stand-in that records fillRect calls into an RGBA buffer.
  const canvas = {
    width: 0, height: 0,
    getContext() {
      const c = this;
      c.pixels = null;
      return {
        fillStyle: '#fff',
        fillRect(x, y, w, h) {
          if (!c.pixels) c.pixels = new Uint8ClampedArray(c.width * c.height * 4);
          const v = this.fillStyle === '#000' ? 0 : 255;
          for (let yy = y; yy < y + h; yy++) {
            for (let xx = x; xx < x + w; xx++) {
              const i = (yy * c.width + xx) * 4;
              c.pixels[i] = c.pixels[i + 1] = c.pixels[i + 2] = v;
              c.pixels[i + 3] = 255;
            }
          }
        },
      };
    },
  };
  const text = `http://127.0.0.1:8080/phone.html?sessionId=${uuid}`;
  QR.toCanvas(canvas, text, { scale: 3, margin: 4 });
  const result = jsQR(canvas.pixels, canvas.width, canvas.height);
  assert.ok(result);
  assert.equal(result.data, text);
});
