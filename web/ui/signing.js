// What the class, school and job screens share: the running jobs, a job's title and banner, and the
// card that starts a job (a class, or the whole school, with one PIN).
import { T, JOB_STATE } from './i18n.js';
import { api } from './api.js';
import { h } from './dom.js';
import { state, go } from './state.js';
import { jobText, isSeal, stepVerb, previousStepInSentence } from './chain.js';
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

export function jobTitle(j, className) {
  if (j.class_id) return `${jobText(j.field, true)}${className ? ' ' + className : ''}`;
  return jobText(j.field, false);
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
