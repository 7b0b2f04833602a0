// The classes (#/lop) and one class (#/lop/ID): counts per signature, running jobs, the jobs the user
// may start, the records with their state.
import { T } from './i18n.js';
import { api } from './api.js';
import { h, fill, messageBox, badge, stat } from './dom.js';
import { signsOwnClasses, signsSchoolWide, myRecordSteps, recordFields, recordSteps, hasSigned, doneLabel, waitingLabel } from './chain.js';
import { activeJobs, countWaiting, jobBanner, jobStarter, jobSteps, nightStarter, nightSteps } from './signing.js';

export async function viewClasses(el) {
  const { classes } = await api('GET', '/classes');
  const title = signsOwnClasses() ? T.myClasses : T.classes;
  if (!classes.length) {
    fill(el, h('h1', {}, title), messageBox('info', signsOwnClasses() ? T.noClassAssigned : T.noClassImported));
    return;
  }
  fill(
    el,
    h('h1', {}, title),
    h(
      'ul',
      { class: 'cards' },
      classes.map((c) =>
        h(
          'li',
          {},
          h(
            'a',
            { class: 'card link-card class-card', href: `#/lop/${c.id}` },
            h('span', { class: 'big' }, T.className(c.name)),
            h('span', { class: 'muted' }, T.schoolYear(c.school_year)),
            h('span', {}, T.homeroomOf(c.homeroom_name || c.homeroom)),
            h('span', {}, T.classCounts(c.records, c.final)),
          ),
        ),
      ),
    ),
  );
}

// One stat per record step of the school: how many of `records` have its signature.
export function stepStats(records, level) {
  return recordFields().map((f) => stat(doneLabel(f), records.filter((r) => hasSigned(r, f, level)).length, `stat-${f}`));
}

export async function viewClass(el, id) {
  const [cls, jobs] = await Promise.all([api('GET', `/classes/${id}`), activeJobs()]);
  const recs = cls.records;
  const mine = jobs.filter((j) => j.class_id === cls.id || (!j.class_id && signsSchoolWide()));
  const finals = recs.filter((r) => r.state === 'final').length;
  const failed = recs.filter((r) => r.state === 'failed').length;
  const parts = [
    h('p', { class: 'crumbs' }, h('a', { href: signsSchoolWide() ? '#/truong' : '#/lop' }, T.backToClasses)),
    h('h1', {}, T.className(cls.name), h('span', { class: 'sub' }, ` · ${T.schoolYear(cls.school_year)}`)),
    h(
      'div',
      { class: 'stats' },
      stat(T.statRecords, recs.length, 'stat-total'),
      stepStats(recs, cls.level),
      stat(T.statFinal, finals, 'stat-final'),
      failed ? stat(T.statFailed, failed, 'stat-failed') : null,
    ),
    mine.map((j) => jobBanner(j, cls.name)),
  ];
  const busy = new Set(mine.flatMap(jobSteps));
  const night = nightSteps();
  if (night.length && !night.some((f) => busy.has(f)) && countWaiting(recs, night[0]) > 0) parts.push(nightStarter(night, cls.id, recs));
  for (const f of myRecordSteps()) if (countWaiting(recs, f) > 0 && !busy.has(f)) parts.push(jobStarter(f, cls.id, recs));
  parts.push(
    h('h2', {}, T.recordList),
    h(
      'ul',
      { class: 'records' },
      recs.map((r) =>
        h(
          'li',
          {},
          h(
            'a',
            { class: 'record-row', href: `#/hoc-ba/${r.id}`, 'data-record': r.id },
            h('span', { class: 'name' }, r.student_name),
            badge(r.state),
            h(
              'span',
              { class: 'muted small' },
              T.personalId(r.personal_id),
              r.version > 1 ? T.versionSuffix(r.version) : '',
              T.signatureCount(r.steps_done, recordSteps(r.level || cls.level).length),
              r.next_step ? ` · ${waitingLabel(r.next_step)}` : '',
            ),
            r.error ? h('span', { class: 'detail small', lang: 'en' }, r.error) : null,
          ),
        ),
      ),
    ),
  );
  fill(el, parts);
}
