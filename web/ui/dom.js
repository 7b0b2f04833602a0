// Building the DOM: createElement and textContent only, never innerHTML, so that data (student
// names, server messages) is never read as HTML. No inline style either (the server's CSP).
import { T, RECORD_STATE, explain } from './i18n.js';

// h('a', {href: '#/', class: 'x', onclick: fn}, 'text', child, [more]): an element; text is never HTML.
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = !!v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function fill(el, ...children) {
  return append(clear(el), children);
}

// A file input with Vietnamese words (the browser's own button speaks the browser's language).
export function filePicker(id, accept) {
  const input = h('input', { type: 'file', accept, id, class: 'visually-hidden' });
  const name = h('span', { class: 'file-name muted' }, T.noFile);
  input.addEventListener('change', () => {
    name.textContent = input.files && input.files[0] ? input.files[0].name : T.noFile;
  });
  const picker = h('label', { class: 'file-picker', for: id }, input, h('span', { class: 'button' }, T.chooseFile), name);
  picker.input = input;
  picker.reset = () => {
    input.value = '';
    name.textContent = T.noFile;
  };
  return picker;
}

export function field(label, input, hint) {
  return h('label', { class: 'field' }, h('span', { class: 'label' }, label), input, hint ? h('span', { class: 'hint' }, hint) : null);
}

// A message box: kind 'error', 'ok' or 'info'. For an error, the server's own words go below in
// small type (lang="en": they are not translated).
export function messageBox(kind, text, detail) {
  return h(
    'div',
    { class: `msg ${kind}`, role: kind === 'error' ? 'alert' : 'status' },
    h('p', {}, text),
    detail ? h('p', { class: 'detail' }, T.detail, h('span', { lang: 'en' }, detail)) : null,
  );
}

export function errorBox(err) {
  const e = explain(err);
  const box = messageBox('error', e.text, e.detail && e.detail !== e.text ? e.detail : '');
  if (err && err.body && Array.isArray(err.body.errors) && err.body.errors.length)
    box.appendChild(problemList(err.body.errors));
  return box;
}

// Shows an API error in `out`, unless the session ended (the login form is shown then).
export function showError(out, err) {
  if (err.code !== 'unauthenticated') out.appendChild(errorBox(err));
}

export function problemList(problems) {
  return h(
    'ul',
    { class: 'problems' },
    problems.slice(0, 50).map((p) => h('li', {}, p.student_name ? `${p.student_name}: ` : '', h('span', { lang: 'en' }, p.text || p.message))),
  );
}

export function badge(state) {
  return h('span', { class: `badge st-${state}` }, RECORD_STATE[state] || state);
}

export function stat(label, value, cls) {
  return h('div', { class: `stat ${cls || ''}` }, h('span', { class: 'value' }, String(value)), h('span', { class: 'label' }, label));
}

export function table(headers, rows, cls) {
  return h(
    'div',
    { class: 'table-wrap' },
    h('table', { class: cls || '' }, h('thead', {}, h('tr', {}, headers.map((t) => h('th', {}, t)))), h('tbody', {}, rows)),
  );
}
