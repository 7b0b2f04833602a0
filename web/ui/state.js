// The page's state: who is logged in (GET /api/v1/me), the timers of the current screen, a message
// for the next screen; and navigation (the hash routes are in main.js, which registers its renderer).
import { messageBox } from './dom.js';

export const state = {
  me: null, // GET /api/v1/me
  timers: [], // cleared on every navigation
  notice: null, // a message for the next view: {kind, text}
};

let renderer = () => {};
export function setRenderer(fn) {
  renderer = fn;
}

// Draws the screen of the current hash again.
export function render() {
  return renderer();
}

export function go(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}

export function stopTimers() {
  for (const t of state.timers) clearTimeout(t);
  state.timers = [];
}

export function later(ms, fn) {
  state.timers.push(setTimeout(fn, ms));
}

export function role() {
  return state.me ? state.me.role : '';
}

// The notice left for this screen as a message box (once), or null.
export function takeNotice() {
  if (!state.notice) return null;
  const box = messageBox(state.notice.kind, state.notice.text);
  state.notice = null;
  return box;
}

export const main = () => document.getElementById('main');

// Highlights the navigation link of this hash (or of the screen it is under).
export function markNav(hash) {
  for (const a of document.querySelectorAll('#nav a')) {
    const href = a.getAttribute('href');
    a.classList.toggle('active', hash === href || hash.startsWith(href + '/'));
  }
}
