// hocba-signer's web UI: one page with hash routing and plain DOM, served by hocbad itself.
// Every visible text is Vietnamese (i18n.js); code, comments and console output are English. It talks
// only to /api/v1/ with the session cookie (api.js) and never keeps a PIN (pin.js). What the user may
// sign, and every step's words, come from the server's chain (chain.js).
//
// Modules: main.js (this: routes, the top bar and navigation), state.js, api.js, i18n.js, chain.js,
// dom.js, pin.js, signing.js and one view-*.js per screen (view-account.js: one's account and the images).
import { T, ROLE_TEXT, ERROR_TEXT } from './i18n.js';
import { api, whenUnauthenticated } from './api.js';
import { h, fill, messageBox, errorBox } from './dom.js';
import { state, role, setRenderer, stopTimers, markNav, main } from './state.js';
import { signsSchoolWide, signsOwnClasses, myRecordSteps, mySheetSteps } from './chain.js';
import { showLogin, logout } from './view-login.js';
import { viewClasses, viewClass } from './view-classes.js';
import { viewRecord } from './view-record.js';
import { viewJobs, viewJob } from './view-jobs.js';
import { viewSchool } from './view-school.js';
import { viewCorrections } from './view-corrections.js';
import { viewAdmin } from './view-admin.js';
import { viewSheets, sheetsTitle } from './view-sheets.js';
import { viewAccount } from './view-account.js';

function home(el) {
  if (role() === 'admin') return viewAdmin(el, 'nguoi-dung');
  if (signsSchoolWide()) return viewSchool(el);
  return viewClasses(el);
}

const ROUTES = [
  [/^#?\/?$/, home],
  [/^#\/lop$/, viewClasses],
  [/^#\/lop\/(\d+)$/, viewClass],
  [/^#\/hoc-ba\/(\d+)$/, viewRecord],
  [/^#\/luot-ky$/, viewJobs],
  [/^#\/luot-ky\/(\d+)$/, viewJob],
  [/^#\/truong$/, viewSchool],
  [/^#\/dinh-chinh$/, viewCorrections],
  [/^#\/xac-nhan-diem$/, viewSheets],
  [/^#\/quan-tri(?:\/([a-z-]+))?$/, viewAdmin],
  [/^#\/tai-khoan(?:\/(\d+))?$/, viewAccount],
];

// The navigation of this user: the admin's screens, or the screens of the steps the user signs.
function navLinks() {
  if (role() === 'admin')
    return [
      ['#/quan-tri/nguoi-dung', T.navUsers],
      ['#/quan-tri/khoa', T.navKeys],
      ['#/quan-tri/lop', T.navClasses],
      ['#/quan-tri/dinh-chinh', T.navCorrections],
      ['#/quan-tri/con-dau', T.navSeal],
      ['#/quan-tri/nhat-ky', T.navAudit],
      ['#/tai-khoan', T.navAccount],
    ];
  const links = [];
  if (signsSchoolWide()) links.push(['#/truong', T.navSchool]);
  else if (signsOwnClasses()) links.push(['#/lop', T.navMyClasses]);
  else links.push(['#/lop', T.navClasses]);
  if (mySheetSteps().length) links.push(['#/xac-nhan-diem', sheetsTitle()]);
  if (myRecordSteps().length) links.push(['#/luot-ky', T.navJobs], ['#/dinh-chinh', T.navCorrections]);
  links.push(['#/tai-khoan', T.navAccount]);
  return links;
}

function showUser() {
  const me = state.me;
  document.getElementById('who').hidden = false;
  document.getElementById('who-name').textContent = me.display_name || me.username;
  document.getElementById('who-role').textContent = ROLE_TEXT[me.role] || me.role;
  const nav = document.getElementById('nav');
  fill(nav, navLinks().map(([href, text]) => h('a', { href }, text)));
  nav.hidden = false;
}

async function render() {
  stopTimers();
  if (!state.me) {
    try {
      state.me = await api('GET', '/me');
    } catch (e) {
      showLogin(e.code && e.code !== 'unauthenticated' ? e : null);
      return;
    }
  }
  showUser();
  const hash = location.hash || '#/';
  for (const [re, view] of ROUTES) {
    const m = re.exec(hash);
    if (!m) continue;
    const el = h('section', { class: 'view' }, h('p', { class: 'loading' }, T.loading));
    fill(main(), el);
    markNav(hash);
    try {
      await view(el, ...m.slice(1));
    } catch (e) {
      if (e.code === 'unauthenticated') return;
      console.warn('view failed', e);
      fill(el, errorBox(e));
    }
    return;
  }
  fill(main(), messageBox('error', T.noSuchPage), h('p', {}, h('a', { href: '#/' }, T.backHome)));
}

// The session ended while the page was in use: the login form, then the same screen again.
function sessionLost() {
  if (!state.me) return;
  state.me = null;
  state.notice = { kind: 'info', text: ERROR_TEXT.unauthenticated };
  stopTimers();
  showLogin();
}

function start() {
  document.getElementById('logout').addEventListener('click', logout);
  render();
}

setRenderer(render);
whenUnauthenticated(sessionLost);
window.addEventListener('hashchange', render);
// A module runs after the document is parsed; DOMContentLoaded may not have fired yet.
if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
