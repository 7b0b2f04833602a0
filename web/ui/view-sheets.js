// Score sheets (#/xac-nhan-diem), for those whose steps include one per class and subject (a subject
// teacher confirming the scores): the sheets, and one PIN entry that confirms every waiting one.
// The server's side may not be there yet: a 404 says "Chưa hỗ trợ".
import { T, SHEET_STATE, fmtTime } from './i18n.js';
import { api } from './api.js';
import { h, fill, messageBox, table } from './dom.js';
import { mySheetSteps, stepVerb } from './chain.js';
import { pinForm, pinBody } from './pin.js';

const notThere = (e) => e && e.status === 404;

// The screen's title and link text: the step's verb ("Xác nhận điểm").
export function sheetsTitle() {
  const steps = mySheetSteps();
  return steps.length ? stepVerb(steps[0]) : '';
}

export async function viewSheets(el) {
  const title = h('h1', {}, sheetsTitle());
  let sheets;
  try {
    ({ sheets } = await api('GET', '/sheets'));
  } catch (e) {
    if (!notThere(e)) throw e;
    fill(el, title, messageBox('info', T.notSupported));
    return;
  }
  const waiting = sheets.filter((s) => s.state !== 'confirmed').length;
  const parts = [title];
  if (waiting) {
    const { form, msg } = pinForm({
      id: 'pin-sheets',
      button: T.confirmAll,
      onSubmit: async (pin, confirm) => {
        try {
          // Confirmed at once (one signature per sheet): say how many, and which could not be.
          const res = await api('POST', '/sheets/confirm', pinBody(pin, confirm));
          const failed = res.sheets.filter((s) => !s.ok);
          await viewSheets(el);
          const text = [T.sheetsConfirmed(res.confirmed), ...failed.map((s) => T.sheetFailed(s.class, s.subject))].join(' ');
          el.prepend(messageBox(failed.length ? 'error' : 'ok', text, failed.map((s) => s.error).join('; ')));
        } catch (e) {
          if (!notThere(e)) throw e;
          msg.appendChild(messageBox('info', T.notSupported));
        }
      },
    });
    form.id = 'sheets-confirm';
    parts.push(h('div', { class: 'card sign-card' }, h('h2', {}, T.confirmAll), h('p', { class: 'muted' }, T.confirmAllHint(waiting)), form));
  }
  parts.push(
    sheets.length
      ? table(
          T.sheetHeaders,
          sheets.map((s) =>
            h(
              'tr',
              { 'data-sheet': `${s.class_id}/${s.subject}` },
              h('td', {}, s.class),
              h('td', {}, s.subject),
              h('td', {}, SHEET_STATE[s.state] || s.state),
              h('td', {}, fmtTime(s.confirmed_at)),
              h('td', { class: 'num' }, s.version == null ? '' : String(s.version)),
            ),
          ),
          'sheets',
        )
      : messageBox('info', T.noSheets),
  );
  fill(el, parts);
}
