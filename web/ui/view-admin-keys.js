// The admin's keys (#/quan-tri/khoa): bound keys (unbind), the tokens present with their PIN state,
// the keys on them (each bound to a signer or the school seal in one step), a key by its URI.
import { T, ROLE_TEXT } from './i18n.js';
import { api } from './api.js';
import { h, field, fill, clear, messageBox, errorBox, showError, table } from './dom.js';
import { state, render, takeNotice } from './state.js';
import { keyHolderRoles } from './chain.js';

// The attributes of a PKCS#11 URI's path (RFC 7512), as written: "pkcs11:token=A;object=b" ->
// {token: 'A', object: 'b'}.
function uriAttrs(uri) {
  const out = {};
  const p = String(uri || '').replace(/^pkcs11:/, '').split('?')[0];
  for (const part of p.split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i)] = decodeURIComponentSafe(part.slice(i + 1));
  }
  return out;
}

function decodeURIComponentSafe(v) {
  try {
    return decodeURIComponent(v);
  } catch (_) {
    return v;
  }
}

function tokenState(t) {
  if (!t.label) return T.tokenUninitialised;
  if (!t.present) return T.tokenAbsent;
  if (t.pin_locked) return T.tokenPinLocked;
  if (t.pin_final_try) return T.tokenFinalTry;
  if (t.pin_count_low) return T.tokenCountLow;
  return T.tokenReady;
}

export async function adminKeys(el) {
  const [{ keys }, tokensRes, { users }] = await Promise.all([
    api('GET', '/keys'),
    api('GET', '/tokens').catch((e) => ({ error: e })),
    api('GET', '/users'),
  ]);
  // The people who sign a step of the chain with a key of their own.
  const holders = keyHolderRoles();
  const signers = users.filter((u) => !u.disabled && (holders ? holders.has(u.role) : u.role !== 'admin'));
  const nameOf = new Map(users.map((u) => [u.username, u.display_name ? `${u.display_name} (${u.username})` : u.username]));
  const msg = h('div', { class: 'msgs' });
  const ownerText = (k) => (k.seal ? T.schoolSeal : nameOf.get(k.owner) || k.owner || '');
  // The bound key that names this token object: every attribute of the bound URI matches it.
  const boundTo = (objUri) => {
    const o = uriAttrs(objUri);
    return keys.find((k) => {
      const b = Object.entries(uriAttrs(k.uri)).filter(([a]) => a !== 'type');
      return b.length > 0 && b.every(([a, v]) => o[a] === v);
    });
  };

  const ownerSelect = (id) =>
    h(
      'select',
      { name: 'owner', id },
      h('option', { value: '' }, T.chooseSigner),
      signers.map((u) => h('option', { value: u.username }, `${u.display_name || u.username} (${ROLE_TEXT[u.role] || u.role})`)),
      h('option', { value: '@seal' }, T.schoolSeal),
    );
  const bind = async (uri, owner, out) => {
    clear(out);
    if (!owner) {
      out.appendChild(messageBox('error', T.chooseSignerFirst));
      return;
    }
    try {
      await api('POST', '/keys', owner === '@seal' ? { uri, seal: true } : { uri, username: owner });
      state.notice = { kind: 'ok', text: T.keyBound };
      render();
    } catch (e) {
      showError(out, e);
    }
  };
  const unbind = async (k) => {
    clear(msg);
    try {
      await api('DELETE', `/keys/${k.id}`);
      render();
    } catch (e) {
      showError(msg, e);
    }
  };

  const parts = [h('h1', {}, T.keys), takeNotice()];
  parts.push(
    msg,
    h('h2', {}, T.boundKeys),
    keys.length
      ? table(
          T.keyHeaders,
          keys.map((k) =>
            h(
              'tr',
              { 'data-key': k.id },
              h('td', {}, k.label || `#${k.id}`),
              h('td', {}, ownerText(k)),
              h('td', {}, h('code', { translate: 'no' }, k.uri)),
              h('td', {}, h('button', { type: 'button', class: 'small-btn danger', onclick: () => unbind(k) }, T.unbind)),
            ),
          ),
        )
      : messageBox('info', T.noBoundKeys),
    h('h2', {}, T.tokensPresent),
  );
  if (tokensRes.error) parts.push(errorBox(tokensRes.error));
  else {
    const { tokens, keys: objects } = tokensRes;
    parts.push(
      tokens.length
        ? table(
            T.tokenHeaders,
            tokens.map((t) => h('tr', {}, h('td', {}, t.label || '—'), h('td', {}, t.serial || '—'), h('td', {}, tokenState(t)))),
          )
        : messageBox('info', T.noTokens),
      h('h2', {}, T.keysOnTokens),
      objects.length
        ? h(
            'ul',
            { class: 'cards' },
            objects.map((o, i) => {
              const sel = ownerSelect(`bind-owner-${i}`);
              const out = h('div', { class: 'msgs' });
              const b = boundTo(o.uri);
              return h(
                'li',
                { class: 'card', 'data-uri': o.uri },
                h('span', { class: 'big' }, `${o.label} · ${o.token}`),
                h('span', { class: 'small' }, o.subject),
                h('code', { class: 'small', translate: 'no' }, o.uri),
                !o.has_certificate ? h('span', { class: 'muted small' }, T.keyNoCertificate) : null,
                b
                  ? h('span', { class: 'bound' }, T.boundTo(ownerText(b)))
                  : o.has_certificate
                    ? h(
                        'div',
                        { class: 'controls' },
                        sel,
                        h('button', { type: 'button', class: 'primary', onclick: () => bind(o.uri, sel.value, out) }, T.bindKey),
                      )
                    : null,
                out,
              );
            }),
          )
        : messageBox('info', T.noKeysOnTokens),
    );
  }
  // A key by its URI (a token that is not listed, or a specific object).
  const uri = h('input', { name: 'uri', id: 'bind-uri', placeholder: 'pkcs11:token=…;object=…', spellcheck: 'false', autocapitalize: 'none' });
  const sel = ownerSelect('bind-owner-uri');
  const out = h('div', { class: 'msgs' });
  const form = h(
    'form',
    { class: 'card grid-form', novalidate: true },
    h('h2', {}, T.bindByUri),
    field(T.keyUri, uri),
    field(T.bindTo, sel),
    out,
    h('button', { type: 'submit', class: 'primary' }, T.bindKey),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    bind(uri.value.trim(), sel.value, out);
  });
  parts.push(form);
  fill(el, parts);
}
