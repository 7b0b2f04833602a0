// The whole school (#/truong), for those who sign across it: counts per class and per signature, and
// the school-wide jobs they may start.
import { T } from './i18n.js';
import { api } from './api.js';
import { h, fill, messageBox, stat, table } from './dom.js';
import { myRecordSteps, recordFields, hasSigned, doneLabel, waitingInSentence } from './chain.js';
import { activeJobs, countWaiting, jobBanner, jobStarter, jobSteps, nightStarter, nightSteps } from './signing.js';
import { stepStats } from './view-classes.js';

async function mapLimit(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export async function viewSchool(el) {
  const [{ classes }, jobs] = await Promise.all([api('GET', '/classes'), activeJobs()]);
  const details = await mapLimit(classes, 6, (c) => api('GET', `/classes/${c.id}`));
  // Each record with its class's level (when the class says it) for the counts per step.
  const all = details.flatMap((d) => d.records.map((r) => (r.level || !d.level ? r : { ...r, level: d.level })));
  const st = recordFields();
  const mine = myRecordSteps();
  const parts = [
    h('h1', {}, T.school),
    h(
      'div',
      { class: 'stats' },
      stat(T.statRecords, all.length, 'stat-total'),
      stepStats(all),
      stat(T.statFinal, all.filter((r) => r.state === 'final').length, 'stat-final'),
    ),
  ];
  const school = jobs.filter((j) => !j.class_id);
  parts.push(school.map((j) => jobBanner(j)));
  const busy = new Set(school.flatMap(jobSteps));
  const night = nightSteps();
  const starters = [];
  if (night.length && !night.some((f) => busy.has(f)) && countWaiting(all, night[0]) > 0) starters.push(nightStarter(night, 0, all));
  for (const f of mine) if (!busy.has(f) && countWaiting(all, f) > 0) starters.push(jobStarter(f, 0, all));
  if (starters.length) parts.push(h('div', { class: 'starters' }, starters));
  else if (!school.length && all.length && mine.length) parts.push(messageBox('info', T.nothingWaiting(mine.map(waitingInSentence))));
  parts.push(
    h('h2', {}, T.classes),
    table(
      [T.colClass, T.colHomeroom, T.colRecords, ...st.map(doneLabel), T.colFinal],
      classes.map((c, k) => {
        const d = details[k];
        return h(
          'tr',
          { 'data-class': c.id },
          h('td', {}, h('a', { href: `#/lop/${c.id}` }, `${c.name}`), h('span', { class: 'muted small' }, ` ${c.school_year}`)),
          h('td', {}, c.homeroom_name || c.homeroom || '—'),
          h('td', { class: 'num' }, String(d.records.length)),
          st.map((f) => h('td', { class: 'num' }, String(d.records.filter((r) => hasSigned(r, f, d.level)).length))),
          h('td', { class: 'num' }, String(d.records.filter((r) => r.state === 'final').length)),
        );
      }),
      'classes',
    ),
  );
  fill(el, parts);
}
