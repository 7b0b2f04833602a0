// The batch jobs (#/luot-ky) and one job's progress (#/luot-ky/ID), polled every second while it
// runs: pause, resume with the PIN, cancel, and the records that failed.
import { T, JOB_STATE, fmtTime, fmtDuration, explain } from './i18n.js';
import { api } from './api.js';
import { h, fill, clear, messageBox, errorBox, showError } from './dom.js';
import { state, role, stopTimers, later } from './state.js';
import { isSeal, signsSchoolWide, doneLabel } from './chain.js';
import { jobTitle, jobSteps } from './signing.js';
import { pinForm, pinBody } from './pin.js';

async function classNames() {
  try {
    const { classes } = await api('GET', '/classes');
    return new Map(classes.map((c) => [c.id, c.name]));
  } catch (_) {
    return new Map();
  }
}

export async function viewJobs(el) {
  const { jobs } = await api('GET', '/jobs');
  if (!jobs.length) {
    fill(el, h('h1', {}, T.jobs), messageBox('info', T.noJobs));
    return;
  }
  const names = await classNames();
  fill(
    el,
    h('h1', {}, T.jobs),
    h(
      'ul',
      { class: 'cards' },
      jobs.map((j) =>
        h(
          'li',
          {},
          h(
            'a',
            { class: `card link-card js-${j.state}`, href: `#/luot-ky/${j.id}` },
            h('span', { class: 'big' }, `#${j.id} · ${jobTitle(j, names.get(j.class_id))}`),
            h('span', {}, T.jobLine(JOB_STATE[j.state] || j.state, j)),
            h('span', { class: 'muted small' }, T.jobStarted(fmtTime(j.created_at), j.created_by)),
          ),
        ),
      ),
    ),
  );
}

function failureList(failures) {
  if (!failures || !failures.length) return [];
  return [
    h('h2', {}, T.failedRecords),
    h(
      'ul',
      { class: 'failures' },
      failures.map((f) =>
        h(
          'li',
          {},
          h('a', { href: `#/hoc-ba/${f.record_id}` }, f.student_name),
          h('span', { class: 'muted small' }, T.personalIdSuffix(f.personal_id)),
          h('span', { class: 'detail small', lang: 'en' }, f.error),
        ),
      ),
    ),
  ];
}

export async function viewJob(el, id) {
  const [names, first] = await Promise.all([classNames(), api('GET', `/jobs/${id}`)]);
  const back = h('p', { class: 'crumbs' });
  const title = h('h1', {});
  const stateLine = h('p', { class: 'job-state' });
  const bar = h('progress', { id: 'job-progress', max: '1', value: '0' });
  const done = h('span', { class: 'value', id: 'job-done' }, '0');
  const total = h('span', { class: 'value', id: 'job-total' }, '0');
  const failed = h('span', { class: 'value', id: 'job-failed' }, '0');
  const eta = h('span', { class: 'value', id: 'job-eta' }, '–');
  const perStep = h('ul', { class: 'job-steps', id: 'job-steps' });
  const reason = h('div', { class: 'msgs', id: 'job-reason' });
  const controls = h('div', { class: 'controls' });
  const resume = h('div', { id: 'job-resume' });
  const failures = h('div', { id: 'job-failures' });
  fill(
    el,
    back,
    title,
    stateLine,
    bar,
    h(
      'div',
      { class: 'stats' },
      h('div', { class: 'stat' }, h('span', { class: 'value' }, done, ' / ', total), h('span', { class: 'label' }, T.doneOfTotal)),
      h('div', { class: 'stat' }, failed, h('span', { class: 'label' }, T.failedCount)),
      h('div', { class: 'stat' }, eta, h('span', { class: 'label' }, T.timeLeft)),
    ),
    perStep,
    reason,
    resume,
    controls,
    failures,
  );

  const backLink = (j, cname) => {
    if (j.class_id) return h('a', { href: `#/lop/${j.class_id}` }, T.backToClass(cname || ''));
    return h('a', { href: signsSchoolWide() ? '#/truong' : '#/luot-ky' }, T.backToSchool);
  };

  const resumeForm = (j) => {
    const code = j.reason ? explain({ message: j.reason, code: j.reason_code }).code : '';
    const pinProblem = ['pin_incorrect', 'pin_needs_confirm', 'pin_rejected_before'].includes(code);
    // A job of two steps, one the seal's, takes both PINs again.
    const steps = jobSteps(j);
    const withSeal = steps.length > 1 && steps.some(isSeal);
    const { form } = pinForm({
      id: 'pin-resume',
      button: T.resume,
      sealed: steps.length === 1 && isSeal(j.field) && state.me.seal_pin_sealed,
      seal: withSeal ? { id: 'seal-pin-resume', sealed: state.me.seal_pin_sealed } : undefined,
      confirmAtOnce: pinProblem,
      hint: pinProblem ? T.resumeCarefully : null,
      onSubmit: async (pin, confirm, sealPin) => {
        await api('POST', `/jobs/${j.id}/resume`, pinBody(pin, confirm, {}, withSeal ? sealPin : undefined));
        poll(0);
      },
    });
    return h('div', { class: 'card sign-card' }, h('h2', {}, T.resumeTitle), form);
  };

  const cancelButton = (j) => h('button', { type: 'button', id: 'job-cancel', class: 'danger', onclick: () => control(j.id, 'cancel') }, T.cancelJob);

  let lastKey = '';
  const update = (j) => {
    const cname = names.get(j.class_id);
    fill(back, backLink(j, cname));
    title.textContent = jobTitle(j, cname);
    el.dataset.state = j.state;
    stateLine.className = `job-state js-${j.state}`;
    stateLine.textContent = T.jobState(JOB_STATE[j.state] || j.state);
    const handled = j.done + j.failed + j.skipped;
    bar.max = Math.max(1, j.total);
    bar.value = handled;
    done.textContent = String(j.done);
    total.textContent = String(j.total);
    failed.textContent = String(j.failed);
    if (j.state === 'running') eta.textContent = j.eta_seconds == null ? T.etaUnknown : T.eta(fmtDuration(j.eta_seconds));
    else if (j.state === 'done') eta.textContent = T.etaDone;
    else eta.textContent = '–';
    // A job of several steps: each step's count ("Hiệu trưởng đã ký: 12/40").
    if (j.steps && j.steps.length > 1)
      fill(perStep, j.steps.map((s) => h('li', { 'data-step': s.field }, T.stepProgress(doneLabel(s.field), s.done, j.total))));
    // Controls and messages change only with the state (so that a PIN being typed is not lost).
    const key = `${j.state}|${j.reason}|${j.failed}|${j.skipped}`;
    if (key === lastKey) return;
    lastKey = key;
    clear(reason);
    if (j.state === 'done') reason.appendChild(messageBox('ok', T.jobDone(j)));
    else if (j.reason) {
      const x = explain({ message: j.reason, code: j.reason_code });
      reason.appendChild(messageBox(j.state === 'failed' ? 'error' : 'info', x.text, x.detail !== x.text ? x.detail : ''));
    }
    clear(controls);
    clear(resume);
    const mineToControl = j.created_by === state.me.username || role() === 'admin';
    const stopped = j.state === 'paused' || j.state === 'failed';
    if (j.state === 'running' && mineToControl)
      controls.append(h('button', { type: 'button', id: 'job-pause', onclick: () => control(j.id, 'pause') }, T.pause), cancelButton(j));
    if (stopped && j.created_by === state.me.username) resume.append(resumeForm(j));
    // A paused or failed job holds its records until it is resumed or cancelled (by its owner or the admin).
    if (stopped && mineToControl) controls.append(cancelButton(j));
    fill(failures, failureList(j.failures));
  };

  const control = async (jobId, what) => {
    clear(reason);
    try {
      update(await api('POST', `/jobs/${jobId}/${what}`));
      poll(300);
    } catch (e) {
      showError(reason, e);
    }
  };

  const poll = (ms) => {
    stopTimers();
    later(ms, async () => {
      if (!el.isConnected) return;
      try {
        const j = await api('GET', `/jobs/${id}`);
        if (!el.isConnected) return;
        update(j);
        if (j.state === 'running') poll(1000);
      } catch (e) {
        if (e.code === 'unauthenticated') return;
        clear(reason).appendChild(errorBox(e));
        poll(3000);
      }
    });
  };

  update(first);
  if (el.dataset.state === 'running') poll(1000);
}
