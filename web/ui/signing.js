// What the class, school and job screens share: the running jobs, a job's title and banner, and the
// card that starts a job (a class, or the whole school, with one PIN).
import { T, JOB_STATE } from './i18n.js';
import { api } from './api.js';
import { h } from './dom.js';
import { state, go } from './state.js';
import { jobText, jobStepsText, isSeal, stepVerb, previousStepInSentence, myRecordSteps, recordFields } from './chain.js';
import { pinForm, pinBody } from './pin.js';

export function countWaiting(records, f) {
  return records.filter((r) => r.next_step === f).length;
}

// Running, paused and failed jobs the user may see (none when the role may not list jobs).
export async function activeJobs() {
  try {
    const { jobs } = await api('GET', '/jobs');
    return jobs.filter((j) => j.state === 'running' || j.state === 'paused' || j.state === 'failed');
  } catch (e) {
    if (e.code === 'forbidden') return [];
    throw e;
  }
}

// A job's steps: its fields in order (an older hocbad lists none: its one field).
export const jobSteps = (j) => (j.steps && j.steps.length ? j.steps.map((s) => s.field) : [j.field]);

export function jobTitle(j, className) {
  const steps = jobSteps(j);
  const text = steps.length > 1 ? jobStepsText(steps, !!j.class_id) : jobText(j.field, !!j.class_id);
  return j.class_id && className ? `${text} ${className}` : text;
}

export function jobBanner(j, className) {
  return h(
    'a',
    { class: `card link-card job-banner js-${j.state}`, href: `#/luot-ky/${j.id}` },
    h('span', { class: 'big' }, jobTitle(j, className)),
    h('span', {}, T.jobProgress(JOB_STATE[j.state] || j.state, j.done, j.total)),
    h('span', { class: 'muted' }, T.seeProgress),
  );
}

// The steps the user signs one after the other, ending with the seal's ("hieu_truong", "con_dau"):
// one job signs them both, the user's token and the seal's at once. Empty when there are none.
export function nightSteps() {
  const mine = new Set(myRecordSteps());
  const all = recordFields();
  const k = all.findIndex((f, i) => i > 0 && isSeal(f) && mine.has(f) && mine.has(all[i - 1]) && !isSeal(all[i - 1]));
  return k > 0 ? [all[k - 1], all[k]] : [];
}

// Starting the two-step job (the principal's night): POST /jobs with both PINs, then its progress.
export function nightStarter(steps, classId, records) {
  const waiting = records.filter((r) => steps.includes(r.next_step)).length;
  const title = jobStepsText(steps, !!classId);
  const { form } = pinForm({
    id: 'pin-night',
    button: T.startButton(title, waiting),
    seal: { id: 'seal-pin-night', sealed: state.me.seal_pin_sealed },
    onSubmit: async (pin, confirm, sealPin) => {
      const more = classId ? { steps, class_id: Number(classId) } : { steps };
      const job = await api('POST', '/jobs', pinBody(pin, confirm, more, sealPin));
      go(`#/luot-ky/${job.id}`);
    },
  });
  form.classList.add('job-night');
  form.dataset.steps = steps.join(' ');
  return h('div', { class: 'card sign-card night-card' }, h('h2', {}, title), h('p', { class: 'muted' }, T.startNight(waiting)), form);
}

// Starting a job: POST /jobs, then its progress view.
export function jobStarter(field, classId, records) {
  const waiting = countWaiting(records, field);
  const title = jobText(field, !!classId);
  const seal = isSeal(field);
  const { form } = pinForm({
    id: `pin-job-${field}`,
    button: T.startButton(title, waiting),
    sealed: seal && state.me.seal_pin_sealed,
    onSubmit: async (pin, confirm) => {
      const job = await api('POST', '/jobs', pinBody(pin, confirm, classId ? { field, class_id: Number(classId) } : { field }));
      go(`#/luot-ky/${job.id}`);
    },
  });
  form.classList.add('job-start');
  form.dataset.field = field;
  const previous = previousStepInSentence(field);
  return h(
    'div',
    { class: 'card sign-card' },
    h('h2', {}, title),
    h('p', { class: 'muted' }, seal && previous ? T.startSealAfter(stepVerb(field), waiting, previous) : T.startWaiting(waiting)),
    form,
  );
}
