/*
 * Helpers shared by the desktop and phone pages: configuration, API calls with readable errors,
 * and recognition of an image by its first bytes (the same allow-list the server enforces).
 * A classic <script> (defines `QRUpload`) that node's tests can also require.
 */
(function (root) {
  'use strict';

  var DEFAULT_MAX_UPLOAD_BYTES = 25 * 1024 * 1024;
  var ALLOWED_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp', 'image/heic', 'image/heif', 'image/avif'];
  var EXTENSIONS = {
    'image/jpeg': 'jpg', 'image/png': 'png', 'image/gif': 'gif',
    'image/webp': 'webp', 'image/heic': 'heic', 'image/heif': 'heif', 'image/avif': 'avif'
  };
  // What people call each type (no MIME types on screen).
  var TYPE_NAMES = {
    'image/jpeg': 'JPEG', 'image/png': 'PNG', 'image/gif': 'GIF', 'image/webp': 'WebP',
    'image/heic': 'HEIC', 'image/heif': 'HEIF', 'image/avif': 'AVIF'
  };
  var UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

  function stripSlash(s) { return s.replace(/\/+$/, ''); }

  // Fills in the "same origin" defaults of window.QR_UPLOAD_CONFIG.
  function resolveConfig(config, loc) {
    config = config || {};
    var origin = loc.origin || (loc.protocol + '//' + loc.host);
    var wsScheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
    var max = Number(config.maxUploadBytes);
    return {
      apiBase: stripSlash(config.apiBase || origin),
      wsUrl: config.wsUrl || (wsScheme + '//' + loc.host + '/ws'),
      phoneUrl: config.phoneUrl || (origin + '/phone.html'),
      maxUploadBytes: max > 0 ? max : DEFAULT_MAX_UPLOAD_BYTES,
      // Where a phone opens /c/{code} (qr-upload serve's own URL); '' when the pages and the API
      // are on different origins (AWS): then the phone page's address and the code are typed.
      shortLinkBase: typeof config.shortLinkBase === 'string' ? stripSlash(config.shortLinkBase) : '',
      // How long the phone waits for the server to accept an upload storage has taken.
      confirmTimeoutMs: Number(config.confirmTimeoutMs) > 0 ? Number(config.confirmTimeoutMs) : 15000
    };
  }

  // url + "?k=v&..." whether or not url already has a query.
  function withQuery(url, params) {
    var parts = [];
    Object.keys(params).forEach(function (k) {
      if (params[k] !== undefined && params[k] !== null) {
        parts.push(encodeURIComponent(k) + '=' + encodeURIComponent(params[k]));
      }
    });
    if (!parts.length) return url;
    return url + (url.indexOf('?') >= 0 ? '&' : '?') + parts.join('&');
  }

  function isUuid(s) { return typeof s === 'string' && UUID_RE.test(s); }

  function isAllowedType(mime) {
    return ALLOWED_TYPES.indexOf(String(mime || '').toLowerCase()) >= 0;
  }

  function ascii(bytes, start, length) {
    var s = '';
    for (var i = start; i < start + length && i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
    return s;
  }

  // The MIME type the leading bytes show, or null when they are no allowed image.
  function sniffImageType(bytes) {
    if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
    if (ascii(bytes, 0, 8) === '\x89PNG\r\n\x1a\n') return 'image/png';
    var six = ascii(bytes, 0, 6);
    if (six === 'GIF87a' || six === 'GIF89a') return 'image/gif';
    if (bytes.length >= 12 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP') return 'image/webp';
    if (bytes.length >= 12 && ascii(bytes, 4, 4) === 'ftyp') {
      var brand = ascii(bytes, 8, 4);
      if (['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis'].indexOf(brand) >= 0) return 'image/heic';
      if (['mif1', 'msf1'].indexOf(brand) >= 0) return 'image/heif';
      if (['avif', 'avis'].indexOf(brand) >= 0) return 'image/avif';
    }
    return null;
  }

  // The content type to sign: what the bytes are, keeping the browser's word within the HEIF family
  // (the server treats image/heic and image/heif as one).
  function uploadContentType(declared, sniffed) {
    declared = String(declared || '').toLowerCase();
    if (!sniffed) return null;
    if ((sniffed === 'image/heic' || sniffed === 'image/heif') &&
        (declared === 'image/heic' || declared === 'image/heif')) return declared;
    return sniffed;
  }

  function formatBytes(n) {
    if (n < 1024) return n + ' bytes';
    if (n < 1024 * 1024) return (n / 1024).toFixed(n < 10 * 1024 ? 1 : 0) + ' KB';
    return (n / (1024 * 1024)).toFixed(n < 10 * 1024 * 1024 ? 1 : 0) + ' MB';
  }

  // "1.2 of 6.3 MB": both in the larger one's unit.
  function formatProgress(done, total) {
    var units = [[1024 * 1024, 'MB'], [1024, 'KB']];
    for (var i = 0; i < units.length; i++) {
      if (total >= units[i][0]) {
        var d = total >= 10 * units[i][0] ? 0 : 1;
        return (done / units[i][0]).toFixed(d) + ' of ' + (total / units[i][0]).toFixed(d) + ' ' + units[i][1];
      }
    }
    return done + ' of ' + total + ' bytes';
  }

  // "about 12 s left", "about 3 min left"; '' when it cannot be said yet.
  function formatTimeLeft(seconds) {
    if (!(seconds >= 0) || !isFinite(seconds)) return '';
    if (seconds < 1.5) return 'about 1 s left';
    if (seconds < 90) return 'about ' + Math.round(seconds) + ' s left';
    return 'about ' + Math.round(seconds / 60) + ' min left';
  }

  // The code both pages show for a session, and the one a person types on the phone when the QR
  // code can't be scanned: 6 digits, the session id's first 32 bits modulo 1,000,000 (the server
  // derives the same code, and keeps it unique among the sessions waiting for a scan).
  function shortCode(sessionId) {
    var hex = String(sessionId || '').replace(/-/g, '').slice(0, 8);
    if (!/^[0-9a-f]{8}$/i.test(hex)) return '';
    var code = String(parseInt(hex, 16) % 1000000);
    while (code.length < 6) code = '0' + code;
    return code;
  }

  function isShortCode(s) { return typeof s === 'string' && /^[0-9]{6}$/.test(s); }

  // "483921" -> "483 921", easier to read out and to type; anything else unchanged.
  function groupCode(code) {
    code = String(code || '');
    return isShortCode(code) ? code.slice(0, 3) + ' ' + code.slice(3) : code;
  }

  // The digits of what a person typed or pasted: "483 921", "483-921", " 483921 " -> "483921";
  // a pasted short link ("192.168.1.5:8080/c/483921") -> its code. May not be 6 digits.
  function codeFromInput(text) {
    text = String(text || '');
    var link = /\/c\/([0-9]{6})(?![0-9])/.exec(text);
    if (link) return link[1];
    return text.replace(/[^0-9]/g, '');
  }

  // base + "/c/" + code: the short link a phone opens.
  function shortLink(base, code) {
    return stripSlash(String(base || '')) + '/c/' + code;
  }

  // A URL as people type it: no scheme, no query or fragment, no trailing slash
  // ("https://d1.cloudfront.net/phone.html?x=1" -> "d1.cloudfront.net/phone.html").
  function displayUrl(url) {
    return String(url || '').replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').replace(/[?#].*$/, '').replace(/\/+$/, '');
  }

  // Seconds from a Retry-After header (seconds or an HTTP date); null when there is none.
  function retryAfterSeconds(header, nowMs) {
    if (header === null || header === undefined || header === '') return null;
    var text = String(header).trim();
    if (/^[0-9]+$/.test(text)) return Number(text);
    var t = Date.parse(text);
    if (isNaN(t)) return null;
    return Math.max(0, Math.ceil((t - (nowMs === undefined ? Date.now() : nowMs)) / 1000));
  }

  function typeName(mime) {
    return TYPE_NAMES[String(mime || '').toLowerCase()] || 'image';
  }

  function formatCountdown(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var m = Math.floor(seconds / 60), s = seconds % 60;
    return (m < 10 ? '0' : '') + m + ':' + (s < 10 ? '0' : '') + s;
  }

  // An error from the API: `status` is the HTTP status (0 when the server could not be reached).
  function ApiError(message, status, retryAfter) {
    var e = new Error(message);
    e.name = 'ApiError';
    e.status = status;
    // Seconds the server asks to wait (a 429's Retry-After), when it says.
    e.retryAfter = typeof retryAfter === 'number' ? retryAfter : null;
    return e;
  }

  // The error text of a failed response: {"error": "..."} JSON, S3's XML <Message>, or the status.
  function errorMessageFrom(status, statusText, body) {
    body = body || '';
    try {
      var json = JSON.parse(body);
      if (json && typeof json.error === 'string') return json.error;
      if (json && typeof json.message === 'string') return json.message;
    } catch (ignored) { /* not JSON */ }
    var xml = /<Message>([\s\S]*?)<\/Message>/.exec(body);
    if (xml) return xml[1];
    return 'HTTP ' + status + (statusText ? ' ' + statusText : '');
  }

  // fetch() returning parsed JSON; rejects with ApiError carrying the server's message.
  function requestJson(url, options) {
    options = options || {};
    var timeoutMs = options.timeoutMs || 15000;
    var controller = typeof AbortController !== 'undefined' ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, timeoutMs) : null;
    var init = { method: options.method || 'GET', headers: options.headers || {}, cache: 'no-store' };
    if (options.body !== undefined) init.body = options.body;
    if (controller) init.signal = controller.signal;
    return fetch(url, init).then(function (response) {
      return response.text().then(function (text) {
        if (timer) clearTimeout(timer);
        if (!response.ok) {
          throw ApiError(errorMessageFrom(response.status, response.statusText, text), response.status,
            retryAfterSeconds(response.headers.get('Retry-After')));
        }
        var data;
        try { data = text ? JSON.parse(text) : {}; } catch (e) {
          throw ApiError('The server sent an unreadable answer', response.status);
        }
        // The server's clock, for the countdown (readable same-origin; CORS may hide it).
        Object.defineProperty(data, 'serverDate', { value: response.headers.get('Date'), enumerable: false });
        return data;
      });
    }, function (err) {
      if (timer) clearTimeout(timer);
      if (err && err.name === 'ApiError') throw err;
      var origin = url.replace(/^(https?:\/\/[^/]+).*$/, '$1');
      throw ApiError('Cannot reach the server at ' + origin +
        '. Check that qr-upload is running and that this device is on the same network.', 0);
    });
  }

  var QRUpload = {
    ALLOWED_TYPES: ALLOWED_TYPES,
    EXTENSIONS: EXTENSIONS,
    typeName: typeName,
    formatProgress: formatProgress,
    formatTimeLeft: formatTimeLeft,
    shortCode: shortCode,
    isShortCode: isShortCode,
    groupCode: groupCode,
    codeFromInput: codeFromInput,
    shortLink: shortLink,
    displayUrl: displayUrl,
    retryAfterSeconds: retryAfterSeconds,
    resolveConfig: resolveConfig,
    withQuery: withQuery,
    isUuid: isUuid,
    isAllowedType: isAllowedType,
    sniffImageType: sniffImageType,
    uploadContentType: uploadContentType,
    formatBytes: formatBytes,
    formatCountdown: formatCountdown,
    errorMessageFrom: errorMessageFrom,
    requestJson: requestJson,
    ApiError: ApiError
  };

  if (typeof module !== 'undefined' && module.exports) module.exports = QRUpload;
  else root.QRUpload = QRUpload;
})(typeof self !== 'undefined' ? self : this);
