// The admin's screens (#/quan-tri/...): users, keys (view-admin-keys.js), classes and their import,
// corrections to decide, the seal image (view-account.js), the audit log.
import { T, ROLE_TEXT, ROLES, ERROR_TEXT, ACTOR_TEXT, AUDIT_ACTION, fmtTime } from './i18n.js';
import { api } from './api.js';
import { h, field, fill, clear, messageBox, errorBox, showError, problemList, filePicker, table } from './dom.js';
import { state, role, render, later, takeNotice, markNav } from './state.js';
import { correctionsList } from './view-corrections.js';
import { adminKeys } from './view-admin-keys.js';
import { adminSeal } from './view-account.js';

const TABS = {
  'nguoi-dung': adminUsers,
  khoa: adminKeys,
  lop: adminClasses,
  'dinh-chinh': adminCorrections,
  'con-dau': adminSeal,
  'nhat-ky': adminAudit,
};

export async function viewAdmin(el, tab) {
  if (role() !== 'admin') {
    fill(el, messageBox('error', ERROR_TEXT.forbidden));
    return;
  }
  const fn = TABS[tab || 'nguoi-dung'];
  if (!fn) {
    fill(el, messageBox('error', T.noSuchPage));
    return;
  }
  markNav(`#/quan-tri/${tab || 'nguoi-dung'}`);
  await fn(el);
}

async function adminUsers(el) {
  const { users } = await api('GET', '/users');
  const msg = h('div', { class: 'msgs' });
  const username = h('input', { name: 'username', id: 'user-username', autocomplete: 'off', autocapitalize: 'none' });
  const display = h('input', { name: 'display_name', id: 'user-display' });
  const roleSel = h('select', { name: 'role', id: 'user-role' }, ROLES.map((r) => h('option', { value: r }, ROLE_TEXT[r])));
  const password = h('input', { name: 'password', id: 'user-password', type: 'password', autocomplete: 'new-password' });
  const form = h(
    'form',
    { class: 'card grid-form', id: 'user-form', novalidate: true },
    h('h2', {}, T.addUser),
    field(T.username, username),
    field(T.displayName, display),
    field(T.role, roleSel),
    field(T.password, password, T.passwordHint),
    msg,
    h('button', { type: 'submit', class: 'primary' }, T.addUser),
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clear(msg);
    try {
      await api('POST', '/users', { username: username.value.trim(), display_name: display.value.trim(), role: roleSel.value, password: password.value });
      password.value = '';
      state.notice = { kind: 'ok', text: T.userAdded(username.value.trim()) };
      render();
    } catch (e) {
      password.value = '';
      showError(msg, e);
    }
  });
  const toggle = async (u) => {
    try {
      await api('PATCH', `/users/${u.id}`, { disabled: !u.disabled });
      render();
    } catch (e) {
      if (e.code !== 'unauthenticated') fill(msg, errorBox(e));
    }
  };
  fill(
    el,
    h('h1', {}, T.users),
    takeNotice(),
    table(
      T.userHeaders,
      users.map((u) =>
        h(
          'tr',
          { 'data-user': u.username },
          h('td', {}, u.username),
          h('td', {}, u.display_name),
          h('td', {}, ROLE_TEXT[u.role] || u.role),
          h('td', {}, u.disabled ? T.userLocked : T.userActive),
          h('td', {}, u.totp ? T.totpOn : T.totpOff),
          h('td', {}, h('a', { href: `#/tai-khoan/${u.id}`, class: 'image-link' }, u.signature_image ? T.imageYes : T.imageNo)),
          h('td', {}, u.username === state.me.username ? '' : h('button', { type: 'button', class: 'small-btn', onclick: () => toggle(u) }, u.disabled ? T.unlock : T.lock)),
        ),
      ),
    ),
    form,
  );
}

function importSummary(msg, r) {
  msg.appendChild(messageBox('ok', T.imported(r)));
  if (r.warnings && r.warnings.length)
    msg.append(h('details', { class: 'problems-box' }, h('summary', {}, T.importWarnings(r.warnings.length)), problemList(r.warnings)));
  if (r.errors && r.errors.length)
    msg.append(h('details', { class: 'problems-box', open: true }, h('summary', {}, T.importErrors(r.errors.length)), problemList(r.errors)));
}

function classRows(cs, teachers) {
  return cs.map((c) => {
    const sel = h(
      'select',
      { name: 'homeroom', 'aria-label': T.homeroomOfClass(c.name) },
      h('option', { value: '' }, T.choose),
      teachers.map((u) => h('option', { value: u.username, selected: u.username === c.homeroom }, u.display_name || u.username)),
    );
    const out = h('div', { class: 'msgs' });
    const assign = async () => {
      clear(out);
      if (!sel.value) return;
      try {
        await api('PUT', `/classes/${c.id}/homeroom`, { username: sel.value });
        out.appendChild(messageBox('ok', T.assigned));
      } catch (e) {
        showError(out, e);
      }
    };
    return h(
      'tr',
      { 'data-class': c.id },
      h('td', {}, h('a', { href: `#/lop/${c.id}` }, c.name)),
      h('td', {}, c.school_year),
      h('td', { class: 'num' }, String(c.records)),
      h('td', { class: 'num' }, String(c.final)),
      h('td', {}, h('div', { class: 'controls' }, sel, h('button', { type: 'button', class: 'small-btn', onclick: assign }, T.assign)), out),
    );
  });
}

async function adminClasses(el) {
  const [{ classes }, { users }] = await Promise.all([api('GET', '/classes'), api('GET', '/users')]);
  // A class's homeroom teacher is a homeroom teacher's account (the class file names it too).
  const teachers = users.filter((u) => u.role === 'homeroom_teacher' && !u.disabled);
  const msg = h('div', { class: 'msgs', id: 'import-result' });
  const picker = filePicker('import-file', '.json,application/json');
  const file = picker.input;
  const btn = h('button', { type: 'submit', class: 'primary' }, T.importButton);
  const form = h(
    'form',
    { class: 'card', id: 'import-form', novalidate: true },
    h('h2', {}, T.importTitle),
    h('p', { class: 'muted' }, T.importIntro),
    h('div', { class: 'field' }, h('span', { class: 'label' }, T.importFile), picker),
    msg,
    btn,
  );
  const list = h('div', {});
  const renderList = (cs) => fill(list, cs.length ? table(T.classHeaders, classRows(cs, teachers)) : messageBox('info', T.noClasses));
  const refreshList = async () => {
    try {
      renderList((await api('GET', '/classes')).classes);
    } catch (_) {
      // the import message already says what happened
    }
  };
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clear(msg);
    const f = file.files && file.files[0];
    if (!f) {
      msg.appendChild(messageBox('error', T.importNoFile));
      return;
    }
    btn.disabled = true;
    msg.appendChild(messageBox('info', T.importing));
    try {
      const r = await api('POST', '/classes', await f.text());
      clear(msg);
      importSummary(msg, r);
      later(0, () => refreshList());
    } catch (e) {
      clear(msg);
      showError(msg, e);
    } finally {
      btn.disabled = false;
      picker.reset();
    }
  });
  renderList(classes);
  fill(el, h('h1', {}, T.classesAdmin), list, form);
}

async function adminCorrections(el) {
  const { corrections } = await api('GET', '/corrections');
  fill(el, h('h1', {}, T.adminCorrections), correctionsList(corrections, true, () => render()));
}

async function adminAudit(el) {
  const verdict = h('div', { class: 'msgs', id: 'audit-verdict' });
  const verify = async () => {
    fill(verdict, messageBox('info', T.auditChecking));
    try {
      const v = await api('GET', '/audit/verify');
      fill(verdict, v.ok ? messageBox('ok', T.auditOk(v.checked)) : messageBox('error', T.auditBroken(v.problem_seq), v.message));
    } catch (e) {
      if (e.code !== 'unauthenticated') fill(verdict, errorBox(e));
    }
  };
  const log = table(T.auditHeaders, [], 'audit');
  const body = log.querySelector('tbody');
  const more = h('button', { type: 'button', id: 'audit-more' }, T.auditMore);
  let after = 0;
  const load = async () => {
    const { entries } = await api('GET', `/audit?after=${after}&limit=200`);
    for (const e of entries) {
      after = e.seq;
      body.appendChild(
        h(
          'tr',
          {},
          h('td', { class: 'num' }, String(e.seq)),
          h('td', {}, fmtTime(e.at)),
          h('td', {}, ACTOR_TEXT[e.actor] || e.actor.replace(/^user:/, '')),
          h('td', {}, AUDIT_ACTION[e.action] || e.action),
          h('td', {}, h('code', { class: 'small', translate: 'no' }, typeof e.detail === 'string' ? e.detail : JSON.stringify(e.detail))),
        ),
      );
    }
    more.hidden = entries.length < 200;
  };
  more.addEventListener('click', () => load().catch((e) => fill(verdict, errorBox(e))));
  await load();
  fill(
    el,
    h('h1', {}, T.audit),
    h('p', { class: 'muted' }, T.auditIntro),
    h('p', {}, h('button', { type: 'button', class: 'primary', id: 'audit-verify', onclick: verify }, T.auditVerify)),
    verdict,
    log,
    more,
  );
}
