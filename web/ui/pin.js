// The PIN form. A token's PIN is read once when the form is sent, cleared at once and sent only in
// that request's body: never stored, never in the URL, never in a variable that outlives the request.
import { T, ERROR_TEXT, explain } from './i18n.js';
import { h, field, messageBox, errorBox, clear } from './dom.js';

function pinInput(id, name) {
  return h('input', {
    type: 'password',
    inputmode: 'numeric',
    autocomplete: 'off',
    name,
    id,
    class: 'pin',
    maxlength: '64',
    autocapitalize: 'none',
    spellcheck: 'false',
  });
}

// onSubmit(pin, confirm, sealPin) does the request; the fields are cleared before it runs. `sealed`:
// the PIN may be left empty (the seal's PIN is kept on the server). `seal`: a second field for the
// seal token's PIN in a job of two steps ({ id, sealed }); its value is the third argument.
export function pinForm({ id, button, hint, sealed, onSubmit, confirmAtOnce, seal }) {
  const pin = pinInput(id, 'pin');
  const sealPin = seal ? pinInput(seal.id, 'seal_pin') : null;
  const confirm = h('input', { type: 'checkbox', name: 'confirm_pin_risk', class: 'confirm-box' });
  const confirmRow = h('label', { class: 'confirm' }, confirm, h('span', {}, T.confirmRetry));
  confirmRow.hidden = !confirmAtOnce;
  const msg = h('div', { class: 'msgs' });
  const btn = h('button', { type: 'submit', class: 'primary' }, button);
  const form = h(
    'form',
    { class: 'pin-form', novalidate: true },
    field(seal ? T.ownPin : T.pin, pin, hint || (sealed ? T.pinSealedHint : null)),
    seal ? field(T.sealPin, sealPin, seal.sealed ? T.pinSealedHint : null) : null,
    confirmRow,
    msg,
    btn,
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const value = pin.value;
    const sealValue = sealPin ? sealPin.value : '';
    pin.value = '';
    if (sealPin) sealPin.value = '';
    clear(msg);
    const missing = !value && !sealed ? pin : sealPin && !sealValue && !seal.sealed ? sealPin : null;
    if (missing) {
      msg.appendChild(messageBox('error', ERROR_TEXT.pin_required));
      missing.focus();
      return;
    }
    btn.disabled = true;
    try {
      await onSubmit(value, !confirmRow.hidden && confirm.checked, sealValue);
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

// The request body of a signing call: the PIN, and the confirmation when it was given; for a job of
// two steps, the seal's PIN as well (`sealPin`, when one was typed; the confirmation covers both).
export function pinBody(pin, confirm, more, sealPin) {
  const body = { ...more, pin };
  if (confirm) body.confirm_pin_risk = true;
  if (sealPin !== undefined) {
    if (sealPin) body.seal_pin = sealPin;
    if (confirm) body.seal_confirm_pin_risk = true;
  }
  return body;
}
