// The school's signing chain as the server gives it (GET /api/v1/me: me.chain): the steps of each
// school level, each step's words (label, verb, done and waiting labels), whether it uses the seal,
// and the steps the logged-in user signs. The UI keeps no copy of the policy: every rule and label
// comes from here. An older hocbad without `chain` still works read-only: the steps are named by
// their names and nothing is offered for signing.
import { state } from './state.js';
import { T, inSentence } from './i18n.js';

// Only for a server that sends neither `chain` nor `workflow_steps`.
const FALLBACK_FIELDS = ['gvcn', 'hieu_truong', 'con_dau'];
// The role that signs for one class at a time (a class names its homeroom teacher); the signers of
// the other steps sign across the school (as the server's POST /api/v1/jobs has it).
const CLASS_BOUND_ROLE = 'homeroom_teacher';

function chain() {
  return (state.me && state.me.chain) || null;
}

function step(name) {
  const c = chain();
  return (c && c.steps && c.steps[name]) || null;
}

function word(name, key) {
  const s = step(name);
  return (s && s[key]) || name;
}

// Every record step of the school, in order (the columns of the counts).
export function recordFields() {
  const c = chain();
  return (c && c.record_fields) || (state.me && state.me.workflow_steps) || FALLBACK_FIELDS;
}

// A level's record steps ("primary", ...), or every record field when the level is not known.
export function recordSteps(level) {
  const c = chain();
  const l = c && level && c.levels && c.levels[level];
  return (l && l.record_steps) || recordFields();
}

// Has the record (steps_done, level) the signature of step f? `level`: the class's, when the record
// itself does not say.
export function hasSigned(record, f, level) {
  const i = recordSteps(record.level || level).indexOf(f);
  return i >= 0 && record.steps_done > i;
}

export const stepLabel = (f) => word(f, 'label');
export const doneLabel = (f) => word(f, 'done_label');
export const waitingLabel = (f) => word(f, 'waiting_label');
export const stepVerb = (f) => word(f, 'verb');
export const isSeal = (f) => !!(step(f) && step(f).seal);

// "Ký duyệt học bạ này", "Đóng dấu cả lớp", "Ký toàn trường".
export const signOneText = (f) => T.signThisRecord(stepVerb(f));
export const jobText = (f, oneClass) => (oneClass ? T.signClass(stepVerb(f)) : T.signSchool(stepVerb(f)));
// Several steps in one job: "Ký duyệt và đóng dấu toàn trường".
export function jobStepsText(steps, oneClass) {
  const verbs = steps.map((f, i) => (i ? inSentence(stepVerb(f)) : stepVerb(f))).join(T.and);
  return oneClass ? T.signClass(verbs) : T.signSchool(verbs);
}

// The label of the step before f in the school's order ("hiệu trưởng"), in a sentence.
export function previousStepInSentence(f) {
  const all = recordFields();
  const i = all.indexOf(f);
  return i > 0 ? inSentence(stepLabel(all[i - 1])) : '';
}

// A waiting label inside "đang chờ …": "Chờ hiệu trưởng ký" -> "hiệu trưởng ký".
export function waitingInSentence(f) {
  const w = waitingLabel(f);
  return w.startsWith(T.waitingPrefix) ? w.slice(T.waitingPrefix.length) : inSentence(w);
}

// The steps the user signs: record steps (one record at a time, a class, the school), and steps
// per class and subject (score sheets).
export function mySteps() {
  const c = chain();
  return (c && c.my_steps) || [];
}
const scopeOf = (f) => (step(f) && step(f).scope) || 'record';
export const myRecordSteps = () => mySteps().filter((f) => scopeOf(f) === 'record');
export const mySheetSteps = () => mySteps().filter((f) => scopeOf(f) === 'class_subject');

// Does the user sign a record step for the whole school (the principal, a deputy)? For the classes
// they are the homeroom teacher of (a homeroom teacher)?
const classBound = (f) => !!(step(f) && step(f).role === CLASS_BOUND_ROLE);
export const signsSchoolWide = () => myRecordSteps().some((f) => !classBound(f));
export const signsOwnClasses = () => myRecordSteps().some(classBound);

// The roles that hold a key of their own for some step (the seal's key is the school's): the people
// a key can be bound to. Null when the server sends no chain (then anyone may be chosen).
export function keyHolderRoles() {
  const c = chain();
  if (!c || !c.steps) return null;
  const roles = new Set();
  for (const s of Object.values(c.steps)) if (!s.seal) for (const r of [s.role, ...(s.substitutes || [])]) roles.add(r);
  return roles;
}
