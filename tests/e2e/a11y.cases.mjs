// axe-core over every state of both pages, in the light and the dark theme, at both sizes of
// each (phone 390×844 and 360×800, desktop 1440×900 and 1280×720): 0 violations.
// QR_UPLOAD_SCREENSHOTS=<dir> also saves a PNG of each state at each size and theme, to look at.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import {
  skip, startServer, openContext, scenario, readQr, makeImage, makePhotos, sessionIdOf,
  supportsMultiPhoto, fakeHeic, SIZES,
} from './harness.mjs';

const require = createRequire(import.meta.url);
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
// The server's Content-Security-Policy (script-src 'self') would refuse the injected axe-core.
const A11Y = { bypassCSP: true };
const SHOTS = process.env.QR_UPLOAD_SCREENSHOTS || '';
if (SHOTS) fs.mkdirSync(SHOTS, { recursive: true });

// Runs axe on the page as it is, at each size of its kind and in both themes; records violations.
async function audit(page, kind, label, found, checked) {
  for (const size of SIZES[kind]) {
    await page.setViewportSize(size);
    for (const colorScheme of ['light', 'dark']) {
      await page.emulateMedia({ colorScheme });
      if (!(await page.evaluate(() => !!window.axe))) await page.addScriptTag({ content: axeSource });
      const violations = await page.evaluate(async () => {
        const result = await window.axe.run(document, { resultTypes: ['violations'] });
        return result.violations.map((v) => ({
          id: v.id, help: v.help,
          nodes: v.nodes.slice(0, 4).map((n) => `${n.target.join(' ')}: ${n.failureSummary.replace(/\s+/g, ' ')}`),
        }));
      });
      const where = `${kind} "${label}" ${size.width}×${size.height} ${colorScheme}`;
      checked.push(where);
      for (const v of violations) found.push(`${where}: ${v.id} (${v.help})\n    ${v.nodes.join('\n    ')}`);
      if (SHOTS) {
        const file = `${kind}-${label.replace(/[^a-z0-9]+/gi, '-')}-${size.width}x${size.height}-${colorScheme}.png`;
        await page.screenshot({ path: path.join(SHOTS, file), fullPage: true });
      }
    }
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize(SIZES[kind][0]);
}

function deferred() {
  let resolve;
  const promise = new Promise((r) => { resolve = r; });
  return { promise, resolve };
}

async function withConfig(page, extra) {
  await page.route('**/config.js', async (route) => {
    const response = await route.fetch();
    const body = (await response.text()).replace(/;\s*$/, '') + `;\nObject.assign(window.QR_UPLOAD_CONFIG, ${JSON.stringify(extra)});\n`;
    return route.fulfill({ response, body, contentType: 'text/javascript' });
  });
}

test('accessibility: axe finds nothing in any state, light and dark, phone and desktop sizes', { skip, timeout: 600000 }, async (t) => {
  await scenario(t, async (state) => {
    const found = [];
    const checked = [];
    const server = (state.server = await startServer(['--max-upload-bytes', '60000']));
    const multi = await supportsMultiPhoto(server);

    const desktop = (await openContext(t, 'desktop', A11Y)).page;
    await withConfig(desktop, { helpAfterMs: 1 });
    await desktop.goto(server.url + '/');
    const phoneUrl = await readQr(desktop);
    const sessionId = await sessionIdOf(phoneUrl);
    await desktop.locator('#help').waitFor({ state: 'visible' });
    await audit(desktop, 'desktop', 'waiting for scan, with help', found, checked);

    const phone = (await openContext(t, 'phone', { kind: 'phone', ...A11Y })).page;
    await phone.goto(phoneUrl);
    await phone.waitForFunction(() => /^[0-9]{3} [0-9]{3}$/.test(document.querySelector('#computer-code').textContent));
    await audit(phone, 'phone', 'choose', found, checked);

    // The phone page opened without a link: the form for the 6-digit code, then a code no
    // computer shows.
    const typing = (await openContext(t, 'phone-typing', { kind: 'phone', ...A11Y })).page;
    await typing.goto(server.url + '/phone.html');
    await typing.locator('#code-input').waitFor({ state: 'visible' });
    await audit(typing, 'phone', 'type the code', found, checked);
    await typing.fill('#code-input', '000 000');
    await typing.press('#code-input', 'Enter');
    await typing.locator('#code-error').waitFor({ state: 'visible' });
    await audit(typing, 'phone', 'code not found', found, checked);
    await typing.context().close();

    // Uploads held in flight: the phone's progress, the desktop's "Phone connected".
    let hold = deferred();
    let cut = false;
    await phone.route('**/objects/**', async (route) => {
      if (route.request().method() !== 'PUT') return route.continue();
      if (hold) await hold.promise;
      if (!cut) { cut = true; return route.abort('connectionreset'); }
      return route.continue();
    });
    const photos = await makePhotos(phone, [{ name: 'a11y-1.jpg' }, { name: 'a11y-2.jpg' }, { name: 'a11y-3.jpg' }]);
    await phone.setInputFiles('#file-input', multi ? photos : photos[0]);
    await phone.locator('#uploading').waitFor({ state: 'visible' });
    await audit(phone, 'phone', 'sending', found, checked);
    if (multi) {
      await desktop.waitForFunction(() => document.querySelector('#status').dataset.state === 'connected');
      await audit(desktop, 'desktop', 'phone connected', found, checked);
      await desktop.click('#restart');
      await desktop.locator('#confirm-new').waitFor({ state: 'visible' });
      await audit(desktop, 'desktop', 'confirm new code', found, checked);
      await desktop.click('#confirm-keep');
    }
    hold.resolve();
    hold = null;
    await phone.locator('#failure').waitFor({ state: 'visible' });
    await audit(phone, 'phone', multi ? 'some not sent' : 'not sent', found, checked);
    await phone.click('#retry');
    await phone.locator('#success').waitFor({ state: 'visible' });
    await audit(phone, 'phone', 'sent', found, checked);

    await desktop.waitForFunction((n) => document.querySelectorAll('#photo-grid .tile').length === n, multi ? 3 : 1);
    await desktop.waitForFunction(() => [...document.querySelectorAll('#photo-grid .thumb')].every((el) => !el.classList.contains('loading')));
    await audit(desktop, 'desktop', multi ? 'photos received' : 'photo received', found, checked);
    await desktop.click('#stage-open');
    await desktop.locator('#viewer').waitFor({ state: 'visible' });
    await desktop.waitForFunction(() => document.querySelector('#viewer-image').naturalWidth > 0);
    await audit(desktop, 'desktop', 'full-size viewer', found, checked);
    await desktop.keyboard.press('Escape');

    if (multi) {
      // A refused upload from the same phone (its token): the desktop's banner.
      const token = await phone.evaluate((k) => sessionStorage.getItem(k), `qr-upload.uploader.${sessionId}`);
      const body = Buffer.from('not a photo at all\n'.repeat(4));
      const grant = await (await fetch(`${server.url}/upload-url?sessionId=${sessionId}&contentType=image/png&contentLength=${body.length}&fileName=bad.png`,
        { headers: { Authorization: `Bearer ${token}` } })).json();
      await fetch(grant.uploadUrl, { method: 'PUT', headers: grant.headers, body });
      await desktop.locator('#error').waitFor({ state: 'visible' });
      await audit(desktop, 'desktop', 'upload refused', found, checked);

      // HEIC: a placeholder tile.
      await phone.setInputFiles('#file-input', { name: 'IMG_0002.HEIC', mimeType: 'image/heic', buffer: fs.readFileSync(fakeHeic('a11y.heic')) });
      await desktop.waitForFunction(() => document.querySelectorAll('#photo-grid .tile .placeholder').length === 1);
      await audit(desktop, 'desktop', 'HEIC placeholder', found, checked);

      // Too large: the smaller-copy offer.
      await phone.locator('#success').waitFor({ state: 'visible' });
      const big = await makeImage(phone, { width: 800, height: 600, type: 'image/png', name: 'a11y-big.png', noise: true });
      await phone.setInputFiles('#file-input', big);
      await phone.locator('#smaller').waitFor({ state: 'visible' });
      await audit(phone, 'phone', 'too large', found, checked);

      // A second phone: refused.
      const other = (await openContext(t, 'second-phone', { kind: 'phone', ...A11Y })).page;
      await other.goto(phoneUrl);
      await other.locator('#unavailable').waitFor({ state: 'visible' });
      await audit(other, 'phone', 'another phone has the code', found, checked);

      await desktop.click('#done');
      await desktop.waitForFunction(() => document.querySelector('#status').dataset.state === 'done');
      await audit(desktop, 'desktop', 'done', found, checked);
    }

    // A fresh desktop whose server goes away: greyed code, then New code fails.
    const lonely = (await openContext(t, 'desktop-offline', A11Y)).page;
    await lonely.goto(server.url + '/');
    await readQr(lonely);
    await lonely.waitForFunction(() => document.querySelector('#status').dataset.live === 'true');
    await server.stop();
    await lonely.waitForFunction(() => document.querySelector('#status').dataset.state === 'offline');
    await audit(lonely, 'desktop', 'server unreachable', found, checked);
    await lonely.click('#restart');
    await lonely.waitForFunction(() => document.querySelector('#status').dataset.state === 'error');
    await audit(lonely, 'desktop', 'cannot make a code', found, checked);

    // Expiry, with no automatic renewal: both pages say so.
    const short = (state.server = await startServer(['--session-ttl-seconds', '2']));
    const late = (await openContext(t, 'desktop-expired', A11Y)).page;
    await withConfig(late, { autoRenewMax: 0 });
    await late.goto(short.url + '/');
    const lateUrl = await readQr(late);
    const latePhone = (await openContext(t, 'phone-expired', { kind: 'phone', ...A11Y })).page;
    await latePhone.goto(lateUrl);
    await late.waitForFunction(() => document.querySelector('#status').dataset.state === 'expired', null, { timeout: 15000 });
    await audit(late, 'desktop', 'expired', found, checked);
    await latePhone.locator('#unavailable').waitFor({ state: 'visible', timeout: 15000 });
    await audit(latePhone, 'phone', 'expired', found, checked);

    assert.ok(checked.length >= 40 || !multi, `states checked: ${checked.length}`);
    assert.deepEqual(found, [], `axe violations:\n${found.join('\n')}`);
  });
});
