// One's account (#/tai-khoan) and, for the admin, any user's (#/tai-khoan/ID): the handwritten-
// signature image, with a preview, upload and delete; and the school's seal image (#/quan-tri/con-dau,
// the admin). The image is checked here first (PNG, size) so that a wrong file gets a message at once;
// the server checks it again and its refusals (image_* codes) are worded in i18n.js.
import { T, ERROR_TEXT, ROLE_TEXT } from './i18n.js';
import { api } from './api.js';
import { h, fill, clear, messageBox, showError, filePicker } from './dom.js';
import { state, role, takeNotice } from './state.js';

const MAX_IMAGE_BYTES = 512 * 1024;

// A card with the image's preview and its upload and delete. opts: {id, title, intro, path, has, onChange}.
// path: the image's route under /api/v1; has: whether the server holds one now.
export function imageCard(opts) {
  const { id, title, intro, path } = opts;
  let has = opts.has;
  const msg = h('div', { class: 'msgs', id: `${id}-msg` });
  const preview = h('div', { class: 'image-preview', id: `${id}-preview` });
  const picker = filePicker(`${id}-file`, 'image/png');
  const upload = h('button', { type: 'submit', class: 'primary', id: `${id}-upload` }, T.imageUpload);
  const del = h('button', { type: 'button', id: `${id}-delete` }, T.imageDelete);
  const show = () => {
    // The image is the API's own URL (same origin, the session cookie): no blob: URL, which the
    // page's CSP does not allow. The query changes with each upload so the browser does not reuse it.
    fill(preview, has ? h('img', { src: `/api/v1${path}?v=${Date.now()}`, alt: T.imagePreview(title), id: `${id}-img` }) : h('p', { class: 'muted' }, T.imageNone));
    del.hidden = !has;
  };
  const form = h(
    'form',
    { class: 'card', id: `${id}-form`, novalidate: true },
    h('h2', {}, title),
    h('p', { class: 'muted' }, intro),
    preview,
    h('div', { class: 'field' }, h('span', { class: 'label' }, T.imageFile), picker, h('span', { class: 'hint' }, T.imageRules)),
    msg,
    h('div', { class: 'controls' }, upload, del),
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clear(msg);
    const f = picker.input.files && picker.input.files[0];
    if (!f) return void msg.appendChild(messageBox('error', T.imageNoFile));
    if (f.type && f.type !== 'image/png') return void msg.appendChild(messageBox('error', ERROR_TEXT.image_not_png));
    if (f.size > MAX_IMAGE_BYTES) return void msg.appendChild(messageBox('error', ERROR_TEXT.image_too_large));
    upload.disabled = true;
    msg.appendChild(messageBox('info', T.imageUploading));
    try {
      // Sent as image/png whatever the browser guessed: the server decides by the bytes.
      await api('PUT', path, new Blob([await f.arrayBuffer()], { type: 'image/png' }));
      has = true;
      show();
      fill(msg, messageBox('ok', T.imageUploaded));
      if (opts.onChange) opts.onChange(true);
    } catch (e) {
      clear(msg);
      showError(msg, e);
    } finally {
      upload.disabled = false;
      picker.reset();
    }
  });
  del.addEventListener('click', async () => {
    clear(msg);
    try {
      await api('DELETE', path);
      has = false;
      show();
      msg.appendChild(messageBox('ok', T.imageDeleted));
      if (opts.onChange) opts.onChange(false);
    } catch (e) {
      showError(msg, e);
    }
  });
  show();
  return form;
}

// #/tai-khoan: one's own account; #/tai-khoan/ID: the admin on user ID's.
export async function viewAccount(el, userId) {
  const me = state.me;
  let user = me;
  let has = !!me.signature_image;
  if (userId && Number(userId) !== me.id) {
    if (role() !== 'admin') return void fill(el, messageBox('error', ERROR_TEXT.forbidden));
    const { users } = await api('GET', '/users');
    user = users.find((u) => u.id === Number(userId));
    if (!user) return void fill(el, messageBox('error', ERROR_TEXT.not_found));
    has = !!user.signature_image;
  }
  const own = user.id === me.id;
  fill(
    el,
    h('h1', {}, own ? T.account : T.accountOf(user.display_name || user.username)),
    takeNotice(),
    h('p', { class: 'muted' }, `${user.display_name || user.username} · ${ROLE_TEXT[user.role] || user.role}`),
    imageCard({
      id: 'signature-image',
      title: T.signatureImage,
      intro: T.signatureImageIntro,
      path: `/users/${user.id}/signature-image`,
      has,
      onChange: (now) => {
        if (own) me.signature_image = now ? {} : null;
      },
    }),
  );
}

// #/quan-tri/con-dau: the school's seal image (the admin).
export async function adminSeal(el) {
  const me = await api('GET', '/me');
  fill(
    el,
    h('h1', {}, T.sealImage),
    imageCard({ id: 'seal-image', title: T.sealImage, intro: T.sealImageIntro, path: '/seal-image', has: !!me.seal_image }),
  );
}
