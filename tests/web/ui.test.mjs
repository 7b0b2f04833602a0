#!/usr/bin/env node
// The web UI in a real browser: Debian's chromium (/usr/bin/chromium) driven by playwright-core from
// npm (no browser download). It starts hocbad as tests/appliance does: a temporary state folder, a
// SoftHSM2 token set made by scripts/softhsm-provision.sh, 127.0.0.1 on a free port. Users come from
// the hocba CLI; keys and the class 3A from the REST API (as the admin). Then, in chromium:
//   - the homeroom teacher on a phone (390x844) logs in, sees class 3A, signs the whole class with one
//     PIN and watches the progress reach 35/35; a record shows "Đã ký" for the GVCN;
//   - a deputy principal sees the principal's actions, labelled from the server's chain;
//   - the principal on a desktop signs one record (a wrong PIN first: the Vietnamese message, then the
//     token's confirmation), the whole school, then applies the seal: every record is "Đã hoàn tất";
//   - the teacher uploads her handwritten signature (an opaque one is refused first) and sees it; the
//     admin uploads the seal image and sees the teacher's;
//   - the teacher asks for a correction, the admin approves it and checks the audit log; the teacher
//     signs the new version and the principal signs and seals it in one job with both PINs;
//   - throughout: no console error, no CSP violation, no unexpected HTTP error, and no English word
//     from a deny-list in the visible text of the main screens.
//
//   node tests/web/ui.test.mjs --hocbad PATH --hocba PATH [--source DIR] [--screenshots DIR]
//
// Exit status: 0 passed, 1 failed, 77 skipped (chromium, node_modules or SoftHSM2 tools missing).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

// --- arguments and prerequisites ----------------------------------------------------------------

function arg(name, env, def) {
  const i = process.argv.indexOf(`--${name}`);
  if (i > 0 && i + 1 < process.argv.length) return process.argv[i + 1];
  return process.env[env] || def;
}

const SOURCE = path.resolve(arg('source', 'HOCBA_SOURCE_DIR', path.join(here, '..', '..')));
const HOCBAD = arg('hocbad', 'HOCBAD_BIN', '');
const HOCBA = arg('hocba', 'HOCBA_BIN', '');
const SHOTS = arg('screenshots', 'HOCBA_WEB_SCREENSHOTS', '');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

function skip(why) {
  console.log(`SKIP: ${why}`);
  process.exit(77);
}

if (!HOCBAD || !existsSync(HOCBAD) || !HOCBA || !existsSync(HOCBA)) {
  console.error('usage: node ui.test.mjs --hocbad PATH --hocba PATH [--source DIR] [--screenshots DIR]');
  process.exit(2);
}
if (!existsSync(CHROMIUM)) skip(`${CHROMIUM} is missing (apt-get install chromium)`);
if (Number(process.versions.node.split('.')[0]) < 18) skip(`node ${process.versions.node} is too old (18 or newer)`);
let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch (e) {
  skip(`playwright-core is not installed (npm ci --prefix tests/web): ${e.message.split('\n')[0]}`);
}
for (const tool of ['softhsm2-util', 'pkcs11-tool', 'openssl'])
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) skip(`${tool} is missing`);

// --- a tiny runner: sequential steps, the first failure stops the run ---------------------------

let passed = 0;
let failed = 0;
const cleanups = [];

async function step(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    passed++;
    console.log(`ok ${passed + failed} - ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failed++;
    console.log(`not ok ${passed + failed} - ${name}`);
    console.log(`  ${String((e && e.stack) || e).split('\n').join('\n  ')}`);
    throw e;
  }
}

function assert(cond, message) {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}

function equal(actual, expected, message) {
  if (actual !== expected) throw new Error(`${message}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

// --- the appliance --------------------------------------------------------------------------------

const tmp = mkdtempSync(path.join(os.tmpdir(), 'hocba-web-'));
const state = path.join(tmp, 'state');
const softhsm = path.join(tmp, 'softhsm');
let hocbad = null;
let base = '';
let ca = null;

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stdout}${r.stderr}`);
  return r.stdout;
}

function pin(token) {
  return readFileSync(path.join(softhsm, 'pins', `${token}.pin`), 'utf8').trim();
}

function startHocbad() {
  return new Promise((resolve, reject) => {
    const log = [];
    hocbad = spawn(HOCBAD, ['--state-dir', state, '--listen', '127.0.0.1:0'], {
      env: { ...process.env, SOFTHSM2_CONF: path.join(softhsm, 'softhsm2.conf') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const timer = setTimeout(() => reject(new Error(`hocbad did not say where it listens: ${log.join('')}`)), 60000);
    let out = '';
    hocbad.stdout.on('data', (d) => {
      out += d;
      const m = /hocbad: listening on (https:\/\/[^\s]+?)\/?\s/.exec(out);
      if (m && !base) {
        base = m[1];
        clearTimeout(timer);
        resolve();
      }
    });
    hocbad.stderr.on('data', (d) => {
      log.push(String(d));
      if (log.length > 200) log.shift();
    });
    hocbad.on('exit', (code) => {
      if (!base) {
        clearTimeout(timer);
        reject(new Error(`hocbad exited (${code}): ${log.join('')}`));
      }
    });
    hocbad.logTail = () => log.slice(-30).join('');
  });
}

// An HTTPS call that trusts only the appliance's own self-signed certificate.
function call(method, urlPath, { token, body, raw } = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(base + urlPath);
    const headers = {};
    if (token) headers.Authorization = `Bearer ${token}`;
    let data;
    if (body !== undefined) {
      data = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = data.length;
    }
    const req = https.request({ method, hostname: u.hostname, port: u.port, path: u.pathname + u.search, headers, ca }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const buf = Buffer.concat(chunks);
        let json = null;
        if (!raw) {
          try {
            json = JSON.parse(buf.toString('utf8'));
          } catch (_) {
            json = null;
          }
        }
        resolve({ status: res.statusCode, headers: res.headers, body: buf, json });
      });
    });
    req.on('error', reject);
    req.setTimeout(120000, () => req.destroy(new Error(`${method} ${urlPath}: timeout`)));
    if (data) req.write(data);
    req.end();
  });
}

async function apiJson(method, urlPath, token, body, expect) {
  const r = await call(method, urlPath, { token, body });
  if (r.status !== expect) throw new Error(`${method} ${urlPath}: HTTP ${r.status} (expected ${expect}): ${r.body.toString().slice(0, 400)}`);
  return r.json;
}

function addUser(username, role, displayName) {
  const pw = path.join(tmp, `pw-${username}`);
  writeFileSync(pw, `password-${username}\n`, { mode: 0o600 });
  run(HOCBA, ['user', 'add', '--state-dir', state, '--username', username, '--role', role, '--display-name', displayName, '--password-file', pw]);
}

async function login(username) {
  return (await apiJson('POST', '/api/v1/auth/login', '', { username, password: `password-${username}` }, 200)).token;
}

// --- the browser ----------------------------------------------------------------------------------

const DENY = [
  'Sign', 'Signed', 'Signing', 'Login', 'Log in', 'Logout', 'Error', 'Cancel', 'Submit', 'Loading', 'Password',
  'Username', 'Save', 'Delete', 'Pause', 'Resume', 'Failed', 'Done', 'Record', 'Records', 'Class', 'Classes',
  'Upload', 'Confirm', 'Next', 'Back', 'Status', 'Progress', 'Remaining', 'Total', 'Users', 'Keys', 'Audit',
  'Verify', 'Import', 'Approve', 'Reject', 'Draft', 'Final', 'Home', 'Settings', 'undefined', 'null', 'NaN',
  'object Object', 'Invalid Date',
];

// Visible text of the page outside the server's own words (lang="en") and code: no deny-listed English.
async function checkVietnamese(page, screen) {
  const found = await page.evaluate((deny) => {
    const out = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const texts = [];
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!el || el.closest('[lang="en"], code, script, style, noscript, [hidden]')) continue;
      if (!el.getClientRects().length) continue;
      const t = n.textContent.trim();
      if (t) texts.push(t);
    }
    for (const el of document.querySelectorAll('input[placeholder], textarea[placeholder]')) texts.push(el.placeholder);
    for (const el of document.querySelectorAll('button, a, option')) if (el.title) texts.push(el.title);
    const all = texts.join('\n');
    for (const w of deny) {
      const re = new RegExp(`(^|[^\\p{L}])${w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^\\p{L}])`, 'u');
      if (re.test(all)) out.push(w);
    }
    return { out, lang: document.documentElement.lang, vietnamese: /[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]/i.test(all), all };
  }, DENY);
  equal(found.lang, 'vi', `${screen}: <html lang>`);
  assert(found.vietnamese, `${screen}: the screen shows Vietnamese text`);
  assert(found.out.length === 0, `${screen}: English words on screen: ${found.out.join(', ')}\n${found.all.slice(0, 2000)}`);
}

// Errors the browser reports; the HTTP errors the scenario provokes on purpose are allowed.
function watch(page, who, problems) {
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const t = m.text();
    // The message names no URL: the 'response' handler below decides which of these were expected.
    if (/^Failed to load resource: the server responded with a status of (401|403|404|422|429)\b/.test(t)) return;
    problems.push(`${who}: console error: ${t}`);
  });
  page.on('pageerror', (e) => problems.push(`${who}: page error: ${e.message}`));
  page.on('response', (r) => {
    const s = r.status();
    if (s < 400) return;
    const p = new URL(r.url()).pathname;
    const expected =
      (s === 401 && (p === '/api/v1/me' || p === '/api/v1/auth/login' || p.startsWith('/api/v1/'))) ||
      (s === 429 && p === '/api/v1/auth/login') ||
      (s === 403 && /^\/api\/v1\/records\/\d+\/sign$/.test(p)) ||
      // An opaque signature image, refused on purpose.
      (s === 422 && /^\/api\/v1\/users\/\d+\/signature-image$/.test(p)) ||
      // Score sheets (GET /api/v1/sheets) may not be served yet: the page then says "Chưa hỗ trợ".
      (s === 404 && p === '/api/v1/sheets');
    if (!expected) problems.push(`${who}: HTTP ${s} for ${r.request().method()} ${p}`);
  });
}

async function newPage(browser, who, viewport, problems, mobile) {
  const context = await browser.newContext({
    ignoreHTTPSErrors: true,
    viewport,
    deviceScaleFactor: mobile ? 2 : 1,
    isMobile: !!mobile,
    hasTouch: !!mobile,
    locale: 'vi-VN',
    timezoneId: 'Asia/Ho_Chi_Minh',
  });
  await context.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  const page = await context.newPage();
  page.setDefaultTimeout(30000);
  watch(page, who, problems);
  return { context, page };
}

// Nothing sticks out sideways on the narrowest phone we support (360 px), nor on the test's phone.
async function fitsPhone(page, screen) {
  const before = page.viewportSize();
  for (const width of [360, before.width]) {
    await page.setViewportSize({ width, height: before.height });
    const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert(over <= 0, `${screen}: the page is ${over} px wider than a ${width} px phone`);
  }
}

async function cspViolations(page) {
  return page.evaluate(() => window.__csp || []);
}

async function uiLogin(page, username, password) {
  await page.goto(base + '/');
  await page.waitForSelector('#login-form');
  await page.fill('#login-username', username);
  await page.fill('#login-password', password);
  await page.click('#login-submit');
}

async function waitJobDone(page, expectDone) {
  await page.waitForSelector('#job-progress');
  await page.waitForFunction(() => {
    const v = document.querySelector('.view');
    return v && ['done', 'failed', 'cancelled'].includes(v.dataset.state);
  }, null, { timeout: 300000 });
  const st = await page.$eval('.view', (v) => v.dataset.state);
  const done = await page.textContent('#job-done');
  const total = await page.textContent('#job-total');
  const failedN = await page.textContent('#job-failed');
  equal(st, 'done', `job state (${await page.textContent('#job-reason')})`);
  equal(`${done}/${total}`, `${expectDone}/${expectDone}`, 'job progress');
  equal(failedN, '0', 'failed records');
  const bar = await page.$eval('#job-progress', (p) => [p.value, p.max]);
  equal(bar[0], bar[1], 'the progress bar is full');
}

async function shot(page, name) {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, name) });
  console.log(`# screenshot ${path.join(SHOTS, name)}`);
}

// More screens, for a look while working on the UI: HOCBA_WEB_MORE_SHOTS=DIR.
async function moreShot(page, name, fullPage) {
  const dir = process.env.HOCBA_WEB_MORE_SHOTS;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, name), fullPage: !!fullPage });
}

// --- the scenario ---------------------------------------------------------------------------------

const problems = [];
let browser = null;
let adminToken = '';
let classId = 0;
const sample = JSON.parse(readFileSync(path.join(SOURCE, 'tests/data/samples/primary-3A.json'), 'utf8'));

try {
  await step('provision SoftHSM2 tokens and start hocbad', async () => {
    mkdirSync(softhsm, { recursive: true });
    run(path.join(SOURCE, 'scripts/softhsm-provision.sh'), [softhsm]);
    await startHocbad();
    cleanups.push(async () => {
      if (hocbad && hocbad.exitCode === null) {
        hocbad.kill('SIGTERM');
        await new Promise((r) => {
          const t = setTimeout(() => {
            hocbad.kill('SIGKILL');
            r();
          }, 30000);
          hocbad.on('exit', () => {
            clearTimeout(t);
            r();
          });
        });
      }
    });
    ca = readFileSync(path.join(state, 'tls', 'cert.pem'));
    equal((await apiJson('GET', '/healthz', '', undefined, 200)).status, 'ok', 'health');
  });

  await step('the page and its files are served with the right types', async () => {
    const index = await call('GET', '/', { raw: true });
    equal(index.status, 200, 'GET /');
    assert(index.headers['content-type'].startsWith('text/html'), `GET / content type ${index.headers['content-type']}`);
    assert(/default-src 'self'/.test(index.headers['content-security-policy'] || ''), 'GET / has the CSP');
    assert(/<html lang="vi">/.test(index.body.toString()), 'index.html is Vietnamese');
    assert(/<script type="module" src="\/static\/main.js"><\/script>/.test(index.body.toString()), 'index.html loads main.js as a module');
    const types = { 'main.js': 'text/javascript', 'app.css': 'text/css', 'icon.svg': 'image/svg+xml' };
    // Every module main.js imports, and theirs: served flat under /static/ as JavaScript.
    const modules = ['main.js'];
    for (let i = 0; i < modules.length; i++) {
      const r = await call('GET', `/static/${modules[i]}`, { raw: true });
      equal(r.status, 200, `GET /static/${modules[i]}`);
      for (const m of r.body.toString().matchAll(/^import [^;]* from '\.\/([a-z0-9-]+\.js)';$/gm))
        if (!modules.includes(m[1])) modules.push(m[1]), (types[m[1]] = 'text/javascript');
    }
    for (const name of ['i18n.js', 'api.js', 'chain.js']) assert(modules.includes(name), `main.js reaches ${name}`);
    for (const [name, type] of Object.entries(types)) {
      const r = await call('GET', `/static/${name}`, { raw: true });
      equal(r.status, 200, `GET /static/${name}`);
      assert(r.headers['content-type'].startsWith(type), `${name}: ${r.headers['content-type']}`);
      equal(r.headers['cache-control'], 'no-cache', `${name}: Cache-Control`);
      assert(r.body.length > 100, `${name} has content`);
    }
    equal((await call('GET', '/static/nope.js')).status, 404, 'an unknown file');
    equal((await call('GET', '/static/..%2Fapp.cpp')).status, 404, 'a path outside the files');
  });

  await step('users (hocba CLI), keys and class 3A (REST API)', async () => {
    addUser('admin', 'admin', 'Quản trị viên');
    addUser('gvcn.3a', 'homeroom_teacher', 'Võ Tuấn Cường');
    addUser('ht', 'principal', 'Nguyễn Thị Giẽ');
    addUser('pho.ht', 'deputy_principal', 'Lê Văn Phó');
    addUser('gvbm.toan', 'subject_teacher', 'Trần Thị Toán');
    adminToken = await login('admin');
    const bind = (uri, username) => apiJson('POST', '/api/v1/keys', adminToken, username ? { uri, username } : { uri, seal: true }, 201);
    await bind('pkcs11:token=GVCN-3A;object=gvcn-3a', 'gvcn.3a');
    await bind('pkcs11:token=HIEU-TRUONG;object=hieu-truong', 'ht');
    await bind('pkcs11:token=CON-DAU;object=con-dau', '');
    const imp = await apiJson('POST', '/api/v1/classes', adminToken, JSON.stringify(sample), 201);
    classId = imp.class_id;
    equal(imp.created.length, 35, 'records created');
  });

  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
  cleanups.push(() => browser.close());

  // --- the homeroom teacher, on a phone ---
  const teacher = await newPage(browser, 'teacher', { width: 390, height: 844 }, problems, true);
  const tp = teacher.page;

  await step('teacher: a wrong password is refused in Vietnamese', async () => {
    await uiLogin(tp, 'gvcn.3a', 'not-the-password');
    await tp.waitForSelector('#login-form .msg.error');
    const text = await tp.textContent('#login-form .msg.error');
    assert(text.includes('Sai tên đăng nhập, mật khẩu hoặc mã xác thực.'), `message: ${text}`);
    equal(await tp.inputValue('#login-password'), '', 'the password field is cleared');
    await checkVietnamese(tp, 'login');
    await fitsPhone(tp, 'login');
    await moreShot(tp, 'teacher-login.png');
  });

  await step('teacher: logs in on a phone and sees class 3A', async () => {
    await tp.fill('#login-password', 'password-gvcn.3a');
    await tp.click('#login-submit');
    await tp.waitForSelector('.class-card');
    const card = await tp.textContent('.class-card');
    assert(card.includes('Lớp 3A') && card.includes('35 học bạ'), `class card: ${card}`);
    equal(await tp.textContent('#who-role'), 'Giáo viên chủ nhiệm', 'role shown');
    await checkVietnamese(tp, 'teacher classes');
    await fitsPhone(tp, 'teacher classes');
    await moreShot(tp, 'teacher-classes.png');
    await tp.click('.class-card');
    await tp.waitForSelector('.record-row');
    equal(await tp.locator('.record-row').count(), 35, 'records listed');
    equal(await tp.locator('.record-row .badge.st-draft').count(), 35, 'drafts');
    assert((await tp.textContent('.record-row .badge')).trim() === 'Bản nháp', 'the draft badge reads "Bản nháp"');
    const pinInput = tp.locator('#pin-job-gvcn');
    equal(await pinInput.getAttribute('type'), 'password', 'PIN field type');
    equal(await pinInput.getAttribute('inputmode'), 'numeric', 'PIN field inputmode');
    // Touch targets: the main button and each record row are at least 44 px high.
    const box = await tp.locator('form.job-start button.primary').boundingBox();
    assert(box && box.height >= 44, `the sign button is ${box && box.height} px high`);
    const row = await tp.locator('.record-row >> nth=0').boundingBox();
    assert(row && row.height >= 44, `a record row is ${row && row.height} px high`);
    await fitsPhone(tp, 'teacher class');
    await checkVietnamese(tp, 'teacher class');
    await shot(tp, 'web-teacher.png');
  });

  await step('teacher: "Chữ ký tay" on her account: an opaque image is refused in Vietnamese, a transparent one is previewed', async () => {
    await tp.goto(`${base}/#/tai-khoan`);
    await tp.waitForSelector('#signature-image-form');
    assert((await tp.textContent('#signature-image-preview')).includes('Chưa có ảnh'), 'no image yet');
    equal(await tp.getAttribute('#signature-image-file', 'accept'), 'image/png', 'the file input takes PNGs');
    await tp.setInputFiles('#signature-image-file', path.join(SOURCE, 'tests/data/images/check/opaque.png'));
    await tp.click('#signature-image-upload');
    await tp.waitForSelector('#signature-image-msg .msg.error');
    const refused = await tp.textContent('#signature-image-msg');
    assert(refused.includes('Ảnh phải có nền trong suốt'), `the opaque image's message: ${refused}`);
    await tp.setInputFiles('#signature-image-file', path.join(SOURCE, 'tests/data/images/signature.png'));
    await tp.click('#signature-image-upload');
    await tp.waitForSelector('#signature-image-msg .msg.ok');
    assert((await tp.textContent('#signature-image-msg')).includes('Đã lưu ảnh'), 'saved');
    await tp.waitForFunction(() => {
      const img = document.querySelector('#signature-image-img');
      return img && img.complete && img.naturalWidth === 300 && img.naturalHeight === 120;
    });
    assert(await tp.isVisible('#signature-image-delete'), 'the image can be deleted');
    await checkVietnamese(tp, 'teacher account');
    await fitsPhone(tp, 'teacher account');
    await moreShot(tp, 'teacher-account.png');
    await tp.goto(`${base}/#/lop/${classId}`);  // back to the class for the next step
    await tp.waitForSelector('.record-row');
  });

  await step('teacher: "Ký cả lớp" with one PIN; progress reaches 35/35', async () => {
    await tp.fill('#pin-job-gvcn', pin('GVCN-3A'));
    const button = await tp.textContent('form.job-start button.primary');
    assert(button.includes('Ký cả lớp') && button.includes('35'), `button: ${button}`);
    await tp.click('form.job-start button.primary');
    await tp.waitForURL(/#\/luot-ky\/\d+$/);
    await tp.waitForFunction(() => /Trạng thái: /.test(document.querySelector('.job-state')?.textContent || ''));
    const seenRunning = await tp.textContent('.job-state');
    assert(/Trạng thái: (Đang ký|Hoàn tất)/.test(seenRunning), `state line: ${seenRunning}`);
    await waitJobDone(tp, 35);
    assert((await tp.textContent('#job-reason')).includes('Đã ký xong 35 học bạ'), 'done message');
    await checkVietnamese(tp, 'teacher job');
    await fitsPhone(tp, 'teacher job');
    await moreShot(tp, 'teacher-job.png');
    const stored = await tp.evaluate(() => JSON.stringify(localStorage) + JSON.stringify(sessionStorage) + document.cookie);
    assert(!stored.includes(pin('GVCN-3A')), 'the PIN is not kept in the browser');
  });

  await step('teacher: a record shows "Đã ký" for the GVCN and opens its PDF', async () => {
    await tp.goto(`${base}/#/lop/${classId}`);
    await tp.waitForSelector('.record-row');
    equal(await tp.locator('.record-row .badge.st-signing').count(), 35, 'records in signing');
    await tp.click('.record-row >> nth=0');
    await tp.waitForSelector('.sigs');
    const gvcn = await tp.textContent('.sig[data-field="gvcn"]');
    assert(gvcn.includes('Giáo viên chủ nhiệm') && gvcn.includes('Đã ký'), `gvcn signature: ${gvcn}`);
    const ht = await tp.textContent('.sig[data-field="hieu_truong"]');
    assert(ht.includes('Chờ ký'), `principal signature: ${ht}`);
    equal(await tp.locator('#sign-one').count(), 0, 'no sign form for the teacher after her step');
    const href = await tp.getAttribute('#open-pdf', 'href');
    const pdf = await tp.request.get(base + href);
    equal(pdf.status(), 200, 'PDF status');
    equal(pdf.headers()['content-type'], 'application/pdf', 'PDF content type');
    assert((await pdf.body()).subarray(0, 5).toString() === '%PDF-', 'a PDF');
    await checkVietnamese(tp, 'teacher record');
    await fitsPhone(tp, 'teacher record');
    await moreShot(tp, 'teacher-record.png', true);
  });

  // --- a deputy principal, on a desktop: the principal's step, from the chain ---
  await step('deputy principal: sees the school and "Ký duyệt" actions labelled from the chain', async () => {
    const { context, page } = await newPage(browser, 'deputy', { width: 1280, height: 900 }, problems, false);
    const me = await apiJson('GET', '/api/v1/me', await login('pho.ht'), undefined, 200);
    assert(me.chain && me.chain.my_steps.includes('hieu_truong'), `the deputy signs the principal's step: ${JSON.stringify(me.chain && me.chain.my_steps)}`);
    await uiLogin(page, 'pho.ht', 'password-pho.ht');
    await page.waitForSelector('table.classes');
    equal(await page.textContent('#who-role'), 'Phó hiệu trưởng', 'role shown');
    equal(await page.textContent('h1'), 'Toàn trường', 'the deputy\'s home is the school');
    equal((await page.textContent('#nav a[href="#/truong"]')).trim(), 'Toàn trường', 'the school in the navigation');
    equal(await page.textContent('.stat-gvcn .label'), me.chain.steps.gvcn.done_label, 'the GVCN count is labelled from the chain');
    equal(await page.textContent('.stat-gvcn .value'), '35', 'signed by the GVCN');
    const button = await page.textContent('form.job-start[data-field="hieu_truong"] button');
    equal(button, `${me.chain.steps.hieu_truong.verb} toàn trường (35 học bạ)`, 'the school-wide job');
    equal(button, 'Ký duyệt toàn trường (35 học bạ)', 'the school-wide job reads as before');
    equal(await page.locator('form.job-start[data-field="con_dau"]').count(), 0, 'no seal job before the principal has signed');
    await checkVietnamese(page, 'deputy school');
    await page.click(`tr[data-class="${classId}"] a`);
    await page.waitForSelector('.record-row');
    const row = await page.textContent('.record-row >> nth=0');
    assert(row.includes('1/3 chữ ký') && row.includes('Chờ hiệu trưởng ký'), `record row: ${row}`);
    await page.click('.record-row >> nth=0');
    await page.waitForSelector('#sign-one');
    equal(await page.textContent('#sign-one button.primary'), 'Ký duyệt học bạ này', 'the sign button');
    equal(await page.textContent('.sign-card h2'), 'Ký duyệt học bạ này', 'the sign card');
    assert((await page.textContent('.sign-card')).includes('Ký với vai trò: Hiệu trưởng.'), 'signs as the principal\'s step');
    equal(await page.locator('#correction-form').count(), 1, 'a signer of records may ask for a correction');
    await checkVietnamese(page, 'deputy record');
    await moreShot(page, 'deputy-record.png', true);
    const v = await cspViolations(page);
    assert(v.length === 0, `CSP violations: ${v.join('; ')}`);
    await context.close();
  });

  await step('subject teacher: "Xác nhận điểm" from the chain; the sheets, or "Chưa hỗ trợ"', async () => {
    const { context, page } = await newPage(browser, 'subject teacher', { width: 390, height: 844 }, problems, true);
    await uiLogin(page, 'gvbm.toan', 'password-gvbm.toan');
    await page.waitForSelector('#nav a[href="#/xac-nhan-diem"]');
    equal((await page.textContent('#nav a[href="#/xac-nhan-diem"]')).trim(), 'Xác nhận điểm', 'the link');
    equal(await page.locator('#nav a[href="#/truong"]').count(), 0, 'no school-wide screen');
    equal(await page.locator('#nav a[href="#/luot-ky"]').count(), 0, 'no record jobs');
    await page.click('#nav a[href="#/xac-nhan-diem"]');
    await page.waitForSelector('.view h1');
    equal(await page.textContent('.view h1'), 'Xác nhận điểm', 'the title');
    await page.waitForSelector('.view table.sheets, .view .msg');
    const text = await page.textContent('.view');
    assert((await page.locator('.view table.sheets').count()) === 1 || text.includes('Chưa hỗ trợ') || text.includes('Chưa có bảng điểm'), `the sheets view: ${text}`);
    await checkVietnamese(page, 'subject teacher sheets');
    await fitsPhone(page, 'subject teacher sheets');
    await context.close();
  });

  // --- the principal, on a desktop ---
  const principal = await newPage(browser, 'principal', { width: 1280, height: 900 }, problems, false);
  const pp = principal.page;

  await step('principal: logs in and sees the whole school', async () => {
    await uiLogin(pp, 'ht', 'password-ht');
    await pp.waitForSelector('table.classes');
    equal(await pp.textContent('h1'), 'Toàn trường', 'title');
    equal(await pp.textContent('.stat-total .value'), '35', 'records in the school');
    equal(await pp.textContent('.stat-gvcn .value'), '35', 'signed by the GVCN');
    const row = await pp.textContent(`tr[data-class="${classId}"]`);
    assert(row.includes('3A') && row.includes('Võ Tuấn Cường'), `class row: ${row}`);
    assert(await pp.isVisible('form.job-start[data-field="hieu_truong"]'), '"Ký duyệt toàn trường" is offered');
    await checkVietnamese(pp, 'principal school');
  });

  await step('principal: a wrong PIN on one record gives the Vietnamese message', async () => {
    await pp.click(`tr[data-class="${classId}"] a`);
    await pp.waitForSelector('.record-row');
    await pp.click('.record-row >> nth=0');
    await pp.waitForSelector('#sign-one');
    await pp.fill('#pin-record', '000000');
    await pp.click('#sign-one button.primary');
    await pp.waitForSelector('#sign-one .msg.error');
    const text = await pp.textContent('#sign-one .msg.error');
    assert(text.includes('Mã PIN không đúng. Token chưa bị thử lại; hãy kiểm tra mã PIN.'), `message: ${text}`);
    equal(await pp.inputValue('#pin-record'), '', 'the PIN field is cleared');
    await checkVietnamese(pp, 'principal wrong PIN');
    await moreShot(pp, 'principal-wrong-pin.png', true);
  });

  await step('principal: the right PIN after a wrong one needs "Tôi xác nhận thử lại"; then it signs', async () => {
    await pp.fill('#pin-record', pin('HIEU-TRUONG'));
    await pp.click('#sign-one button.primary');
    await pp.waitForFunction(() => {
      const m = document.querySelector('#sign-one .msg.error');
      return (m && /xác nhận thử lại/.test(m.textContent)) || document.querySelector('.msg.ok');
    });
    // The token was refused a PIN a moment ago: the server will not try another one unconfirmed.
    assert(await pp.isVisible('#sign-one .confirm'), 'the confirmation checkbox is offered');
    equal((await pp.textContent('#sign-one .confirm')).trim(), 'Tôi xác nhận thử lại', 'the confirmation label');
    assert((await pp.textContent('#sign-one .msg.error')).includes('Nhập sai thêm có thể khóa token'), 'the risk is explained');
    await checkVietnamese(pp, 'principal confirm');
    await moreShot(pp, 'principal-confirm.png', true);
    await pp.check('#sign-one .confirm input');
    await pp.fill('#pin-record', pin('HIEU-TRUONG'));
    await pp.click('#sign-one button.primary');
    await pp.waitForSelector('.msg.ok');
    assert((await pp.textContent('.msg.ok')).includes('Đã ký học bạ thành công'), 'success message');
    const ht = await pp.textContent('.sig[data-field="hieu_truong"]');
    assert(ht.includes('Đã ký'), `principal signature: ${ht}`);
  });

  await step('principal: "Ký duyệt toàn trường" signs the other 34 records', async () => {
    await pp.goto(`${base}/#/truong`);
    await pp.waitForSelector('form.job-start[data-field="hieu_truong"]');
    await pp.fill('#pin-job-hieu_truong', pin('HIEU-TRUONG'));
    const button = await pp.textContent('form.job-start[data-field="hieu_truong"] button');
    assert(button.includes('Ký duyệt toàn trường') && button.includes('34'), `button: ${button}`);
    await pp.click('form.job-start[data-field="hieu_truong"] button');
    await pp.waitForURL(/#\/luot-ky\/\d+$/);
    await waitJobDone(pp, 34);
    await checkVietnamese(pp, 'principal job');
    await moreShot(pp, 'principal-job.png');
  });

  await step('principal: "Đóng dấu toàn trường" with a wrong PIN stops at once and says why', async () => {
    await pp.goto(`${base}/#/truong`);
    await pp.waitForSelector('form.job-start[data-field="con_dau"]');
    equal(await pp.textContent('.stat-hieu_truong .value'), '35', 'signed by the principal');
    await checkVietnamese(pp, 'principal school before the seal');
    await shot(pp, 'web-principal.png');
    await pp.fill('#pin-job-con_dau', '999999');
    const button = await pp.textContent('form.job-start[data-field="con_dau"] button');
    assert(button.includes('Đóng dấu toàn trường') && button.includes('35'), `button: ${button}`);
    await pp.click('form.job-start[data-field="con_dau"] button');
    await pp.waitForURL(/#\/luot-ky\/\d+$/);
    await pp.waitForSelector('.view[data-state="failed"]', { timeout: 120000 });
    const reason = await pp.textContent('#job-reason');
    assert(reason.includes('Mã PIN không đúng. Token chưa bị thử lại; hãy kiểm tra mã PIN.'), `reason: ${reason}`);
    equal(await pp.textContent('#job-done'), '0', 'nothing signed with the wrong PIN');
    assert(await pp.isVisible('#job-resume .confirm'), 'the confirmation is offered with the resume form');
    await checkVietnamese(pp, 'principal failed job');
    await moreShot(pp, 'principal-job-failed.png', true);
  });

  await step('principal: resumes the seal job with the right PIN; every record is "Đã hoàn tất"', async () => {
    await pp.fill('#pin-resume', pin('CON-DAU'));
    await pp.check('#job-resume .confirm input');
    await pp.click('#job-resume button.primary');
    await pp.waitForFunction(() => document.querySelector('.view')?.dataset.state !== 'failed');
    await waitJobDone(pp, 35);
    await pp.goto(`${base}/#/lop/${classId}`);
    await pp.waitForSelector('.record-row');
    equal(await pp.locator('.record-row .badge.st-final').count(), 35, 'final records');
    const badges = await pp.$$eval('.record-row .badge', (b) => [...new Set(b.map((x) => x.textContent))]);
    equal(badges.join(','), 'Đã hoàn tất', 'every badge');
    equal(await pp.textContent('.stat-final .value'), '35', 'final count');
    await checkVietnamese(pp, 'principal class');
    await pp.goto(`${base}/#/truong`);
    await pp.waitForSelector('table.classes');
    assert((await pp.textContent('.view')).includes('Không có học bạ nào đang chờ'), 'nothing left to sign');
  });

  // --- a correction: asked by the teacher, approved by the admin ---
  let recordId = 0;
  await step('teacher: asks for a correction of a final record', async () => {
    await tp.goto(`${base}/#/lop/${classId}`);
    await tp.waitForSelector('.record-row');
    recordId = Number(await tp.getAttribute('.record-row >> nth=0', 'data-record'));
    const rec = await apiJson('GET', `/api/v1/records/${recordId}`, adminToken, undefined, 200);
    const student = sample.students.find((s) => s.personal_id === rec.personal_id);
    assert(student, 'the student is in the sample');
    await tp.click('.record-row >> nth=0');
    await tp.waitForSelector('#correction-form', { state: 'attached' });
    await tp.click('details.card > summary');
    await tp.fill('#correction-why', 'Nhận xét cuối năm ghi nhầm, cần sửa lại.');
    await tp.fill('#correction-json', JSON.stringify(student, null, 2));
    await tp.dispatchEvent('#correction-json', 'change');
    equal(await tp.inputValue('#correction-comment'), student.primary.homeroom_comment, 'the comment is read from the JSON');
    await tp.fill('#correction-comment', 'Em chăm ngoan, tiến bộ rõ trong học kì II.');
    assert((await tp.inputValue('#correction-json')).includes('tiến bộ rõ trong học kì II'), 'the JSON follows the comment');
    await tp.click('#correction-form button.primary');
    await tp.waitForSelector('#correction-form .msg.ok');
    assert((await tp.textContent('#correction-form .msg.ok')).includes('Đã gửi yêu cầu đính chính'), 'sent');
    await checkVietnamese(tp, 'teacher correction');
    await fitsPhone(tp, 'teacher correction');
    await moreShot(tp, 'teacher-correction.png', true);
  });

  const admin = await newPage(browser, 'admin', { width: 1280, height: 900 }, problems, false);
  const ap = admin.page;

  await step('admin: adds a teacher, imports class 5A from a file, assigns its homeroom teacher', async () => {
    await uiLogin(ap, 'admin', 'password-admin');
    await ap.waitForSelector('#user-form');
    const roles = await ap.$$eval('#user-role option', (o) => o.map((x) => `${x.value}=${x.textContent}`));
    for (const r of ['homeroom_teacher=Giáo viên chủ nhiệm', 'principal=Hiệu trưởng', 'deputy_principal=Phó hiệu trưởng', 'subject_teacher=Giáo viên bộ môn', 'admin=Quản trị'])
      assert(roles.includes(r), `the role ${r} is offered: ${roles.join(', ')}`);
    assert((await ap.textContent('tr[data-user="pho.ht"]')).includes('Phó hiệu trưởng'), 'the deputy is listed by role');
    await ap.fill('#user-username', 'gvcn.5a');
    await ap.fill('#user-display', 'Đỗ Đức Cường');
    await ap.selectOption('#user-role', 'homeroom_teacher');
    await ap.fill('#user-password', 'password-gvcn.5a');
    await ap.click('#user-form button.primary');
    await ap.waitForSelector('tr[data-user="gvcn.5a"]');
    assert((await ap.textContent('.view .msg.ok')).includes('Đã thêm người dùng gvcn.5a'), 'user added');
    await ap.goto(`${base}/#/quan-tri/lop`);
    await ap.waitForSelector(`tr[data-class="${classId}"]`);
    await ap.setInputFiles('#import-file', path.join(SOURCE, 'tests/data/samples/primary-5A.json'));
    equal((await ap.textContent('.file-picker .file-name')).trim(), 'primary-5A.json', 'the chosen file is named');
    await ap.click('#import-form button.primary');
    await ap.waitForSelector('#import-result .msg.ok', { timeout: 120000 });
    const result = await ap.textContent('#import-result');
    assert(result.includes('Đã nhập lớp: 33 học bạ mới'), `import result: ${result}`);
    await ap.waitForFunction(() => document.querySelectorAll('tr[data-class]').length === 2);
    const row5 = ap.locator('tr[data-class]:has-text("5A")');
    equal(await row5.locator('select').inputValue(), 'gvcn.5a', 'the class file named its homeroom teacher');
    await row5.locator('select').selectOption('gvcn.3a');
    await row5.locator('button').click();
    await row5.locator('.msg.ok').waitFor();
    await row5.locator('select').selectOption('gvcn.5a');
    await row5.locator('button').click();
    await row5.locator('.msg.ok').waitFor();
    const classes = (await apiJson('GET', '/api/v1/classes', adminToken, undefined, 200)).classes;
    equal(classes.find((c) => c.name === '5A').homeroom, 'gvcn.5a', 'homeroom of 5A');
    await checkVietnamese(ap, 'admin classes');
    await moreShot(ap, 'admin-classes.png', true);
  });

  await step('admin: users, keys, the correction approved, the audit log verified', async () => {
    await ap.goto(`${base}/#/quan-tri/nguoi-dung`);
    await ap.waitForSelector('tr[data-user="gvcn.3a"]');
    assert((await ap.textContent('tr[data-user="gvcn.3a"]')).includes('Giáo viên chủ nhiệm'), 'the teacher is listed');
    await checkVietnamese(ap, 'admin users');
    await moreShot(ap, 'admin-users.png', true);
    await ap.goto(`${base}/#/quan-tri/khoa`);
    await ap.waitForSelector('tr[data-key]');
    equal(await ap.locator('tr[data-key]').count(), 3, 'bound keys');
    assert((await ap.textContent('.view')).includes('Con dấu nhà trường'), 'the seal key');
    equal(await ap.locator('li[data-uri] .bound').count(), 3, 'token keys shown as bound');
    assert((await ap.textContent('li[data-uri*="object=gvcn-3a;"] .bound')).includes('Võ Tuấn Cường'), 'bound to the teacher');
    const owners = await ap.$$eval('#bind-owner-uri option', (o) => o.map((x) => x.value));
    assert(owners.includes('pho.ht') && owners.includes('ht') && owners.includes('gvcn.3a'), `signers a key may be bound to: ${owners.join(', ')}`);
    assert(!owners.includes('admin'), 'the admin holds no signing key');
    // Bind the spare P-384 seal key from its card, then unbind it.
    const spare = ap.locator('li[data-uri*="object=con-dau-p384;"]');
    await spare.locator('select').selectOption('@seal');
    await spare.locator('button').click();
    await ap.waitForFunction(() => document.querySelectorAll('tr[data-key]').length === 4);
    assert((await ap.textContent('.view .msg.ok')).includes('Đã gán khóa ký'), 'bound message');
    await ap.locator('tr[data-key]:has-text("con-dau-p384") button').click();
    await ap.waitForFunction(() => document.querySelectorAll('tr[data-key]').length === 3);
    await checkVietnamese(ap, 'admin keys');
    await moreShot(ap, 'admin-keys.png', true);
    await ap.goto(`${base}/#/quan-tri/dinh-chinh`);
    await ap.waitForSelector('li[data-correction] .approve');
    await checkVietnamese(ap, 'admin corrections');
    await moreShot(ap, 'admin-corrections.png', true);
    await ap.click('li[data-correction] .approve');
    await ap.waitForSelector('li[data-correction] .cs-approved');
    equal((await ap.textContent('li[data-correction] .cs-approved')).trim(), 'Đã duyệt', 'approved');
    // The seal image: "Hình con dấu" (the admin), uploaded and previewed; the teacher's signature
    // image is listed on the users' page.
    await ap.goto(`${base}/#/quan-tri/con-dau`);
    await ap.waitForSelector('#seal-image-form');
    await ap.setInputFiles('#seal-image-file', path.join(SOURCE, 'tests/data/images/seal.png'));
    await ap.click('#seal-image-upload');
    await ap.waitForSelector('#seal-image-msg .msg.ok');
    await ap.waitForFunction(() => {
      const img = document.querySelector('#seal-image-img');
      return img && img.complete && img.naturalWidth === 300;
    });
    await checkVietnamese(ap, 'admin seal');
    await ap.goto(`${base}/#/quan-tri/nguoi-dung`);
    await ap.waitForSelector('tr[data-user="gvcn.3a"]');
    await ap.click('tr[data-user="gvcn.3a"] a.image-link');
    await ap.waitForSelector('#signature-image-img');
    assert((await ap.textContent('.view h1')).includes('Võ Tuấn Cường'), 'the teacher\'s account, as the admin sees it');
    await ap.goto(`${base}/#/quan-tri/nhat-ky`);
    await ap.waitForSelector('table.audit tbody tr');
    await ap.click('#audit-verify');
    await ap.waitForSelector('#audit-verdict .msg.ok');
    assert((await ap.textContent('#audit-verdict')).includes('Nhật ký toàn vẹn'), 'the audit log is intact');
    await checkVietnamese(ap, 'admin audit');
    await moreShot(ap, 'admin-audit.png');
  });

  await step('teacher: the corrected record is a new draft; the old one is replaced', async () => {
    await tp.goto(`${base}/#/lop/${classId}`);
    await tp.waitForSelector('.record-row');
    equal(await tp.locator('.record-row').count(), 35, 'records listed');
    equal(await tp.locator('.record-row .badge.st-draft').count(), 1, 'the new draft');
    equal(await tp.locator('.record-row .badge.st-final').count(), 34, 'the others stay final');
    await tp.goto(`${base}/#/hoc-ba/${recordId}`);
    await tp.waitForSelector('.sigs');
    assert((await tp.textContent('h1 .badge')).includes('Đã thay thế'), 'the old version reads "Đã thay thế"');
  });

  await step('principal: "Ký duyệt và đóng dấu toàn trường" signs and seals the corrected record, both PINs at once', async () => {
    const tt = await login('gvcn.3a');
    const cls = await apiJson('GET', `/api/v1/classes/${classId}`, tt, undefined, 200);
    const draft = cls.records.find((r) => r.state === 'draft');
    assert(draft, 'the corrected draft is listed');
    await apiJson('POST', `/api/v1/records/${draft.id}/sign`, tt, { pin: pin('GVCN-3A') }, 200);
    const me = await apiJson('GET', '/api/v1/me', await login('ht'), undefined, 200);
    await pp.goto(`${base}/#/truong`);
    await pp.reload();  // the page shows #/truong already: draw it anew
    await pp.waitForSelector('form.job-night');
    equal(await pp.getAttribute('form.job-night', 'data-steps'), 'hieu_truong con_dau', 'the steps of the night job');
    const button = await pp.textContent('form.job-night button.primary');
    const title = `${me.chain.steps.hieu_truong.verb} và ${me.chain.steps.con_dau.verb.toLowerCase()} toàn trường`;
    equal(button, `${title} (1 học bạ)`, 'the two-step job from the chain');
    // Without the seal's PIN nothing is sent; both fields are cleared.
    await pp.fill('#pin-night', pin('HIEU-TRUONG'));
    await pp.click('form.job-night button.primary');
    await pp.waitForSelector('form.job-night .msg.error');
    assert((await pp.textContent('form.job-night .msg.error')).includes('Hãy nhập mã PIN của token.'), 'the missing seal PIN is named');
    equal(await pp.inputValue('#pin-night'), '', 'the PIN field is cleared');
    await pp.fill('#pin-night', pin('HIEU-TRUONG'));
    await pp.fill('#seal-pin-night', pin('CON-DAU'));
    await pp.click('form.job-night button.primary');
    await pp.waitForURL(/#\/luot-ky\/\d+$/);
    await waitJobDone(pp, 1);
    equal(await pp.textContent('h1'), title, 'the job is titled with both steps');
    equal(await pp.textContent('#job-steps li[data-step="con_dau"]'), `${me.chain.steps.con_dau.done_label}: 1/1`, 'the seal step count');
    const rec = await apiJson('GET', `/api/v1/records/${draft.id}`, adminToken, undefined, 200);
    equal(rec.state, 'final', 'the corrected record is final');
    equal(rec.signatures.map((x) => x.field).join(','), 'gvcn,hieu_truong,con_dau', 'its signatures');
    await checkVietnamese(pp, 'principal night job');
    await moreShot(pp, 'principal-night-job.png', true);
  });

  await step('teacher: an expired session sends her back to the login, in Vietnamese', async () => {
    await teacher.context.clearCookies();
    await tp.goto(`${base}/#/lop`);
    await tp.waitForSelector('#login-form');
    // The page was loaded anew: no session is a plain login; an ended session in a loaded page says so.
    await tp.fill('#login-username', 'gvcn.3a');
    await tp.fill('#login-password', 'password-gvcn.3a');
    await tp.click('#login-submit');
    await tp.waitForSelector('.class-card');
    await teacher.context.clearCookies();
    await tp.click('.class-card');
    await tp.waitForSelector('#login-form .msg.info');
    assert((await tp.textContent('#login-form .msg.info')).includes('Phiên làm việc đã hết hạn'), 'session expired message');
  });

  await step('too many wrong passwords lock this address out of the account, in Vietnamese', async () => {
    const { context, page } = await newPage(browser, 'stranger', { width: 390, height: 844 }, problems, true);
    await uiLogin(page, 'khach', 'sai-mat-khau');
    for (let i = 0; i < 6; i++) {
      await page.waitForSelector('#login-form .msg.error');
      const t = await page.textContent('#login-form .msg.error');
      if (t.includes('tạm không đăng nhập được')) break;
      await page.fill('#login-password', 'sai-mat-khau');
      await page.click('#login-submit');
      await page.waitForFunction((before) => document.querySelector('#login-form .msg.error')?.textContent !== before || true, t);
      await page.waitForTimeout(150);
    }
    const t = await page.textContent('#login-form .msg.error');
    assert(t.includes('Máy này tạm không đăng nhập được vào tài khoản này do nhập sai mật khẩu nhiều lần'), `message: ${t}`);
    await checkVietnamese(page, 'locked out');
    await context.close();
  });

  await step('no console error, CSP violation or unexpected HTTP error', async () => {
    for (const p of [tp, pp, ap]) {
      const v = await cspViolations(p);
      assert(v.length === 0, `CSP violations: ${v.join('; ')}`);
    }
    assert(problems.length === 0, problems.join('\n'));
  });
} catch (e) {
  if (hocbad && hocbad.logTail) console.log(`# hocbad's last log lines:\n${hocbad.logTail().replace(/^/gm, '# ')}`);
  if (problems.length) console.log(`# browser problems so far:\n# ${problems.join('\n# ')}`);
} finally {
  for (const c of cleanups.reverse()) {
    try {
      await c();
    } catch (_) {
      // keep cleaning
    }
  }
  if (!process.env.HOCBA_KEEP_TMP) rmSync(tmp, { recursive: true, force: true });
  else console.log(`# kept ${tmp}`);
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed || passed === 0 ? 1 : 0);
