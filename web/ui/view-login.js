// Logging in and out. The login answer sets the session cookie; the page never sees the token.
import { T } from './i18n.js';
import { api } from './api.js';
import { h, field, messageBox, errorBox, clear, fill } from './dom.js';
import { state, render, stopTimers, takeNotice, main } from './state.js';

export function showLogin(err) {
  stopTimers();
  document.getElementById('who').hidden = true;
  document.getElementById('nav').hidden = true;
  const user = h('input', { name: 'username', id: 'login-username', autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false' });
  const pass = h('input', { name: 'password', id: 'login-password', type: 'password', autocomplete: 'current-password' });
  const totp = h('input', { name: 'totp', id: 'login-totp', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: '8' });
  // Always shown: the server does not say whether an account needs a code before the password and
  // the code are both right.
  const totpRow = field(T.totp, totp, T.totpHint);
  const msg = h('div', { class: 'msgs' }, takeNotice());
  if (err) msg.appendChild(errorBox(err));
  const button = h('button', { type: 'submit', class: 'primary', id: 'login-submit' }, T.login);
  const form = h(
    'form',
    { class: 'card login', id: 'login-form', novalidate: true },
    h('h1', {}, T.login),
    h('p', { class: 'muted' }, T.loginIntro),
    msg,
    field(T.username, user),
    field(T.password, pass),
    totpRow,
    button,
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clear(msg);
    if (!user.value.trim() || !pass.value) {
      msg.appendChild(messageBox('error', T.loginMissing));
      return;
    }
    const body = { username: user.value.trim(), password: pass.value };
    if (totp.value.trim()) body.totp = totp.value.trim();
    button.disabled = true;
    try {
      await api('POST', '/auth/login', body);
      pass.value = '';
      totp.value = '';
      state.me = await api('GET', '/me');
      render();
    } catch (e) {
      pass.value = '';
      totp.value = '';
      pass.focus();
      msg.appendChild(errorBox(e));
    } finally {
      button.disabled = false;
    }
  });
  fill(main(), form);
  user.focus();
}

export async function logout() {
  try {
    await api('POST', '/auth/logout');
  } catch (_) {
    // the session may be gone already
  }
  state.me = null;
  state.notice = { kind: 'ok', text: T.loggedOut };
  history.replaceState(null, '', '#/');
  showLogin();
}
