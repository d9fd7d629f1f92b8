/*
 * QR Code encoder (ISO/IEC 18004), written for qr-upload.
 *
 * Byte mode only (the text is encoded as UTF-8), error-correction levels L, M, Q and H,
 * versions 1..40, Reed-Solomon over GF(256), all eight masks scored with the four penalty rules,
 * format and version information.
 *
 * Works as a classic <script> (defines the global `QR`) and as a CommonJS module (node tests).
 *
 *   QR.encode(text, {ecl: 'M', minVersion: 1, mask: -1}) -> {version, ecl, mask, size, modules}
 *     modules[y][x] is true for a dark module.
 *   QR.toSvg(text | encoded, {scale: 8, margin: 4, dark: '#000', light: '#fff'}) -> '<svg ...>'
 *   QR.toCanvas(canvas, text | encoded, {scale, margin, dark, light}) draws on a <canvas>.
 */
(function (root) {
  'use strict';

  // ---- GF(256) with the QR primitive polynomial x^8 + x^4 + x^3 + x^2 + 1 (0x11D) ----
  var EXP = new Array(512);
  var LOG = new Array(256);
  (function buildTables() {
    var x = 1;
    for (var i = 0; i < 255; i++) {
      EXP[i] = x;
      LOG[x] = i;
      x <<= 1;
      if (x & 0x100) x ^= 0x11d;
    }
    // Doubling the table spares a modulo in every multiplication.
    for (var j = 255; j < 512; j++) EXP[j] = EXP[j - 255];
  })();

  function gfMul(a, b) {
    if (a === 0 || b === 0) return 0;
    return EXP[LOG[a] + LOG[b]];
  }

  // Generator polynomial (x - a^0)(x - a^1)...(x - a^(n-1)), highest degree first, leading 1 dropped.
  var generatorCache = {};
  function generator(degree) {
    if (generatorCache[degree]) return generatorCache[degree];
    var poly = [1];
    for (var i = 0; i < degree; i++) {
      var next = new Array(poly.length + 1);
      for (var k = 0; k < next.length; k++) next[k] = 0;
      var root = EXP[i];
      for (var j = 0; j < poly.length; j++) {
        next[j] ^= poly[j];                  // * x
        next[j + 1] ^= gfMul(poly[j], root); // * a^i (minus is plus in GF(2^8))
      }
      poly = next;
    }
    generatorCache[degree] = poly.slice(1);
    return generatorCache[degree];
  }

  // The n error-correction codewords of one block: the remainder of data * x^n divided by the generator.
  function reedSolomon(data, n) {
    var gen = generator(n);
    var rem = new Array(n);
    for (var i = 0; i < n; i++) rem[i] = 0;
    for (var d = 0; d < data.length; d++) {
      var factor = data[d] ^ rem[0];
      rem.shift();
      rem.push(0);
      if (factor !== 0) {
        for (var k = 0; k < n; k++) rem[k] ^= gfMul(gen[k], factor);
      }
    }
    return rem;
  }

  // ---- Tables of ISO/IEC 18004 Table 9, indexed [level][version - 1] ----
  var LEVELS = { L: 0, M: 1, Q: 2, H: 3 };
  // Format-information bits of each level (L=01, M=00, Q=11, H=10).
  var LEVEL_FORMAT_BITS = [1, 0, 3, 2];
  var EC_PER_BLOCK = [
    [7, 10, 15, 20, 26, 18, 20, 24, 30, 18, 20, 24, 26, 30, 22, 24, 28, 30, 28, 28,
      28, 28, 30, 30, 26, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
    [10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26,
      26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28],
    [13, 22, 18, 26, 18, 24, 18, 22, 20, 24, 28, 26, 24, 20, 30, 24, 28, 28, 26, 30,
      28, 30, 30, 30, 30, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
    [17, 28, 22, 16, 22, 28, 26, 26, 24, 28, 24, 28, 22, 24, 24, 30, 28, 28, 26, 28,
      30, 24, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30]
  ];
  var NUM_BLOCKS = [
    [1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4, 4, 6, 6, 6, 6, 7, 8,
      8, 9, 9, 10, 12, 12, 12, 13, 14, 15, 16, 17, 18, 19, 19, 20, 21, 22, 24, 25],
    [1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16,
      17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49],
    [1, 1, 2, 2, 4, 4, 6, 6, 8, 8, 8, 10, 12, 16, 12, 17, 16, 18, 21, 20,
      23, 23, 25, 27, 29, 34, 34, 35, 38, 40, 43, 45, 48, 51, 53, 56, 59, 62, 65, 68],
    [1, 1, 2, 4, 4, 4, 5, 6, 8, 8, 11, 11, 16, 16, 18, 16, 19, 21, 25, 25,
      25, 34, 30, 32, 35, 37, 40, 42, 45, 48, 51, 54, 57, 60, 63, 66, 70, 74, 77, 81]
  ];

  function sizeOf(version) { return 17 + 4 * version; }

  // Centre coordinates of the alignment patterns (Annex E): 6, then evenly spaced (an even step)
  // back from size - 7. Version 32 is the one the standard spaces by 26 instead of 28.
  function alignmentPositions(version) {
    if (version === 1) return [];
    var count = Math.floor(version / 7) + 2;
    var last = sizeOf(version) - 7;
    var step = version === 32 ? 26 : Math.ceil((last - 6) / (count - 1) / 2) * 2;
    var out = [6];
    for (var i = count - 2; i >= 0; i--) out.push(last - i * step);
    return out;
  }

  // ---- The matrix: function patterns first, marked reserved so data and masks skip them ----
  function Matrix(version) {
    this.version = version;
    this.size = sizeOf(version);
    this.dark = [];
    this.reserved = [];
    for (var y = 0; y < this.size; y++) {
      this.dark.push(new Array(this.size).fill(false));
      this.reserved.push(new Array(this.size).fill(false));
    }
  }
  Matrix.prototype.setFunction = function (x, y, isDark) {
    this.dark[y][x] = isDark;
    this.reserved[y][x] = true;
  };

  function drawFinder(m, cx, cy) {
    // 7x7 finder plus its one-module light separator, clipped to the symbol.
    for (var dy = -4; dy <= 4; dy++) {
      for (var dx = -4; dx <= 4; dx++) {
        var x = cx + dx, y = cy + dy;
        if (x < 0 || y < 0 || x >= m.size || y >= m.size) continue;
        var d = Math.max(Math.abs(dx), Math.abs(dy));
        m.setFunction(x, y, d !== 2 && d !== 4);
      }
    }
  }

  function drawAlignment(m, cx, cy) {
    for (var dy = -2; dy <= 2; dy++) {
      for (var dx = -2; dx <= 2; dx++) {
        m.setFunction(cx + dx, cy + dy, Math.max(Math.abs(dx), Math.abs(dy)) !== 1);
      }
    }
  }

  // Remainder of value * x^(degree of poly) divided by poly, over GF(2): the BCH check bits.
  function bchRemainder(value, poly) {
    var polyDegree = 31 - Math.clz32(poly);
    var v = value << polyDegree;
    for (var bit = 31 - Math.clz32(v); bit >= polyDegree; bit--) {
      if ((v >>> bit) & 1) v ^= poly << (bit - polyDegree);
    }
    return v;
  }

  function formatBits(levelIndex, mask) {
    var data = (LEVEL_FORMAT_BITS[levelIndex] << 3) | mask;
    return ((data << 10) | bchRemainder(data, 0x537)) ^ 0x5412;
  }

  function versionBits(version) {
    return (version << 12) | bchRemainder(version, 0x1f25);
  }

  // Format information: bit 14 is the most significant. Two copies, plus the always-dark module.
  function drawFormat(m, levelIndex, mask) {
    var bits = formatBits(levelIndex, mask);
    var size = m.size;
    function bit(i) { return ((bits >>> i) & 1) === 1; }
    // Copy 1, around the top-left finder.
    for (var i = 0; i <= 5; i++) m.setFunction(8, i, bit(i));
    m.setFunction(8, 7, bit(6));
    m.setFunction(8, 8, bit(7));
    m.setFunction(7, 8, bit(8));
    for (i = 9; i < 15; i++) m.setFunction(14 - i, 8, bit(i));
    // Copy 2, split between the top-right and bottom-left finders.
    for (i = 0; i < 8; i++) m.setFunction(size - 1 - i, 8, bit(i));
    for (i = 8; i < 15; i++) m.setFunction(8, size - 15 + i, bit(i));
    m.setFunction(8, size - 8, true);
  }

  function drawVersion(m) {
    if (m.version < 7) return;
    var bits = versionBits(m.version);
    for (var i = 0; i < 18; i++) {
      var isDark = ((bits >>> i) & 1) === 1;
      var a = m.size - 11 + (i % 3);
      var b = Math.floor(i / 3);
      m.setFunction(a, b, isDark); // top-right block, left of the finder
      m.setFunction(b, a, isDark); // bottom-left block, above the finder
    }
  }

  function drawFunctionPatterns(m, levelIndex, mask) {
    var size = m.size;
    // Timing patterns first; finders and alignment overwrite where they meet.
    for (var i = 0; i < size; i++) {
      m.setFunction(6, i, i % 2 === 0);
      m.setFunction(i, 6, i % 2 === 0);
    }
    drawFinder(m, 3, 3);
    drawFinder(m, size - 4, 3);
    drawFinder(m, 3, size - 4);
    var pos = alignmentPositions(m.version);
    for (var a = 0; a < pos.length; a++) {
      for (var b = 0; b < pos.length; b++) {
        // The three corners taken by finders carry no alignment pattern.
        if ((a === 0 && b === 0) || (a === 0 && b === pos.length - 1) || (a === pos.length - 1 && b === 0)) continue;
        drawAlignment(m, pos[a], pos[b]);
      }
    }
    // Reserve the format areas now (real bits come once the mask is chosen).
    drawFormat(m, levelIndex, mask);
    drawVersion(m);
  }

  // Codewords the symbol can hold: count what the function patterns leave free.
  var capacityCache = {};
  function totalCodewords(version) {
    if (capacityCache[version]) return capacityCache[version];
    var m = new Matrix(version);
    drawFunctionPatterns(m, 0, 0);
    var free = 0;
    for (var y = 0; y < m.size; y++) for (var x = 0; x < m.size; x++) if (!m.reserved[y][x]) free++;
    capacityCache[version] = Math.floor(free / 8); // the last 0..7 free modules are remainder bits
    return capacityCache[version];
  }

  function dataCodewords(version, levelIndex) {
    return totalCodewords(version) - EC_PER_BLOCK[levelIndex][version - 1] * NUM_BLOCKS[levelIndex][version - 1];
  }

  // ---- Data ----
  function utf8Bytes(text) {
    if (typeof TextEncoder !== 'undefined') return Array.from(new TextEncoder().encode(text));
    var s = unescape(encodeURIComponent(text));
    var out = [];
    for (var i = 0; i < s.length; i++) out.push(s.charCodeAt(i));
    return out;
  }

  function BitBuffer() { this.bits = []; }
  BitBuffer.prototype.put = function (value, length) {
    for (var i = length - 1; i >= 0; i--) this.bits.push((value >>> i) & 1);
  };

  // Byte-mode segment, terminator and padding, as codewords.
  function buildDataCodewords(bytes, version, levelIndex) {
    var capacity = dataCodewords(version, levelIndex);
    var buf = new BitBuffer();
    buf.put(0x4, 4); // byte mode
    buf.put(bytes.length, version <= 9 ? 8 : 16);
    for (var i = 0; i < bytes.length; i++) buf.put(bytes[i], 8);
    var capacityBits = capacity * 8;
    buf.put(0, Math.min(4, capacityBits - buf.bits.length));
    buf.put(0, (8 - (buf.bits.length % 8)) % 8);
    var out = [];
    for (i = 0; i < buf.bits.length; i += 8) {
      var byte = 0;
      for (var k = 0; k < 8; k++) byte = (byte << 1) | buf.bits[i + k];
      out.push(byte);
    }
    for (var pad = 0xec; out.length < capacity; pad ^= 0xec ^ 0x11) out.push(pad);
    return out;
  }

  function bitsNeeded(byteCount, version) {
    return 4 + (version <= 9 ? 8 : 16) + 8 * byteCount;
  }

  // Split into blocks, add error correction, interleave (data first, then EC).
  function addErrorCorrection(data, version, levelIndex) {
    var numBlocks = NUM_BLOCKS[levelIndex][version - 1];
    var ecLen = EC_PER_BLOCK[levelIndex][version - 1];
    var total = totalCodewords(version);
    var shortBlockTotal = Math.floor(total / numBlocks);
    var numShort = numBlocks - (total % numBlocks);
    var shortDataLen = shortBlockTotal - ecLen;
    var dataBlocks = [], ecBlocks = [];
    var offset = 0;
    for (var b = 0; b < numBlocks; b++) {
      var len = shortDataLen + (b < numShort ? 0 : 1);
      var block = data.slice(offset, offset + len);
      offset += len;
      dataBlocks.push(block);
      ecBlocks.push(reedSolomon(block, ecLen));
    }
    var out = [];
    for (var i = 0; i <= shortDataLen; i++) {
      for (b = 0; b < numBlocks; b++) if (i < dataBlocks[b].length) out.push(dataBlocks[b][i]);
    }
    for (i = 0; i < ecLen; i++) {
      for (b = 0; b < numBlocks; b++) out.push(ecBlocks[b][i]);
    }
    return out;
  }

  // Zigzag placement: two-column strips from the right, alternating up and down, column 6 skipped.
  function placeData(m, codewords) {
    var size = m.size;
    var bitIndex = 0;
    var totalBits = codewords.length * 8;
    for (var right = size - 1; right >= 1; right -= 2) {
      if (right === 6) right = 5;
      var upward = ((right + 1) & 2) === 0;
      for (var v = 0; v < size; v++) {
        var y = upward ? size - 1 - v : v;
        for (var j = 0; j < 2; j++) {
          var x = right - j;
          if (m.reserved[y][x]) continue;
          if (bitIndex < totalBits) {
            m.dark[y][x] = ((codewords[bitIndex >>> 3] >>> (7 - (bitIndex & 7))) & 1) === 1;
            bitIndex++;
          } // remainder bits stay light (and are masked like data)
        }
      }
    }
  }

  var MASKS = [
    function (x, y) { return (x + y) % 2 === 0; },
    function (x, y) { return y % 2 === 0; },
    function (x, y) { return x % 3 === 0; },
    function (x, y) { return (x + y) % 3 === 0; },
    function (x, y) { return (Math.floor(y / 2) + Math.floor(x / 3)) % 2 === 0; },
    function (x, y) { return ((x * y) % 2) + ((x * y) % 3) === 0; },
    function (x, y) { return (((x * y) % 2) + ((x * y) % 3)) % 2 === 0; },
    function (x, y) { return (((x + y) % 2) + ((x * y) % 3)) % 2 === 0; }
  ];

  function applyMask(m, mask) {
    var fn = MASKS[mask];
    for (var y = 0; y < m.size; y++) {
      for (var x = 0; x < m.size; x++) {
        if (!m.reserved[y][x] && fn(x, y)) m.dark[y][x] = !m.dark[y][x];
      }
    }
  }

  // ---- Penalty score (ISO/IEC 18004 7.8.3) ----
  function lineScore(line) {
    var score = 0;
    // N1: a run of 5 or more same-coloured modules scores 3, plus 1 per module past 5.
    var run = 1;
    for (var i = 1; i <= line.length; i++) {
      if (i < line.length && line[i] === line[i - 1]) {
        run++;
      } else {
        if (run >= 5) score += 3 + (run - 5);
        run = 1;
      }
    }
    // N3: dark-light-dark-dark-dark-light-dark with four light modules on either side (the
    // light quiet zone beyond the edge counts as light).
    var n = line.length;
    function at(k) { return k >= 0 && k < n ? line[k] : false; }
    for (i = 0; i + 7 <= n; i++) {
      if (at(i) && !at(i + 1) && at(i + 2) && at(i + 3) && at(i + 4) && !at(i + 5) && at(i + 6)) {
        var before = !at(i - 1) && !at(i - 2) && !at(i - 3) && !at(i - 4);
        var after = !at(i + 7) && !at(i + 8) && !at(i + 9) && !at(i + 10);
        if (before || after) score += 40;
      }
    }
    return score;
  }

  function penalty(m) {
    var size = m.size, d = m.dark, score = 0, darkCount = 0;
    for (var y = 0; y < size; y++) {
      score += lineScore(d[y]);
      var column = new Array(size);
      for (var x = 0; x < size; x++) {
        column[x] = d[x][y];
        if (d[y][x]) darkCount++;
      }
      score += lineScore(column);
    }
    // N2: each 2x2 block of one colour scores 3.
    for (y = 0; y + 1 < size; y++) {
      for (x = 0; x + 1 < size; x++) {
        var c = d[y][x];
        if (c === d[y][x + 1] && c === d[y + 1][x] && c === d[y + 1][x + 1]) score += 3;
      }
    }
    // N4: 10 per full 5% that the dark share strays from 50%.
    var percent = (darkCount * 100) / (size * size);
    score += Math.floor(Math.abs(percent - 50) / 5) * 10;
    return score;
  }

  function cloneMatrix(m) {
    var c = new Matrix(m.version);
    for (var y = 0; y < m.size; y++) {
      c.dark[y] = m.dark[y].slice();
      c.reserved[y] = m.reserved[y].slice();
    }
    return c;
  }

  // ---- Public API ----
  function encode(text, options) {
    options = options || {};
    var bytes = typeof text === 'string' ? utf8Bytes(String(text)) : Array.from(text);
    var levelName = (options.ecl || 'M').toUpperCase();
    if (!(levelName in LEVELS)) throw new Error('Unknown error-correction level: ' + levelName);
    var minVersion = options.minVersion || 1;
    var maxVersion = options.maxVersion || 40;

    // Smallest version that fits at the requested level; if none does, step down to L.
    var levelIndex = LEVELS[levelName], version = 0;
    var candidates = [levelIndex];
    if (levelIndex !== LEVELS.L && options.fallback !== false) candidates.push(LEVELS.L);
    for (var c = 0; c < candidates.length && !version; c++) {
      for (var v = minVersion; v <= maxVersion; v++) {
        if (bitsNeeded(bytes.length, v) <= dataCodewords(v, candidates[c]) * 8) {
          version = v;
          levelIndex = candidates[c];
          break;
        }
      }
    }
    if (!version) throw new RangeError('Text too long for a QR code (' + bytes.length + ' bytes)');

    var data = buildDataCodewords(bytes, version, levelIndex);
    var codewords = addErrorCorrection(data, version, levelIndex);

    var base = new Matrix(version);
    drawFunctionPatterns(base, levelIndex, 0);
    placeData(base, codewords);

    var best = null, bestMask = -1, bestScore = Infinity;
    var masks = options.mask >= 0 && options.mask <= 7 ? [options.mask] : [0, 1, 2, 3, 4, 5, 6, 7];
    for (var i = 0; i < masks.length; i++) {
      var m = cloneMatrix(base);
      applyMask(m, masks[i]);
      drawFormat(m, levelIndex, masks[i]);
      var score = masks.length > 1 ? penalty(m) : 0;
      if (score < bestScore) {
        best = m;
        bestMask = masks[i];
        bestScore = score;
      }
    }
    return {
      version: version,
      ecl: 'LMQH'.charAt(levelIndex),
      mask: bestMask,
      size: best.size,
      modules: best.dark
    };
  }

  function asEncoded(input, options) {
    return typeof input === 'object' && input && input.modules ? input : encode(input, options);
  }

  function toSvg(input, options) {
    options = options || {};
    var qr = asEncoded(input, options);
    var scale = options.scale || 8;
    var margin = options.margin === undefined ? 4 : options.margin;
    var full = qr.size + 2 * margin;
    var path = [];
    for (var y = 0; y < qr.size; y++) {
      for (var x = 0; x < qr.size; x++) {
        if (qr.modules[y][x]) path.push('M' + (x + margin) + ' ' + (y + margin) + 'h1v1h-1z');
      }
    }
    var px = full * scale;
    return '<svg xmlns="http://www.w3.org/2000/svg" width="' + px + '" height="' + px +
      '" viewBox="0 0 ' + full + ' ' + full + '" shape-rendering="crispEdges" role="img"' +
      (options.title ? ' aria-label="' + String(options.title).replace(/[&"<>]/g, '') + '"' : '') + '>' +
      '<rect width="' + full + '" height="' + full + '" fill="' + (options.light || '#fff') + '"/>' +
      '<path d="' + path.join('') + '" fill="' + (options.dark || '#000') + '"/></svg>';
  }

  function toCanvas(canvas, input, options) {
    options = options || {};
    var qr = asEncoded(input, options);
    var scale = options.scale || 8;
    var margin = options.margin === undefined ? 4 : options.margin;
    var px = (qr.size + 2 * margin) * scale;
    canvas.width = px;
    canvas.height = px;
    var ctx = canvas.getContext('2d');
    ctx.fillStyle = options.light || '#fff';
    ctx.fillRect(0, 0, px, px);
    ctx.fillStyle = options.dark || '#000';
    for (var y = 0; y < qr.size; y++) {
      for (var x = 0; x < qr.size; x++) {
        if (qr.modules[y][x]) ctx.fillRect((x + margin) * scale, (y + margin) * scale, scale, scale);
      }
    }
    return canvas;
  }

  var QR = {
    encode: encode,
    toSvg: toSvg,
    toCanvas: toCanvas,
    // Exposed for the unit tests.
    _internals: {
      reedSolomon: reedSolomon,
      formatBits: formatBits,
      versionBits: versionBits,
      alignmentPositions: alignmentPositions,
      totalCodewords: totalCodewords,
      dataCodewords: dataCodewords,
      penalty: penalty
    }
  };

  if (typeof module !== 'undefined' && module.exports) module.exports = QR;
  else root.QR = QR;
})(typeof self !== 'undefined' ? self : this);
