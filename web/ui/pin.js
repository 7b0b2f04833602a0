// The PIN form. A token's PIN is read once when the form is sent, cleared at once and sent only in
// that request's body: never stored, never in the URL, never in a variable that outlives the request.
import { T, ERROR_TEXT, explain } from './i18n.js';
import { h, field, messageBox, errorBox, clear } from './dom.js';

// onSubmit(pin, confirm) does the request; the field is cleared before it runs. `sealed`: the PIN may
// be left empty (the seal's PIN is kept on the server).
export function pinForm({ id, button, hint, sealed, onSubmit, confirmAtOnce }) {
  const pin = h('input', {
    type: 'password',
    inputmode: 'numeric',
    autocomplete: 'off',
    name: 'pin',
    id,
    class: 'pin',
    maxlength: '64',
    autocapitalize: 'none',
    spellcheck: 'false',
  });
  const confirm = h('input', { type: 'checkbox', name: 'confirm_pin_risk', class: 'confirm-box' });
  const confirmRow = h('label', { class: 'confirm' }, confirm, h('span', {}, T.confirmRetry));
  confirmRow.hidden = !confirmAtOnce;
  const msg = h('div', { class: 'msgs' });
  const btn = h('button', { type: 'submit', class: 'primary' }, button);
  const form = h(
    'form',
    { class: 'pin-form', novalidate: true },
    field(T.pin, pin, hint || (sealed ? T.pinSealedHint : null)),
    confirmRow,
    msg,
    btn,
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const value = pin.value;
    pin.value = '';
    clear(msg);
    if (!value && !sealed) {
      msg.appendChild(messageBox('error', ERROR_TEXT.pin_required));
      pin.focus();
      return;
    }
    btn.disabled = true;
    try {
      await onSubmit(value, !confirmRow.hidden && confirm.checked);
      confirm.checked = false;
      confirmRow.hidden = !confirmAtOnce;
    } catch (e) {
      if (e.code === 'unauthenticated') return;
      const x = explain(e);
      if (x.code === 'pin_needs_confirm') {
        confirmRow.hidden = false;
        confirm.checked = false;
      }
      msg.appendChild(errorBox(e));
      pin.focus();
    } finally {
      btn.disabled = false;
    }
  });
  return { form, msg };
}

// The request body of a signing call: the PIN, and the confirmation when it was given.
export function pinBody(pin, confirm, more) {
  const body = { ...more, pin };
  if (confirm) body.confirm_pin_risk = true;
  return body;
}
