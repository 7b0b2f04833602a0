// One record (#/hoc-ba/ID): state, signatures, versions, the PDF, signing its next step (when the
// user signs it), asking for a correction.
import { T, fmtTime } from './i18n.js';
import { api } from './api.js';
import { h, field, fill, clear, messageBox, showError, badge, filePicker } from './dom.js';
import { state, render, takeNotice } from './state.js';
import { recordSteps, stepLabel, signOneText, isSeal, myRecordSteps } from './chain.js';
import { pinForm, pinBody } from './pin.js';

function signatureList(rec) {
  const sigs = new Map((rec.signatures || []).map((s) => [s.field, s]));
  return h(
    'ol',
    { class: 'sigs' },
    recordSteps(rec.level).map((f) => {
      const s = sigs.get(f);
      let status, cls;
      if (s) (status = T.sigDone), (cls = 'done');
      else if (rec.next_step === f) (status = T.sigNext), (cls = 'next');
      else (status = T.sigTodo), (cls = 'todo');
      return h(
        'li',
        { class: `sig sig-${cls}`, 'data-field': f },
        h('span', { class: 'who' }, stepLabel(f)),
        h('span', { class: `sig-state ${cls}` }, status),
        s ? h('span', { class: 'muted small' }, `${s.by} · ${fmtTime(s.at)}${s.job_id ? T.inJob(s.job_id) : ''}`) : null,
      );
    }),
  );
}

function signCard(rec) {
  const f = rec.next_step;
  const { form } = pinForm({
    id: 'pin-record',
    button: signOneText(f),
    sealed: isSeal(f) && state.me.seal_pin_sealed,
    onSubmit: async (pin, confirm) => {
      await api('POST', `/records/${rec.id}/sign`, pinBody(pin, confirm, { field: f }));
      state.notice = { kind: 'ok', text: T.signedOne };
      render();
    },
  });
  form.id = 'sign-one';
  return h('div', { class: 'card sign-card' }, h('h2', {}, signOneText(f)), h('p', { class: 'muted' }, T.signAs(stepLabel(f))), h('div', { class: 'msgs' }), form);
}

export async function viewRecord(el, id) {
  const rec = await api('GET', `/records/${id}`);
  const parts = [
    h('p', { class: 'crumbs' }, h('a', { href: `#/lop/${rec.class_id}` }, T.backToClass(rec.class))),
    h('h1', {}, rec.student_name, ' ', badge(rec.state)),
    h('p', { class: 'muted' }, T.recordLine(rec)),
    rec.error ? messageBox('error', T.recordFailed, rec.error) : null,
    rec.superseded_by ? messageBox('info', T.recordSuperseded) : null,
    rec.superseded_by ? h('p', {}, h('a', { href: `#/hoc-ba/${rec.superseded_by}` }, T.openNewVersion)) : null,
    h(
      'p',
      {},
      h('a', { class: 'button', id: 'open-pdf', href: `/api/v1/records/${rec.id}/pdf`, target: '_blank', rel: 'noopener' }, T.openPdf),
    ),
    h('h2', {}, T.signatures),
    signatureList(rec),
  ];
  if (rec.versions && rec.versions.length > 1)
    parts.push(
      h('h2', {}, T.versions),
      h(
        'ul',
        { class: 'plain' },
        rec.versions.map((v) => h('li', {}, h('a', { href: `#/hoc-ba/${v.id}` }, T.version(v.version)), ' ', badge(v.state))),
      ),
    );
  if (rec.next_step && myRecordSteps().includes(rec.next_step)) parts.push(signCard(rec));
  const notice = takeNotice();
  if (notice) parts.splice(2, 0, notice);
  // Those who sign records may ask for their correction.
  if (myRecordSteps().length && rec.state !== 'superseded') parts.push(correctionForm(rec));
  fill(el, parts);
}

// The student's homeroom comment inside a hocba.class student object (v1 or v2).
function commentHolder(student) {
  if (!student || typeof student !== 'object') return null;
  for (const k of ['primary', 'secondary']) if (student[k] && typeof student[k] === 'object') return student[k];
  return null;
}

function correctionForm(rec) {
  const why = h('textarea', { name: 'why', id: 'correction-why', rows: '3' });
  const comment = h('textarea', { name: 'homeroom_comment', id: 'correction-comment', rows: '3' });
  const json = h('textarea', { name: 'student', id: 'correction-json', rows: '10', class: 'code', spellcheck: 'false' });
  const picker = filePicker('correction-file', '.json,application/json');
  const file = picker.input;
  const msg = h('div', { class: 'msgs' });
  const btn = h('button', { type: 'submit', class: 'primary' }, T.correctionSend);

  const setStudent = (s) => {
    json.value = JSON.stringify(s, null, 2);
    const holder = commentHolder(s);
    comment.value = holder && typeof holder.homeroom_comment === 'string' ? holder.homeroom_comment : '';
  };
  if (rec.student && typeof rec.student === 'object') setStudent(rec.student);
  const parse = () => {
    try {
      const v = JSON.parse(json.value);
      return v && typeof v === 'object' && !Array.isArray(v) ? v : null;
    } catch (_) {
      return null;
    }
  };
  json.addEventListener('change', () => {
    const holder = commentHolder(parse());
    if (holder && typeof holder.homeroom_comment === 'string') comment.value = holder.homeroom_comment;
  });
  comment.addEventListener('input', () => {
    const s = parse();
    const holder = commentHolder(s);
    if (!holder) return;
    holder.homeroom_comment = comment.value;
    json.value = JSON.stringify(s, null, 2);
  });
  file.addEventListener('change', async () => {
    const f = file.files && file.files[0];
    if (!f) return;
    const text = await f.text();
    clear(msg);
    try {
      let s = JSON.parse(text);
      // A whole class file: take this student from it.
      if (s && Array.isArray(s.students)) s = s.students.find((x) => x.personal_id === rec.personal_id) || null;
      if (!s) throw new Error('student not in file');
      setStudent(s);
    } catch (e) {
      msg.appendChild(messageBox('error', T.correctionNotInFile, String(e.message || e)));
    }
  });

  const form = h(
    'form',
    { class: 'correction', id: 'correction-form', novalidate: true },
    field(T.correctionWhy, why, T.correctionWhyHint),
    field(T.correctionComment, comment),
    field(T.correctionJson, json, rec.student ? null : T.correctionJsonHint),
    h('div', { class: 'field' }, h('span', { class: 'label' }, T.correctionFromFile), picker),
    msg,
    btn,
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clear(msg);
    const student = parse();
    if (why.value.trim().length < 5) {
      msg.appendChild(messageBox('error', T.correctionWhyShort));
      return;
    }
    if (!student) {
      msg.appendChild(messageBox('error', T.correctionBadJson));
      return;
    }
    const holder = commentHolder(student);
    if (holder) holder.homeroom_comment = comment.value;
    btn.disabled = true;
    try {
      const r = await api('POST', `/records/${rec.id}/corrections`, { student, why: why.value.trim() });
      msg.appendChild(messageBox('ok', T.correctionSent(r.id)));
      why.value = '';
    } catch (e) {
      showError(msg, e);
    } finally {
      btn.disabled = false;
    }
  });
  return h('details', { class: 'card' }, h('summary', {}, T.correctionTitle), form);
}
