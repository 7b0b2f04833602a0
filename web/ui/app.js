// hocba-signer's web UI: one page with hash routing and plain DOM, served by hocbad itself.
// Every visible text is Vietnamese; code, comments and console output are English. It talks only to
// /api/v1/ with the session cookie (HttpOnly, set by POST /api/v1/auth/login) and never keeps a PIN:
// a PIN field is read once, cleared at once and sent in the request body.
'use strict';

(() => {
  // --- words ------------------------------------------------------------------------------------

  const ROLE_TEXT = {
    admin: 'Quản trị',
    principal: 'Hiệu trưởng',
    homeroom_teacher: 'Giáo viên chủ nhiệm',
    subject_teacher: 'Giáo viên bộ môn',
    viewer: 'Người xem',
  };
  const ROLES = ['homeroom_teacher', 'principal', 'subject_teacher', 'viewer', 'admin'];

  const RECORD_STATE = {
    draft: 'Bản nháp',
    signing: 'Đang ký',
    final: 'Đã hoàn tất',
    superseded: 'Đã thay thế',
    failed: 'Lỗi',
  };

  const FIELD_TEXT = { gvcn: 'Giáo viên chủ nhiệm', hieu_truong: 'Hiệu trưởng', con_dau: 'Con dấu nhà trường' };
  const FIELD_SHORT = { gvcn: 'GVCN đã ký', hieu_truong: 'HT đã ký', con_dau: 'Đã đóng dấu' };
  const FIELD_WAITING = { gvcn: 'Chờ GVCN ký', hieu_truong: 'Chờ hiệu trưởng ký', con_dau: 'Chờ đóng dấu' };
  const SIGN_ONE = { gvcn: 'Ký học bạ này', hieu_truong: 'Ký duyệt học bạ này', con_dau: 'Đóng dấu học bạ này' };
  const JOB_CLASS = { gvcn: 'Ký cả lớp', hieu_truong: 'Ký duyệt cả lớp', con_dau: 'Đóng dấu cả lớp' };
  const JOB_SCHOOL = { gvcn: 'Ký toàn trường', hieu_truong: 'Ký duyệt toàn trường', con_dau: 'Đóng dấu toàn trường' };

  const JOB_STATE = {
    running: 'Đang ký',
    paused: 'Tạm dừng',
    done: 'Hoàn tất',
    failed: 'Đã dừng do lỗi',
    cancelled: 'Đã hủy',
  };
  const CORRECTION_STATE = { pending: 'Chờ duyệt', approved: 'Đã duyệt', rejected: 'Đã từ chối' };

  const AUDIT_ACTION = {
    login: 'Đăng nhập',
    'login.fail': 'Đăng nhập thất bại',
    logout: 'Đăng xuất',
    'user.add': 'Thêm người dùng',
    'user.change': 'Sửa người dùng',
    'user.role': 'Đổi vai trò',
    'user.disable': 'Khóa tài khoản',
    'user.enable': 'Mở khóa tài khoản',
    'user.password': 'Đổi mật khẩu',
    'user.totp_on': 'Bật mã xác thực',
    'key.bind': 'Gán khóa ký',
    'key.unbind': 'Bỏ gán khóa ký',
    'class.import': 'Nhập lớp học',
    'class.bind': 'Gán giáo viên chủ nhiệm',
    'record.sign': 'Ký học bạ',
    'job.create': 'Bắt đầu lượt ký',
    'job.done': 'Lượt ký hoàn tất',
    'job.fail': 'Lượt ký dừng do lỗi',
    'job.pause': 'Tạm dừng lượt ký',
    'job.pause_request': 'Yêu cầu tạm dừng lượt ký',
    'job.resume': 'Tiếp tục lượt ký',
    'job.cancel': 'Hủy lượt ký',
    'job.cancel_request': 'Yêu cầu hủy lượt ký',
    'correction.request': 'Yêu cầu đính chính',
    'correction.approve': 'Duyệt đính chính',
    'correction.reject': 'Từ chối đính chính',
    'config.load': 'Nạp cấu hình',
    'service.start': 'Khởi động dịch vụ',
    'service.stop': 'Dừng dịch vụ',
  };

  const ACTOR_TEXT = { system: 'Hệ thống', anonymous: 'Chưa đăng nhập' };

  // API error codes ({"error": {"code", "message"}}) in Vietnamese.
  const ERROR_TEXT = {
    pin_incorrect: 'Mã PIN không đúng. Token chưa bị thử lại; hãy kiểm tra mã PIN.',
    pin_needs_confirm:
      'Token báo đã có lần nhập sai mã PIN. Nhập sai thêm có thể khóa token. ' +
      'Nếu chắc chắn mã PIN đúng, hãy đánh dấu “Tôi xác nhận thử lại” rồi gửi lại.',
    pin_rejected_before: 'Mã PIN này đã bị token từ chối trước đó nên không được gửi lại. Hãy kiểm tra mã PIN.',
    pin_required: 'Hãy nhập mã PIN của token.',
    pin_locked: 'Token đã bị khóa mã PIN. Hãy liên hệ quản trị hoặc nhà cung cấp chứng thư số để mở khóa.',
    token_not_present: 'Chưa cắm token (USB ký số) vào máy chủ. Hãy cắm token rồi thử lại.',
    token_error: 'Token báo lỗi khi ký. Hãy rút token ra, cắm lại rồi thử lại.',
    timeout: 'Quá thời gian chờ. Hãy thử lại sau ít phút.',
    unavailable: 'Dịch vụ tạm thời không sẵn sàng (token hoặc máy chủ dấu thời gian). Hãy thử lại sau.',
    unauthenticated: 'Phiên làm việc đã hết hạn. Vui lòng đăng nhập lại.',
    forbidden: 'Bạn không có quyền thực hiện thao tác này.',
    not_found: 'Không tìm thấy dữ liệu yêu cầu.',
    conflict: 'Không thể thực hiện lúc này do trạng thái hiện tại của dữ liệu.',
    bad_request: 'Dữ liệu gửi lên chưa hợp lệ.',
    invalid_argument: 'Yêu cầu không hợp lệ.',
    invalid_class: 'Tệp lớp học có lỗi, chưa nhập được.',
    invalid_correction: 'Dữ liệu đính chính có lỗi.',
    integrity: 'Tệp học bạ không khớp với dữ liệu đã lưu. Hãy báo quản trị khôi phục từ bản sao lưu.',
    too_large: 'Dữ liệu quá lớn.',
    bad_pdf: 'Tệp PDF của học bạ bị hỏng.',
    login_failed: 'Sai tên đăng nhập, mật khẩu hoặc mã xác thực.',
    too_many_attempts: 'Có quá nhiều lần đăng nhập sai từ máy này. Hãy chờ một lúc rồi thử lại.',
    locked_out: 'Máy này tạm không đăng nhập được vào tài khoản này do nhập sai mật khẩu nhiều lần. Hãy chờ rồi thử lại.',
    slow_down: 'Tài khoản này vừa bị thử mật khẩu sai nhiều lần. Hãy chờ vài giây rồi thử lại.',
    unsupported_media_type: 'Yêu cầu không đúng định dạng.',
    method_not_allowed: 'Thao tác không được hỗ trợ.',
    network: 'Không kết nối được với máy chủ. Hãy kiểm tra mạng rồi thử lại.',
    io: 'Lỗi đọc ghi dữ liệu trên máy chủ.',
    crypto: 'Lỗi mật mã khi ký.',
    internal: 'Lỗi hệ thống trên máy chủ.',
  };

  // The server's English messages that say more than their code (jobs also give reason_code).
  const MESSAGE_RULES = [
    [/rejected the PIN|does not match token/, 'pin_incorrect'],
    [/already rejected by token/, 'pin_rejected_before'],
    [/without explicit confirmation/, 'pin_needs_confirm'],
    [/PIN is locked|PIN has expired/, 'pin_locked'],
    [/needs its PIN|PIN is required/, 'pin_required'],
    [/is not present/, 'token_not_present'],
    [/no record is waiting/, null, 'Không còn học bạ nào chờ chữ ký này.'],
    [/already signs these records/, null, 'Đang có một lượt ký cho các học bạ này. Hãy tiếp tục hoặc hủy lượt đó.'],
    [/no signing key is bound/, null, 'Bạn chưa được gán khóa ký (token). Hãy nhờ quản trị gán khóa.'],
    [/no key is bound to the school seal/, null, 'Chưa gán khóa con dấu nhà trường. Hãy nhờ quản trị gán khóa.'],
    [/is final: nothing more to sign/, null, 'Học bạ đã hoàn tất, không ký thêm được.'],
    [/already has the .* signature/, null, 'Học bạ đã có chữ ký này.'],
    [/signature before/, null, 'Học bạ cần chữ ký của bước trước.'],
    [/being signed right now/, null, 'Học bạ đang được ký. Hãy thử lại sau giây lát.'],
    [/already waiting for the admin/, null, 'Đã có yêu cầu đính chính đang chờ quản trị duyệt.'],
    [/already bound/, null, 'Khóa này đã được gán. Hãy bỏ gán trước.'],
    [/not an active homeroom teacher/, null, 'Người này không phải giáo viên chủ nhiệm đang hoạt động.'],
    [/at least 8 characters/, null, 'Mật khẩu cần ít nhất 8 ký tự.'],
    [/not the homeroom teacher|not in your class/, null, 'Bạn không chủ nhiệm lớp này.'],
    [/say why the record must change/, null, 'Hãy ghi rõ lý do đính chính (ít nhất 5 ký tự).'],
    [/cannot change the personal ID/, null, 'Không được sửa mã định danh của học sinh.'],
    [/UNIQUE constraint failed: users.username|already exists/, null, 'Tên đăng nhập này đã có.'],
    [/^paused by /, null, 'Đã tạm dừng. Nhập mã PIN để tiếp tục.'],
    [/^paused; resume it/, null, 'Đã tạm dừng. Nhập mã PIN để tiếp tục.'],
    [/appliance stopped/, null, 'Máy chủ đã dừng giữa chừng. Nhập mã PIN để tiếp tục.'],
    [/appliance restarted/, null, 'Máy chủ đã khởi động lại. Nhập mã PIN để tiếp tục.'],
    [/^cancell?ed by /, null, 'Lượt ký đã bị hủy.'],
  ];

  class ApiError extends Error {
    constructor(status, code, message, body, retryAfter) {
      super(message);
      this.status = status;
      this.code = code;
      this.body = body;
      this.retryAfter = retryAfter;
    }
  }

  // {code, text, detail}: what to tell the user about an error or a job's reason.
  function explain(err) {
    const message = (err && err.message) || '';
    let code = (err && err.code) || '';
    let text = '';
    for (const [re, c, t] of MESSAGE_RULES) {
      if (re.test(message)) {
        if (c) code = c;
        text = t || ERROR_TEXT[c] || '';
        break;
      }
    }
    if (!text) text = ERROR_TEXT[code] || 'Đã xảy ra lỗi.';
    if (code === 'locked_out' && err.retryAfter) text += ` Hãy thử lại sau ${fmtDuration(Number(err.retryAfter))}.`;
    return { code, text, detail: message };
  }

  // --- DOM helpers ---------------------------------------------------------------------------------

  // h('a', {href: '#/', class: 'x', onclick: fn}, 'text', child, [more]): an element; text is never HTML.
  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'value') el.value = v;
      else if (k === 'checked') el.checked = !!v;
      else if (v === true) el.setAttribute(k, '');
      else el.setAttribute(k, String(v));
    }
    append(el, children);
    return el;
  }

  function append(el, children) {
    for (const c of children.flat(Infinity)) {
      if (c === undefined || c === null || c === false) continue;
      el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  function clear(el) {
    while (el.firstChild) el.removeChild(el.firstChild);
    return el;
  }

  function fill(el, ...children) {
    return append(clear(el), children);
  }

  // A file input with Vietnamese words (the browser's own button speaks the browser's language).
  function filePicker(id, accept) {
    const input = h('input', { type: 'file', accept, id, class: 'visually-hidden' });
    const name = h('span', { class: 'file-name muted' }, 'Chưa chọn tệp');
    input.addEventListener('change', () => {
      name.textContent = input.files && input.files[0] ? input.files[0].name : 'Chưa chọn tệp';
    });
    const picker = h('label', { class: 'file-picker', for: id }, input, h('span', { class: 'button' }, 'Chọn tệp…'), name);
    picker.input = input;
    picker.reset = () => {
      input.value = '';
      name.textContent = 'Chưa chọn tệp';
    };
    return picker;
  }

  function field(label, input, hint) {
    return h('label', { class: 'field' }, h('span', { class: 'label' }, label), input, hint ? h('span', { class: 'hint' }, hint) : null);
  }

  // A message box: kind 'error', 'ok' or 'info'. For an error, the server's own words go below in
  // small type (lang="en": they are not translated).
  function messageBox(kind, text, detail) {
    return h(
      'div',
      { class: `msg ${kind}`, role: kind === 'error' ? 'alert' : 'status' },
      h('p', {}, text),
      detail ? h('p', { class: 'detail' }, 'Chi tiết: ', h('span', { lang: 'en' }, detail)) : null,
    );
  }

  function errorBox(err) {
    const e = explain(err);
    const box = messageBox('error', e.text, e.detail && e.detail !== e.text ? e.detail : '');
    if (err && err.body && Array.isArray(err.body.errors) && err.body.errors.length)
      box.appendChild(problemList(err.body.errors));
    return box;
  }

  function problemList(problems) {
    return h(
      'ul',
      { class: 'problems' },
      problems.slice(0, 50).map((p) => h('li', {}, p.student_name ? `${p.student_name}: ` : '', h('span', { lang: 'en' }, p.text || p.message))),
    );
  }

  function badge(state) {
    return h('span', { class: `badge st-${state}` }, RECORD_STATE[state] || state);
  }

  function fmtTime(iso) {
    if (!iso) return '';
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return iso;
    return d.toLocaleString('vi-VN', { hour12: false });
  }

  function fmtDuration(s) {
    s = Math.max(0, Math.round(s));
    if (s < 60) return `${s} giây`;
    const m = Math.floor(s / 60);
    if (m < 60) return `${m} phút ${s % 60} giây`;
    return `${Math.floor(m / 60)} giờ ${m % 60} phút`;
  }

  // --- the API -------------------------------------------------------------------------------------

  async function api(method, path, body) {
    const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch('/api/v1' + path, init);
    } catch (e) {
      throw new ApiError(0, 'network', String((e && e.message) || e));
    }
    const text = await res.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch (_) {
        data = null;
      }
    }
    if (!res.ok) {
      const e = data && data.error ? data.error : { code: `http_${res.status}`, message: text.slice(0, 300) };
      const err = new ApiError(res.status, e.code, e.message, data, res.headers.get('Retry-After'));
      if (err.code === 'unauthenticated' && state.me) sessionLost();
      throw err;
    }
    return data;
  }

  // --- state and routing ---------------------------------------------------------------------------

  const state = {
    me: null, // GET /api/v1/me
    timers: [], // cleared on every navigation
    notice: null, // a message for the next view: {kind, text}
  };

  const main = () => document.getElementById('main');

  function stopTimers() {
    for (const t of state.timers) clearTimeout(t);
    state.timers = [];
  }

  function later(ms, fn) {
    state.timers.push(setTimeout(fn, ms));
  }

  function go(hash) {
    if (location.hash === hash) render();
    else location.hash = hash;
  }

  function sessionLost() {
    state.me = null;
    state.notice = { kind: 'info', text: ERROR_TEXT.unauthenticated };
    stopTimers();
    showLogin();
  }

  function role() {
    return state.me ? state.me.role : '';
  }

  function steps() {
    return (state.me && state.me.workflow_steps) || ['gvcn', 'hieu_truong', 'con_dau'];
  }

  // The signature fields this user signs.
  function myFields() {
    if (role() === 'homeroom_teacher') return ['gvcn'];
    if (role() === 'principal') return ['hieu_truong', 'con_dau'].filter((f) => steps().includes(f));
    return [];
  }

  const ROUTES = [
    [/^#?\/?$/, home],
    [/^#\/lop$/, viewClasses],
    [/^#\/lop\/(\d+)$/, viewClass],
    [/^#\/hoc-ba\/(\d+)$/, viewRecord],
    [/^#\/luot-ky$/, viewJobs],
    [/^#\/luot-ky\/(\d+)$/, viewJob],
    [/^#\/truong$/, viewSchool],
    [/^#\/dinh-chinh$/, viewCorrections],
    [/^#\/quan-tri(?:\/([a-z-]+))?$/, viewAdmin],
  ];

  async function render() {
    stopTimers();
    if (!state.me) {
      try {
        state.me = await api('GET', '/me');
      } catch (e) {
        showLogin(e.code && e.code !== 'unauthenticated' ? e : null);
        return;
      }
    }
    showUser();
    const hash = location.hash || '#/';
    for (const [re, view] of ROUTES) {
      const m = re.exec(hash);
      if (!m) continue;
      const el = h('section', { class: 'view' }, h('p', { class: 'loading' }, 'Đang tải…'));
      fill(main(), el);
      markNav(hash);
      try {
        await view(el, ...m.slice(1));
      } catch (e) {
        if (e.code === 'unauthenticated') return;
        console.warn('view failed', e);
        fill(el, errorBox(e));
      }
      return;
    }
    fill(main(), messageBox('error', 'Không có trang này.'), h('p', {}, h('a', { href: '#/' }, 'Về trang chính')));
  }

  function showUser() {
    const me = state.me;
    document.getElementById('who').hidden = false;
    document.getElementById('who-name').textContent = me.display_name || me.username;
    document.getElementById('who-role').textContent = ROLE_TEXT[me.role] || me.role;
    const links = {
      homeroom_teacher: [['#/lop', 'Lớp của tôi'], ['#/luot-ky', 'Lượt ký'], ['#/dinh-chinh', 'Đính chính']],
      principal: [['#/truong', 'Toàn trường'], ['#/luot-ky', 'Lượt ký'], ['#/dinh-chinh', 'Đính chính']],
      admin: [
        ['#/quan-tri/nguoi-dung', 'Người dùng'],
        ['#/quan-tri/khoa', 'Khóa ký'],
        ['#/quan-tri/lop', 'Lớp học'],
        ['#/quan-tri/dinh-chinh', 'Đính chính'],
        ['#/quan-tri/nhat-ky', 'Nhật ký'],
      ],
    }[me.role] || [['#/lop', 'Lớp học']];
    const nav = document.getElementById('nav');
    fill(nav, links.map(([href, text]) => h('a', { href }, text)));
    nav.hidden = false;
  }

  function markNav(hash) {
    for (const a of document.querySelectorAll('#nav a')) {
      const href = a.getAttribute('href');
      a.classList.toggle('active', hash === href || hash.startsWith(href + '/'));
    }
  }

  function home(el) {
    const r = role();
    if (r === 'principal') return viewSchool(el);
    if (r === 'admin') return viewAdmin(el, 'nguoi-dung');
    return viewClasses(el);
  }

  // --- log in / out --------------------------------------------------------------------------------

  function showLogin(err) {
    stopTimers();
    document.getElementById('who').hidden = true;
    document.getElementById('nav').hidden = true;
    const user = h('input', { name: 'username', id: 'login-username', autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false' });
    const pass = h('input', { name: 'password', id: 'login-password', type: 'password', autocomplete: 'current-password' });
    const totp = h('input', { name: 'totp', id: 'login-totp', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: '8' });
    // Always shown: the server does not say whether an account needs a code before the password and
    // the code are both right.
    const totpRow = field('Mã xác thực (nếu có)', totp, 'Chỉ khi tài khoản đã bật xác thực hai lớp: mã 6 chữ số trong ứng dụng trên điện thoại.');
    const msg = h('div', { class: 'msgs' });
    if (state.notice) {
      msg.appendChild(messageBox(state.notice.kind, state.notice.text));
      state.notice = null;
    }
    if (err) msg.appendChild(errorBox(err));
    const button = h('button', { type: 'submit', class: 'primary', id: 'login-submit' }, 'Đăng nhập');
    const form = h(
      'form',
      { class: 'card login', id: 'login-form', novalidate: true },
      h('h1', {}, 'Đăng nhập'),
      h('p', { class: 'muted' }, 'Hệ thống ký số học bạ của nhà trường.'),
      msg,
      field('Tên đăng nhập', user),
      field('Mật khẩu', pass),
      totpRow,
      button,
    );
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clear(msg);
      if (!user.value.trim() || !pass.value) {
        msg.appendChild(messageBox('error', 'Hãy nhập tên đăng nhập và mật khẩu.'));
        return;
      }
      const body = { username: user.value.trim(), password: pass.value };
      if (totp.value.trim()) body.totp = totp.value.trim();
      button.disabled = true;
      try {
        await api('POST', '/auth/login', body);
        pass.value = '';
        totp.value = '';
        state.me = await api('GET', '/me');
        render();
      } catch (e) {
        pass.value = '';
        totp.value = '';
        pass.focus();
        msg.appendChild(errorBox(e));
      } finally {
        button.disabled = false;
      }
    });
    fill(main(), form);
    user.focus();
  }

  async function logout() {
    try {
      await api('POST', '/auth/logout');
    } catch (_) {
      // the session may be gone already
    }
    state.me = null;
    state.notice = { kind: 'ok', text: 'Bạn đã đăng xuất.' };
    history.replaceState(null, '', '#/');
    showLogin();
  }

  // --- the PIN form --------------------------------------------------------------------------------

  // A PIN entry with its own message area. onSubmit(pin, confirm) does the request; the field is
  // cleared before it runs. `sealed`: the PIN may be left empty (the seal's PIN is kept on the server).
  function pinForm({ id, button, hint, sealed, onSubmit, confirmAtOnce }) {
    const pin = h('input', {
      type: 'password',
      inputmode: 'numeric',
      autocomplete: 'off',
      name: 'pin',
      id,
      class: 'pin',
      maxlength: '64',
      autocapitalize: 'none',
      spellcheck: 'false',
    });
    const confirm = h('input', { type: 'checkbox', name: 'confirm_pin_risk', class: 'confirm-box' });
    const confirmRow = h('label', { class: 'confirm' }, confirm, h('span', {}, 'Tôi xác nhận thử lại'));
    confirmRow.hidden = !confirmAtOnce;
    const msg = h('div', { class: 'msgs' });
    const btn = h('button', { type: 'submit', class: 'primary' }, button);
    const form = h(
      'form',
      { class: 'pin-form', novalidate: true },
      field('Mã PIN của token', pin, hint || (sealed ? 'Mã PIN con dấu đã được lưu kín trên máy chủ: có thể để trống.' : null)),
      confirmRow,
      msg,
      btn,
    );
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const value = pin.value;
      pin.value = '';
      clear(msg);
      if (!value && !sealed) {
        msg.appendChild(messageBox('error', ERROR_TEXT.pin_required));
        pin.focus();
        return;
      }
      btn.disabled = true;
      try {
        await onSubmit(value, !confirmRow.hidden && confirm.checked);
        confirm.checked = false;
        confirmRow.hidden = !confirmAtOnce;
      } catch (e) {
        if (e.code === 'unauthenticated') return;
        const x = explain(e);
        if (x.code === 'pin_needs_confirm') {
          confirmRow.hidden = false;
          confirm.checked = false;
        }
        msg.appendChild(errorBox(e));
        pin.focus();
      } finally {
        btn.disabled = false;
      }
    });
    return { form, msg };
  }

  // --- classes -------------------------------------------------------------------------------------

  async function viewClasses(el) {
    const { classes } = await api('GET', '/classes');
    const title = role() === 'homeroom_teacher' ? 'Lớp của tôi' : 'Các lớp';
    if (!classes.length) {
      fill(
        el,
        h('h1', {}, title),
        messageBox(
          'info',
          role() === 'homeroom_teacher'
            ? 'Bạn chưa được phân công chủ nhiệm lớp nào. Hãy liên hệ quản trị của trường.'
            : 'Chưa có lớp nào được nhập.',
        ),
      );
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
              h('span', { class: 'big' }, `Lớp ${c.name}`),
              h('span', { class: 'muted' }, `Năm học ${c.school_year}`),
              h('span', {}, `Giáo viên chủ nhiệm: ${c.homeroom_name || c.homeroom || 'chưa phân công'}`),
              h('span', {}, `${c.records} học bạ · ${c.final} đã hoàn tất`),
            ),
          ),
        ),
      ),
    );
  }

  function countWaiting(records, f) {
    return records.filter((r) => r.next_step === f).length;
  }

  async function activeJobs() {
    try {
      const { jobs } = await api('GET', '/jobs');
      return jobs.filter((j) => j.state === 'running' || j.state === 'paused' || j.state === 'failed');
    } catch (e) {
      if (e.code === 'forbidden') return [];
      throw e;
    }
  }

  function jobTitle(j, className) {
    if (j.class_id) return `${JOB_CLASS[j.field] || j.field}${className ? ' ' + className : ''}`;
    return JOB_SCHOOL[j.field] || j.field;
  }

  function jobBanner(j, className) {
    return h(
      'a',
      { class: `card link-card job-banner js-${j.state}`, href: `#/luot-ky/${j.id}` },
      h('span', { class: 'big' }, jobTitle(j, className)),
      h('span', {}, `${JOB_STATE[j.state] || j.state}: đã ký ${j.done} / ${j.total}`),
      h('span', { class: 'muted' }, 'Xem tiến độ'),
    );
  }

  // Starting a job: POST /jobs, then its progress view.
  function jobStarter(field, classId, records, sealed) {
    const waiting = countWaiting(records, field);
    const title = classId ? JOB_CLASS[field] : JOB_SCHOOL[field];
    const { form } = pinForm({
      id: `pin-job-${field}`,
      button: `${title} (${waiting} học bạ)`,
      sealed: field === 'con_dau' && sealed,
      onSubmit: async (pin, confirm) => {
        const body = { field, pin };
        if (classId) body.class_id = Number(classId);
        if (confirm) body.confirm_pin_risk = true;
        const job = await api('POST', '/jobs', body);
        go(`#/luot-ky/${job.id}`);
      },
    });
    form.classList.add('job-start');
    form.dataset.field = field;
    return h(
      'div',
      { class: 'card sign-card' },
      h('h2', {}, title),
      h(
        'p',
        { class: 'muted' },
        field === 'con_dau'
          ? `Đóng dấu ${waiting} học bạ đã có chữ ký hiệu trưởng, nhập mã PIN một lần.`
          : `Ký ${waiting} học bạ đang chờ, nhập mã PIN một lần.`,
      ),
      form,
    );
  }

  async function viewClass(el, id) {
    const [cls, jobs] = await Promise.all([api('GET', `/classes/${id}`), activeJobs()]);
    const recs = cls.records;
    const mine = jobs.filter((j) => j.class_id === cls.id || (!j.class_id && role() === 'principal'));
    const finals = recs.filter((r) => r.state === 'final').length;
    const failed = recs.filter((r) => r.state === 'failed').length;
    const parts = [
      h('p', { class: 'crumbs' }, h('a', { href: role() === 'principal' ? '#/truong' : '#/lop' }, '‹ Các lớp')),
      h('h1', {}, `Lớp ${cls.name}`, h('span', { class: 'sub' }, ` · Năm học ${cls.school_year}`)),
      h(
        'div',
        { class: 'stats' },
        stat('Học bạ', recs.length, 'stat-total'),
        steps().map((f, i) => stat(FIELD_SHORT[f] || f, recs.filter((r) => r.steps_done > i).length, `stat-${f}`)),
        stat('Hoàn tất', finals, 'stat-final'),
        failed ? stat('Lỗi', failed, 'stat-failed') : null,
      ),
      mine.map((j) => jobBanner(j, cls.name)),
    ];
    const busy = new Set(mine.map((j) => j.field));
    for (const f of myFields())
      if (countWaiting(recs, f) > 0 && !busy.has(f)) parts.push(jobStarter(f, cls.id, recs, state.me.seal_pin_sealed));
    parts.push(
      h('h2', {}, 'Danh sách học bạ'),
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
                `Mã định danh ${r.personal_id}`,
                r.version > 1 ? ` · phiên bản ${r.version}` : '',
                ` · ${r.steps_done}/${steps().length} chữ ký`,
                r.next_step ? ` · ${FIELD_WAITING[r.next_step] || r.next_step}` : '',
              ),
              r.error ? h('span', { class: 'detail small', lang: 'en' }, r.error) : null,
            ),
          ),
        ),
      ),
    );
    fill(el, parts);
  }

  function stat(label, value, cls) {
    return h('div', { class: `stat ${cls || ''}` }, h('span', { class: 'value' }, String(value)), h('span', { class: 'label' }, label));
  }

  // --- one record ----------------------------------------------------------------------------------

  async function viewRecord(el, id) {
    const rec = await api('GET', `/records/${id}`);
    const sigs = new Map((rec.signatures || []).map((s) => [s.field, s]));
    const parts = [
      h('p', { class: 'crumbs' }, h('a', { href: `#/lop/${rec.class_id}` }, `‹ Lớp ${rec.class}`)),
      h('h1', {}, rec.student_name, ' ', badge(rec.state)),
      h(
        'p',
        { class: 'muted' },
        `Lớp ${rec.class} · Năm học ${rec.school_year} · Mã định danh ${rec.personal_id} · Phiên bản ${rec.version}`,
      ),
      rec.error ? messageBox('error', 'Học bạ này bị lỗi khi tạo.', rec.error) : null,
      rec.superseded_by
        ? messageBox('info', 'Học bạ này đã được thay bằng phiên bản mới sau đính chính.')
        : null,
      rec.superseded_by ? h('p', {}, h('a', { href: `#/hoc-ba/${rec.superseded_by}` }, 'Mở phiên bản mới')) : null,
      h(
        'p',
        {},
        h(
          'a',
          { class: 'button', id: 'open-pdf', href: `/api/v1/records/${rec.id}/pdf`, target: '_blank', rel: 'noopener' },
          'Xem học bạ (PDF)',
        ),
      ),
      h('h2', {}, 'Chữ ký'),
      h(
        'ol',
        { class: 'sigs' },
        steps().map((f, i) => {
          const s = sigs.get(f);
          let status, cls;
          if (s) (status = 'Đã ký'), (cls = 'done');
          else if (rec.next_step === f) (status = 'Chờ ký'), (cls = 'next');
          else (status = 'Chưa ký'), (cls = 'todo');
          return h(
            'li',
            { class: `sig sig-${cls}`, 'data-field': f },
            h('span', { class: 'who' }, FIELD_TEXT[f] || f),
            h('span', { class: `sig-state ${cls}` }, status),
            s ? h('span', { class: 'muted small' }, `${s.by} · ${fmtTime(s.at)}${s.job_id ? ' · lượt ký #' + s.job_id : ''}`) : null,
          );
        }),
      ),
    ];
    if (rec.versions && rec.versions.length > 1)
      parts.push(
        h('h2', {}, 'Các phiên bản'),
        h(
          'ul',
          { class: 'plain' },
          rec.versions.map((v) =>
            h('li', {}, h('a', { href: `#/hoc-ba/${v.id}` }, `Phiên bản ${v.version}`), ' ', badge(v.state)),
          ),
        ),
      );
    if (rec.next_step && myFields().includes(rec.next_step)) {
      const done = h('div', { class: 'msgs' });
      const { form } = pinForm({
        id: 'pin-record',
        button: SIGN_ONE[rec.next_step] || 'Ký',
        sealed: rec.next_step === 'con_dau' && state.me.seal_pin_sealed,
        onSubmit: async (pin, confirm) => {
          const body = { pin, field: rec.next_step };
          if (confirm) body.confirm_pin_risk = true;
          await api('POST', `/records/${rec.id}/sign`, body);
          state.notice = { kind: 'ok', text: 'Đã ký học bạ thành công.' };
          render();
        },
      });
      form.id = 'sign-one';
      parts.push(
        h('div', { class: 'card sign-card' }, h('h2', {}, SIGN_ONE[rec.next_step]), h('p', { class: 'muted' }, `Ký với vai trò: ${FIELD_TEXT[rec.next_step]}.`), done, form),
      );
    }
    if (state.notice) {
      parts.splice(2, 0, messageBox(state.notice.kind, state.notice.text));
      state.notice = null;
    }
    if ((role() === 'homeroom_teacher' || role() === 'principal') && rec.state !== 'superseded') parts.push(correctionForm(rec));
    fill(el, parts);
  }

  // The student's homeroom comment inside a hocba.class/v1 student object.
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
    const btn = h('button', { type: 'submit', class: 'primary' }, 'Gửi yêu cầu đính chính');

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
      const s = parse();
      const holder = commentHolder(s);
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
        msg.appendChild(messageBox('error', 'Tệp không chứa dữ liệu JSON của học sinh này.', String(e.message || e)));
      }
    });

    const form = h(
      'form',
      { class: 'correction', id: 'correction-form', novalidate: true },
      field('Lý do đính chính', why, 'Ghi rõ sai ở đâu và cần sửa thế nào.'),
      field('Nhận xét của giáo viên chủ nhiệm', comment),
      field(
        'Dữ liệu học sinh (JSON)',
        json,
        rec.student ? null : 'Dán dữ liệu JSON của học sinh (định dạng hocba.class/v1) hoặc chọn tệp bên dưới, rồi sửa.',
      ),
      h('div', { class: 'field' }, h('span', { class: 'label' }, 'Hoặc lấy từ tệp JSON'), picker),
      msg,
      btn,
    );
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clear(msg);
      const student = parse();
      if (why.value.trim().length < 5) {
        msg.appendChild(messageBox('error', 'Hãy ghi rõ lý do đính chính (ít nhất 5 ký tự).'));
        return;
      }
      if (!student) {
        msg.appendChild(messageBox('error', 'Dữ liệu học sinh chưa phải JSON hợp lệ.'));
        return;
      }
      const holder = commentHolder(student);
      if (holder) holder.homeroom_comment = comment.value;
      btn.disabled = true;
      try {
        const r = await api('POST', `/records/${rec.id}/corrections`, { student, why: why.value.trim() });
        msg.appendChild(messageBox('ok', `Đã gửi yêu cầu đính chính số ${r.id}. Chờ quản trị duyệt.`));
        why.value = '';
      } catch (e) {
        if (e.code !== 'unauthenticated') msg.appendChild(errorBox(e));
      } finally {
        btn.disabled = false;
      }
    });
    return h('details', { class: 'card' }, h('summary', {}, 'Yêu cầu đính chính'), form);
  }

  // --- jobs ----------------------------------------------------------------------------------------

  async function viewJobs(el) {
    const { jobs } = await api('GET', '/jobs');
    if (!jobs.length) {
      fill(el, h('h1', {}, 'Lượt ký'), messageBox('info', 'Chưa có lượt ký nào.'));
      return;
    }
    const names = await classNames();
    fill(
      el,
      h('h1', {}, 'Lượt ký'),
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
              h('span', {}, `${JOB_STATE[j.state] || j.state} · đã ký ${j.done} / ${j.total}${j.failed ? ` · ${j.failed} lỗi` : ''}`),
              h('span', { class: 'muted small' }, `Bắt đầu ${fmtTime(j.created_at)} · ${j.created_by}`),
            ),
          ),
        ),
      ),
    );
  }

  async function classNames() {
    try {
      const { classes } = await api('GET', '/classes');
      return new Map(classes.map((c) => [c.id, c.name]));
    } catch (_) {
      return new Map();
    }
  }

  async function viewJob(el, id) {
    const [names, first] = await Promise.all([classNames(), api('GET', `/jobs/${id}`)]);
    const back = h('p', { class: 'crumbs' });
    const title = h('h1', {});
    const stateLine = h('p', { class: 'job-state' });
    const bar = h('progress', { id: 'job-progress', max: '1', value: '0' });
    const done = h('span', { class: 'value', id: 'job-done' }, '0');
    const total = h('span', { class: 'value', id: 'job-total' }, '0');
    const failed = h('span', { class: 'value', id: 'job-failed' }, '0');
    const eta = h('span', { class: 'value', id: 'job-eta' }, '–');
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
        h('div', { class: 'stat' }, h('span', { class: 'value' }, done, ' / ', total), h('span', { class: 'label' }, 'Đã ký / tổng')),
        h('div', { class: 'stat' }, failed, h('span', { class: 'label' }, 'Lỗi')),
        h('div', { class: 'stat' }, eta, h('span', { class: 'label' }, 'Thời gian còn lại')),
      ),
      reason,
      resume,
      controls,
      failures,
    );

    let lastKey = '';
    const update = (j) => {
      const cname = names.get(j.class_id);
      fill(back, h('a', { href: j.class_id ? `#/lop/${j.class_id}` : role() === 'principal' ? '#/truong' : '#/luot-ky' }, j.class_id ? `‹ Lớp ${cname || ''}` : '‹ Toàn trường'));
      title.textContent = jobTitle(j, cname);
      el.dataset.state = j.state;
      stateLine.className = `job-state js-${j.state}`;
      stateLine.textContent = `Trạng thái: ${JOB_STATE[j.state] || j.state}`;
      const handled = j.done + j.failed + j.skipped;
      bar.max = Math.max(1, j.total);
      bar.value = handled;
      done.textContent = String(j.done);
      total.textContent = String(j.total);
      failed.textContent = String(j.failed);
      if (j.state === 'running') eta.textContent = j.eta_seconds == null ? 'đang tính…' : `khoảng ${fmtDuration(j.eta_seconds)}`;
      else if (j.state === 'done') eta.textContent = 'xong';
      else eta.textContent = '–';
      // Controls and messages change only with the state (so that a PIN being typed is not lost).
      const key = `${j.state}|${j.reason}|${j.failed}|${j.skipped}`;
      if (key === lastKey) return;
      lastKey = key;
      clear(reason);
      if (j.state === 'done')
        reason.appendChild(
          messageBox('ok', `Đã ký xong ${j.done} học bạ${j.failed ? `, ${j.failed} học bạ lỗi` : ''}${j.skipped ? `, bỏ qua ${j.skipped}` : ''}.`),
        );
      else if (j.reason) {
        const x = explain({ message: j.reason, code: j.reason_code });
        reason.appendChild(messageBox(j.state === 'failed' ? 'error' : 'info', x.text, x.detail !== x.text ? x.detail : ''));
      }
      clear(controls);
      clear(resume);
      const mineToControl = j.created_by === state.me.username || role() === 'admin';
      if (j.state === 'running' && mineToControl)
        controls.append(
          h('button', { type: 'button', id: 'job-pause', onclick: () => control(j.id, 'pause') }, 'Tạm dừng'),
          h('button', { type: 'button', id: 'job-cancel', class: 'danger', onclick: () => control(j.id, 'cancel') }, 'Hủy lượt ký'),
        );
      if ((j.state === 'paused' || j.state === 'failed') && j.created_by === state.me.username) {
        const code = j.reason ? explain({ message: j.reason, code: j.reason_code }).code : '';
        const pinProblem = ['pin_incorrect', 'pin_needs_confirm', 'pin_rejected_before'].includes(code);
        const { form } = pinForm({
          id: 'pin-resume',
          button: 'Tiếp tục ký',
          sealed: j.field === 'con_dau' && state.me.seal_pin_sealed,
          confirmAtOnce: pinProblem,
          hint: pinProblem ? 'Kiểm tra kỹ mã PIN: token có thể bị khóa nếu nhập sai nhiều lần.' : null,
          onSubmit: async (pin, confirm) => {
            const body = { pin };
            if (confirm) body.confirm_pin_risk = true;
            await api('POST', `/jobs/${j.id}/resume`, body);
            poll(0);
          },
        });
        resume.append(h('div', { class: 'card sign-card' }, h('h2', {}, 'Tiếp tục lượt ký'), form));
      }
      // A paused or failed job holds its records until it is resumed or cancelled (by its owner or the admin).
      if ((j.state === 'paused' || j.state === 'failed') && mineToControl)
        controls.append(h('button', { type: 'button', id: 'job-cancel', class: 'danger', onclick: () => control(j.id, 'cancel') }, 'Hủy lượt ký'));
      fill(
        failures,
        j.failures && j.failures.length
          ? [
              h('h2', {}, 'Học bạ bị lỗi'),
              h(
                'ul',
                { class: 'failures' },
                j.failures.map((f) =>
                  h(
                    'li',
                    {},
                    h('a', { href: `#/hoc-ba/${f.record_id}` }, f.student_name),
                    h('span', { class: 'muted small' }, ` · Mã định danh ${f.personal_id}`),
                    h('span', { class: 'detail small', lang: 'en' }, f.error),
                  ),
                ),
              ),
            ]
          : [],
      );
    };

    const control = async (jobId, what) => {
      clear(reason);
      try {
        update(await api('POST', `/jobs/${jobId}/${what}`));
        poll(300);
      } catch (e) {
        if (e.code !== 'unauthenticated') reason.appendChild(errorBox(e));
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

  // --- the principal: the whole school -------------------------------------------------------------

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

  async function viewSchool(el) {
    const [{ classes }, jobs] = await Promise.all([api('GET', '/classes'), activeJobs()]);
    const details = await mapLimit(classes, 6, (c) => api('GET', `/classes/${c.id}`));
    const all = details.flatMap((d) => d.records);
    const st = steps();
    const parts = [
      h('h1', {}, 'Toàn trường'),
      h(
        'div',
        { class: 'stats' },
        stat('Học bạ', all.length, 'stat-total'),
        st.map((f, i) => stat(FIELD_SHORT[f] || f, all.filter((r) => r.steps_done > i).length, `stat-${f}`)),
        stat('Hoàn tất', all.filter((r) => r.state === 'final').length, 'stat-final'),
      ),
    ];
    const school = jobs.filter((j) => !j.class_id);
    parts.push(school.map((j) => jobBanner(j)));
    const busy = new Set(school.map((j) => j.field));
    const starters = myFields()
      .filter((f) => !busy.has(f) && countWaiting(all, f) > 0)
      .map((f) => jobStarter(f, 0, all, state.me.seal_pin_sealed));
    if (starters.length) parts.push(h('div', { class: 'starters' }, starters));
    else if (!school.length && all.length) parts.push(messageBox('info', 'Không có học bạ nào đang chờ hiệu trưởng ký hoặc đóng dấu.'));
    parts.push(
      h('h2', {}, 'Các lớp'),
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'classes' },
          h(
            'thead',
            {},
            h('tr', {}, h('th', {}, 'Lớp'), h('th', {}, 'Giáo viên chủ nhiệm'), h('th', {}, 'Học bạ'), st.map((f) => h('th', {}, FIELD_SHORT[f] || f)), h('th', {}, 'Hoàn tất')),
          ),
          h(
            'tbody',
            {},
            classes.map((c, k) => {
              const recs = details[k].records;
              return h(
                'tr',
                { 'data-class': c.id },
                h('td', {}, h('a', { href: `#/lop/${c.id}` }, `${c.name}`), h('span', { class: 'muted small' }, ` ${c.school_year}`)),
                h('td', {}, c.homeroom_name || c.homeroom || '—'),
                h('td', { class: 'num' }, String(recs.length)),
                st.map((f, i) => h('td', { class: 'num' }, String(recs.filter((r) => r.steps_done > i).length))),
                h('td', { class: 'num' }, String(recs.filter((r) => r.state === 'final').length)),
              );
            }),
          ),
        ),
      ),
    );
    fill(el, parts);
  }

  // --- corrections (the requester's view) ----------------------------------------------------------

  function correctionsList(list, admin, refresh) {
    if (!list.length) return messageBox('info', 'Chưa có yêu cầu đính chính nào.');
    return h(
      'ul',
      { class: 'cards corrections' },
      list.map((k) => {
        const note = h('input', { name: 'note', placeholder: 'Ghi chú (không bắt buộc)' });
        const msg = h('div', { class: 'msgs' });
        const decide = async (what) => {
          clear(msg);
          try {
            await api('POST', `/corrections/${k.id}/${what}`, { note: note.value });
            refresh();
          } catch (e) {
            if (e.code !== 'unauthenticated') msg.appendChild(errorBox(e));
          }
        };
        return h(
          'li',
          { class: 'card', 'data-correction': k.id },
          h('span', { class: 'big' }, `${k.student_name}`, ' ', h('span', { class: `badge cs-${k.state}` }, CORRECTION_STATE[k.state] || k.state)),
          h('span', { class: 'muted small' }, `Số ${k.id} · Mã định danh ${k.personal_id} · ${k.requested_by} · ${fmtTime(k.created_at)}`),
          h('p', {}, 'Lý do: ', k.why),
          k.note ? h('p', {}, 'Ghi chú: ', k.note) : null,
          h(
            'p',
            {},
            h('a', { href: `#/hoc-ba/${k.record_id}` }, 'Học bạ cũ'),
            k.new_record_id ? [' · ', h('a', { href: `#/hoc-ba/${k.new_record_id}` }, 'Phiên bản mới')] : null,
          ),
          admin && k.state === 'pending'
            ? h(
                'div',
                { class: 'controls' },
                note,
                h('button', { type: 'button', class: 'primary approve', onclick: () => decide('approve') }, 'Duyệt'),
                h('button', { type: 'button', class: 'danger reject', onclick: () => decide('reject') }, 'Từ chối'),
              )
            : null,
          msg,
        );
      }),
    );
  }

  async function viewCorrections(el) {
    const { corrections } = await api('GET', '/corrections');
    fill(
      el,
      h('h1', {}, 'Yêu cầu đính chính'),
      h('p', { class: 'muted' }, 'Mở một học bạ để gửi yêu cầu đính chính. Quản trị duyệt thì học bạ được tạo lại thành bản nháp mới và ký lại.'),
      correctionsList(corrections, false, () => render()),
    );
  }

  // --- the admin -----------------------------------------------------------------------------------

  async function viewAdmin(el, tab) {
    if (role() !== 'admin') {
      fill(el, messageBox('error', ERROR_TEXT.forbidden));
      return;
    }
    const tabs = {
      'nguoi-dung': adminUsers,
      khoa: adminKeys,
      lop: adminClasses,
      'dinh-chinh': adminCorrections,
      'nhat-ky': adminAudit,
    };
    const fn = tabs[tab || 'nguoi-dung'];
    if (!fn) {
      fill(el, messageBox('error', 'Không có trang này.'));
      return;
    }
    markNav(`#/quan-tri/${tab || 'nguoi-dung'}`);
    await fn(el);
  }

  // The attributes of a PKCS#11 URI's path (RFC 7512), as written: "pkcs11:token=A;object=b" ->
  // {token: 'A', object: 'b'}.
  function uriAttrs(uri) {
    const out = {};
    const p = String(uri || '').replace(/^pkcs11:/, '').split('?')[0];
    for (const part of p.split(';')) {
      const i = part.indexOf('=');
      if (i > 0) out[part.slice(0, i)] = decodeURIComponentSafe(part.slice(i + 1));
    }
    return out;
  }

  function decodeURIComponentSafe(v) {
    try {
      return decodeURIComponent(v);
    } catch (_) {
      return v;
    }
  }

  function table(headers, rows, cls) {
    return h(
      'div',
      { class: 'table-wrap' },
      h('table', { class: cls || '' }, h('thead', {}, h('tr', {}, headers.map((t) => h('th', {}, t)))), h('tbody', {}, rows)),
    );
  }

  async function adminUsers(el) {
    const { users } = await api('GET', '/users');
    const msg = h('div', { class: 'msgs' });
    const username = h('input', { name: 'username', id: 'user-username', autocomplete: 'off', autocapitalize: 'none' });
    const display = h('input', { name: 'display_name', id: 'user-display' });
    const roleSel = h('select', { name: 'role', id: 'user-role' }, ROLES.map((r) => h('option', { value: r }, ROLE_TEXT[r])));
    const password = h('input', { name: 'password', id: 'user-password', type: 'password', autocomplete: 'new-password' });
    const form = h(
      'form',
      { class: 'card grid-form', id: 'user-form', novalidate: true },
      h('h2', {}, 'Thêm người dùng'),
      field('Tên đăng nhập', username),
      field('Họ và tên', display),
      field('Vai trò', roleSel),
      field('Mật khẩu', password, 'Ít nhất 8 ký tự.'),
      msg,
      h('button', { type: 'submit', class: 'primary' }, 'Thêm người dùng'),
    );
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clear(msg);
      try {
        await api('POST', '/users', { username: username.value.trim(), display_name: display.value.trim(), role: roleSel.value, password: password.value });
        password.value = '';
        state.notice = { kind: 'ok', text: `Đã thêm người dùng ${username.value.trim()}.` };
        render();
      } catch (e) {
        password.value = '';
        if (e.code !== 'unauthenticated') msg.appendChild(errorBox(e));
      }
    });
    const toggle = async (u) => {
      try {
        await api('PATCH', `/users/${u.id}`, { disabled: !u.disabled });
        render();
      } catch (e) {
        if (e.code !== 'unauthenticated') fill(msg, errorBox(e));
      }
    };
    const notice = state.notice ? messageBox(state.notice.kind, state.notice.text) : null;
    state.notice = null;
    fill(
      el,
      h('h1', {}, 'Người dùng'),
      notice,
      table(
        ['Tên đăng nhập', 'Họ và tên', 'Vai trò', 'Trạng thái', 'Mã xác thực', ''],
        users.map((u) =>
          h(
            'tr',
            { 'data-user': u.username },
            h('td', {}, u.username),
            h('td', {}, u.display_name),
            h('td', {}, ROLE_TEXT[u.role] || u.role),
            h('td', {}, u.disabled ? 'Đã khóa' : 'Đang hoạt động'),
            h('td', {}, u.totp ? 'Đã bật' : 'Chưa bật'),
            h('td', {}, u.username === state.me.username ? '' : h('button', { type: 'button', class: 'small-btn', onclick: () => toggle(u) }, u.disabled ? 'Mở khóa' : 'Khóa')),
          ),
        ),
      ),
      form,
    );
  }

  async function adminKeys(el) {
    const [{ keys }, tokensRes, { users }] = await Promise.all([
      api('GET', '/keys'),
      api('GET', '/tokens').catch((e) => ({ error: e })),
      api('GET', '/users'),
    ]);
    const signers = users.filter((u) => !u.disabled && (u.role === 'homeroom_teacher' || u.role === 'principal'));
    const nameOf = new Map(users.map((u) => [u.username, u.display_name ? `${u.display_name} (${u.username})` : u.username]));
    const msg = h('div', { class: 'msgs' });
    const ownerText = (k) => (k.seal ? 'Con dấu nhà trường' : nameOf.get(k.owner) || k.owner || '');
    // The bound key that names this token object: every attribute of the bound URI matches it.
    const boundTo = (objUri) => {
      const o = uriAttrs(objUri);
      return keys.find((k) => {
        const b = Object.entries(uriAttrs(k.uri)).filter(([a]) => a !== 'type');
        return b.length > 0 && b.every(([a, v]) => o[a] === v);
      });
    };

    const ownerSelect = (id) =>
      h(
        'select',
        { name: 'owner', id },
        h('option', { value: '' }, '— Chọn người ký —'),
        signers.map((u) => h('option', { value: u.username }, `${u.display_name || u.username} (${ROLE_TEXT[u.role]})`)),
        h('option', { value: '@seal' }, 'Con dấu nhà trường'),
      );
    const bind = async (uri, owner, out) => {
      clear(out);
      if (!owner) {
        out.appendChild(messageBox('error', 'Hãy chọn người ký hoặc con dấu nhà trường.'));
        return;
      }
      try {
        await api('POST', '/keys', owner === '@seal' ? { uri, seal: true } : { uri, username: owner });
        state.notice = { kind: 'ok', text: 'Đã gán khóa ký.' };
        render();
      } catch (e) {
        if (e.code !== 'unauthenticated') out.appendChild(errorBox(e));
      }
    };
    const unbind = async (k) => {
      clear(msg);
      try {
        await api('DELETE', `/keys/${k.id}`);
        render();
      } catch (e) {
        if (e.code !== 'unauthenticated') msg.appendChild(errorBox(e));
      }
    };

    const parts = [h('h1', {}, 'Khóa ký')];
    if (state.notice) parts.push(messageBox(state.notice.kind, state.notice.text)), (state.notice = null);
    parts.push(
      msg,
      h('h2', {}, 'Khóa đã gán'),
      keys.length
        ? table(
            ['Nhãn', 'Thuộc về', 'Địa chỉ khóa (PKCS#11)', ''],
            keys.map((k) =>
              h(
                'tr',
                { 'data-key': k.id },
                h('td', {}, k.label || `#${k.id}`),
                h('td', {}, ownerText(k)),
                h('td', {}, h('code', { translate: 'no' }, k.uri)),
                h('td', {}, h('button', { type: 'button', class: 'small-btn danger', onclick: () => unbind(k) }, 'Bỏ gán')),
              ),
            ),
          )
        : messageBox('info', 'Chưa gán khóa nào.'),
      h('h2', {}, 'Token đang cắm'),
    );
    if (tokensRes.error) parts.push(errorBox(tokensRes.error));
    else {
      const { tokens, keys: objects } = tokensRes;
      parts.push(
        tokens.length
          ? table(
              ['Token', 'Số sê-ri', 'Tình trạng'],
              tokens.map((t) =>
                h(
                  'tr',
                  {},
                  h('td', {}, t.label || '—'),
                  h('td', {}, t.serial || '—'),
                  h(
                    'td',
                    {},
                    !t.label
                      ? 'Chưa khởi tạo'
                      : !t.present
                      ? 'Chưa cắm'
                      : t.pin_locked
                        ? 'Đã khóa mã PIN'
                        : t.pin_final_try
                          ? 'Chỉ còn một lần thử mã PIN'
                          : t.pin_count_low
                            ? 'Đã có lần nhập sai mã PIN'
                            : 'Sẵn sàng',
                  ),
                ),
              ),
            )
          : messageBox('info', 'Không thấy token nào. Hãy cắm token vào máy chủ.'),
        h('h2', {}, 'Khóa trên token'),
        objects.length
          ? h(
              'ul',
              { class: 'cards' },
              objects.map((o, i) => {
                const sel = ownerSelect(`bind-owner-${i}`);
                const out = h('div', { class: 'msgs' });
                const b = boundTo(o.uri);
                return h(
                  'li',
                  { class: 'card', 'data-uri': o.uri },
                  h('span', { class: 'big' }, `${o.label} · ${o.token}`),
                  h('span', { class: 'small' }, o.subject),
                  h('code', { class: 'small', translate: 'no' }, o.uri),
                  !o.has_certificate ? h('span', { class: 'muted small' }, 'Khóa chưa có chứng thư số: chưa gán được.') : null,
                  b
                    ? h('span', { class: 'bound' }, `Đã gán cho: ${ownerText(b)}`)
                    : o.has_certificate
                      ? h(
                          'div',
                          { class: 'controls' },
                          sel,
                          h('button', { type: 'button', class: 'primary', onclick: () => bind(o.uri, sel.value, out) }, 'Gán khóa'),
                        )
                      : null,
                  out,
                );
              }),
            )
          : messageBox('info', 'Không thấy khóa nào trên các token.'),
      );
    }
    // A key by its URI (a token that is not listed, or a specific object).
    const uri = h('input', { name: 'uri', id: 'bind-uri', placeholder: 'pkcs11:token=…;object=…', spellcheck: 'false', autocapitalize: 'none' });
    const sel = ownerSelect('bind-owner-uri');
    const out = h('div', { class: 'msgs' });
    const form = h(
      'form',
      { class: 'card grid-form', novalidate: true },
      h('h2', {}, 'Gán khóa theo địa chỉ'),
      field('Địa chỉ khóa (PKCS#11)', uri),
      field('Gán cho', sel),
      out,
      h('button', { type: 'submit', class: 'primary' }, 'Gán khóa'),
    );
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      bind(uri.value.trim(), sel.value, out);
    });
    parts.push(form);
    fill(el, parts);
  }

  async function adminClasses(el) {
    const [{ classes }, { users }] = await Promise.all([api('GET', '/classes'), api('GET', '/users')]);
    const teachers = users.filter((u) => u.role === 'homeroom_teacher' && !u.disabled);
    const msg = h('div', { class: 'msgs', id: 'import-result' });
    const picker = filePicker('import-file', '.json,application/json');
    const file = picker.input;
    const btn = h('button', { type: 'submit', class: 'primary' }, 'Nhập lớp');
    const form = h(
      'form',
      { class: 'card', id: 'import-form', novalidate: true },
      h('h2', {}, 'Nhập lớp từ tệp'),
      h('p', { class: 'muted' }, 'Tệp JSON định dạng hocba.class/v1 xuất từ phần mềm quản lý trường học. Học bạ nháp được tạo ngay.'),
      h('div', { class: 'field' }, h('span', { class: 'label' }, 'Tệp lớp học (JSON)'), picker),
      msg,
      btn,
    );
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clear(msg);
      const f = file.files && file.files[0];
      if (!f) {
        msg.appendChild(messageBox('error', 'Hãy chọn tệp lớp học.'));
        return;
      }
      btn.disabled = true;
      msg.appendChild(messageBox('info', 'Đang nhập và tạo học bạ nháp…'));
      try {
        const r = await api('POST', '/classes', await f.text());
        clear(msg);
        msg.appendChild(
          messageBox(
            'ok',
            `Đã nhập lớp: ${r.created.length} học bạ mới hoặc cập nhật, ${r.kept.length} giữ nguyên (đã ký), ${r.failed.length} lỗi.`,
          ),
        );
        if (r.warnings && r.warnings.length)
          msg.append(h('details', { class: 'problems-box' }, h('summary', {}, `Cảnh báo cần kiểm tra trước khi ký (${r.warnings.length})`), problemList(r.warnings)));
        if (r.errors && r.errors.length)
          msg.append(h('details', { class: 'problems-box', open: true }, h('summary', {}, `Học sinh không nhập được (${r.errors.length})`), problemList(r.errors)));
        later(0, () => refreshList());
      } catch (e) {
        clear(msg);
        if (e.code !== 'unauthenticated') msg.appendChild(errorBox(e));
      } finally {
        btn.disabled = false;
        picker.reset();
      }
    });

    const list = h('div', {});
    const renderList = (cs) =>
      fill(
        list,
        cs.length
          ? table(
              ['Lớp', 'Năm học', 'Học bạ', 'Hoàn tất', 'Giáo viên chủ nhiệm'],
              cs.map((c) => {
                const sel = h(
                  'select',
                  { name: 'homeroom', 'aria-label': `Giáo viên chủ nhiệm lớp ${c.name}` },
                  h('option', { value: '' }, '— Chọn —'),
                  teachers.map((u) => h('option', { value: u.username, selected: u.username === c.homeroom }, u.display_name || u.username)),
                );
                const out = h('div', { class: 'msgs' });
                const assign = async () => {
                  clear(out);
                  if (!sel.value) return;
                  try {
                    await api('PUT', `/classes/${c.id}/homeroom`, { username: sel.value });
                    out.appendChild(messageBox('ok', 'Đã gán.'));
                  } catch (e) {
                    if (e.code !== 'unauthenticated') out.appendChild(errorBox(e));
                  }
                };
                return h(
                  'tr',
                  { 'data-class': c.id },
                  h('td', {}, h('a', { href: `#/lop/${c.id}` }, c.name)),
                  h('td', {}, c.school_year),
                  h('td', { class: 'num' }, String(c.records)),
                  h('td', { class: 'num' }, String(c.final)),
                  h('td', {}, h('div', { class: 'controls' }, sel, h('button', { type: 'button', class: 'small-btn', onclick: assign }, 'Gán')), out),
                );
              }),
            )
          : messageBox('info', 'Chưa có lớp nào.'),
      );
    const refreshList = async () => {
      try {
        renderList((await api('GET', '/classes')).classes);
      } catch (_) {
        // the import message already says what happened
      }
    };
    renderList(classes);
    fill(el, h('h1', {}, 'Lớp học'), list, form);
  }

  async function adminCorrections(el) {
    const { corrections } = await api('GET', '/corrections');
    fill(el, h('h1', {}, 'Đính chính học bạ'), correctionsList(corrections, true, () => render()));
  }

  async function adminAudit(el) {
    const verdict = h('div', { class: 'msgs', id: 'audit-verdict' });
    const verify = async () => {
      fill(verdict, messageBox('info', 'Đang kiểm tra…'));
      try {
        const v = await api('GET', '/audit/verify');
        fill(
          verdict,
          v.ok
            ? messageBox('ok', `Nhật ký toàn vẹn: đã kiểm tra ${v.checked} mục, không mục nào bị sửa hay xóa.`)
            : messageBox('error', `Nhật ký đã bị sửa hoặc xóa từ mục số ${v.problem_seq}.`, v.message),
        );
      } catch (e) {
        if (e.code !== 'unauthenticated') fill(verdict, errorBox(e));
      }
    };
    const body = h('tbody', {});
    const more = h('button', { type: 'button', id: 'audit-more' }, 'Tải thêm');
    let after = 0;
    const load = async () => {
      const { entries } = await api('GET', `/audit?after=${after}&limit=200`);
      for (const e of entries) {
        after = e.seq;
        body.appendChild(
          h(
            'tr',
            {},
            h('td', { class: 'num' }, String(e.seq)),
            h('td', {}, fmtTime(e.at)),
            h('td', {}, ACTOR_TEXT[e.actor] || e.actor.replace(/^user:/, '')),
            h('td', {}, AUDIT_ACTION[e.action] || e.action),
            h('td', {}, h('code', { class: 'small', translate: 'no' }, typeof e.detail === 'string' ? e.detail : JSON.stringify(e.detail))),
          ),
        );
      }
      more.hidden = entries.length < 200;
    };
    more.addEventListener('click', () => load().catch((e) => fill(verdict, errorBox(e))));
    await load();
    fill(
      el,
      h('h1', {}, 'Nhật ký'),
      h('p', { class: 'muted' }, 'Mọi thao tác được ghi lại theo chuỗi băm: sửa hay xóa một mục sẽ bị phát hiện khi kiểm tra.'),
      h('p', {}, h('button', { type: 'button', class: 'primary', id: 'audit-verify', onclick: verify }, 'Kiểm tra nhật ký')),
      verdict,
      h(
        'div',
        { class: 'table-wrap' },
        h('table', { class: 'audit' }, h('thead', {}, h('tr', {}, ['Số', 'Thời gian', 'Người thực hiện', 'Thao tác', 'Chi tiết'].map((t) => h('th', {}, t)))), body),
      ),
      more,
    );
  }

  // --- start ---------------------------------------------------------------------------------------

  window.addEventListener('hashchange', render);
  document.addEventListener('DOMContentLoaded', () => {
    document.getElementById('logout').addEventListener('click', logout);
    render();
  });
})();
