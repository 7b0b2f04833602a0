// Correction requests: the requester's list (#/dinh-chinh) and the list the admin decides on.
import { T, CORRECTION_STATE, fmtTime } from './i18n.js';
import { api } from './api.js';
import { h, fill, clear, messageBox, showError } from './dom.js';
import { render } from './state.js';

export function correctionsList(list, admin, refresh) {
  if (!list.length) return messageBox('info', T.noCorrections);
  return h(
    'ul',
    { class: 'cards corrections' },
    list.map((k) => {
      const note = h('input', { name: 'note', placeholder: T.note });
      const msg = h('div', { class: 'msgs' });
      const decide = async (what) => {
        clear(msg);
        try {
          await api('POST', `/corrections/${k.id}/${what}`, { note: note.value });
          refresh();
        } catch (e) {
          showError(msg, e);
        }
      };
      return h(
        'li',
        { class: 'card', 'data-correction': k.id },
        h('span', { class: 'big' }, `${k.student_name}`, ' ', h('span', { class: `badge cs-${k.state}` }, CORRECTION_STATE[k.state] || k.state)),
        h('span', { class: 'muted small' }, T.correctionLine(k, fmtTime(k.created_at))),
        h('p', {}, T.why, k.why),
        k.note ? h('p', {}, T.noteLabel, k.note) : null,
        h(
          'p',
          {},
          h('a', { href: `#/hoc-ba/${k.record_id}` }, T.oldRecord),
          k.new_record_id ? [' · ', h('a', { href: `#/hoc-ba/${k.new_record_id}` }, T.newVersion)] : null,
        ),
        admin && k.state === 'pending'
          ? h(
              'div',
              { class: 'controls' },
              note,
              h('button', { type: 'button', class: 'primary approve', onclick: () => decide('approve') }, T.approve),
              h('button', { type: 'button', class: 'danger reject', onclick: () => decide('reject') }, T.reject),
            )
          : null,
        msg,
      );
    }),
  );
}

export async function viewCorrections(el) {
  const { corrections } = await api('GET', '/corrections');
  fill(el, h('h1', {}, T.correctionTitle), h('p', { class: 'muted' }, T.correctionsIntro), correctionsList(corrections, false, () => render()));
}
