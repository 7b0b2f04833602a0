// Every Vietnamese text the UI shows, in one place, and the formatting of numbers, times and
// durations (Vietnamese style: "8,3", "07:05:00 6/12/2026"). The signing chain's own words (a step's
// label, verb, done and waiting labels) are not here: they come from the server (chain.js).

export const ROLE_TEXT = {
  admin: 'Quản trị',
  principal: 'Hiệu trưởng',
  deputy_principal: 'Phó hiệu trưởng',
  homeroom_teacher: 'Giáo viên chủ nhiệm',
  subject_teacher: 'Giáo viên bộ môn',
  viewer: 'Người xem',
};
// The roles offered in the admin's user form, in this order.
export const ROLES = ['homeroom_teacher', 'principal', 'deputy_principal', 'subject_teacher', 'viewer', 'admin'];

export const RECORD_STATE = {
  draft: 'Bản nháp',
  signing: 'Đang ký',
  final: 'Đã hoàn tất',
  superseded: 'Đã thay thế',
  failed: 'Lỗi',
};

export const JOB_STATE = {
  running: 'Đang ký',
  paused: 'Tạm dừng',
  done: 'Hoàn tất',
  failed: 'Đã dừng do lỗi',
  cancelled: 'Đã hủy',
};

export const CORRECTION_STATE = { pending: 'Chờ duyệt', approved: 'Đã duyệt', rejected: 'Đã từ chối' };

export const SHEET_STATE = { waiting: 'Chờ xác nhận', confirmed: 'Đã xác nhận' };

export const AUDIT_ACTION = {
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
  'image.set': 'Tải lên hình chữ ký hoặc con dấu',
  'image.delete': 'Xóa hình chữ ký hoặc con dấu',
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

export const ACTOR_TEXT = { system: 'Hệ thống', anonymous: 'Chưa đăng nhập' };

// API error codes ({"error": {"code", "message"}}) in Vietnamese.
export const ERROR_TEXT = {
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
  invalid_display_name:
    'Tên hiển thị không hợp lệ: không được chứa ký tự điều khiển (tab, xuống dòng…) hay ký tự đặc biệt ' +
    '(U+FFFE, U+FFFF) và dài tối đa 128 ký tự.',
  invalid_class: 'Tệp lớp học có lỗi, chưa nhập được.',
  invalid_correction: 'Dữ liệu đính chính có lỗi.',
  integrity: 'Tệp học bạ không khớp với dữ liệu đã lưu. Hãy báo quản trị khôi phục từ bản sao lưu.',
  too_large: 'Dữ liệu quá lớn.',
  bad_pdf: 'Tệp PDF của học bạ bị hỏng.',
  login_failed: 'Sai tên đăng nhập, mật khẩu hoặc mã xác thực.',
  too_many_attempts: 'Có quá nhiều lần đăng nhập sai từ máy này. Hãy chờ một lúc rồi thử lại.',
  certificate_expired:
    'Chứng thư số của người ký đã hết hạn nên không được ký (Thông tư 15/2025). Hãy gia hạn chứng thư số với nhà cung cấp.',
  certificate_not_yet_valid:
    'Chứng thư số của người ký chưa đến ngày có hiệu lực nên không được ký. Hãy kiểm tra đồng hồ máy chủ hoặc chờ đến ngày hiệu lực.',
  certificate_revoked:
    'Chứng thư số của người ký đã bị thu hồi nên không được ký. Hãy liên hệ nhà cung cấp chứng thư số.',
  locked_out: 'Máy này tạm không đăng nhập được vào tài khoản này do nhập sai mật khẩu nhiều lần. Hãy chờ rồi thử lại.',
  slow_down: 'Tài khoản này vừa bị thử mật khẩu sai nhiều lần. Hãy chờ vài giây rồi thử lại.',
  unsupported_media_type: 'Yêu cầu không đúng định dạng.',
  image_not_png: 'Tệp không phải ảnh PNG. Chỉ nhận ảnh PNG nền trong suốt.',
  image_too_large: 'Tệp ảnh quá lớn: tối đa 512 KB.',
  image_bad_size: 'Kích thước ảnh không phù hợp: chiều rộng và chiều cao phải từ 16 đến 2000 điểm ảnh.',
  image_too_many_pixels: 'Ảnh quá nhiều điểm ảnh (tối đa 2 triệu). Hãy thu nhỏ ảnh rồi tải lại.',
  image_corrupt: 'Tệp ảnh PNG bị hỏng hoặc không đọc được.',
  image_opaque: 'Ảnh phải có nền trong suốt (PNG có kênh alpha). Hãy xóa nền trắng rồi tải lại.',
  method_not_allowed: 'Thao tác không được hỗ trợ.',
  network: 'Không kết nối được với máy chủ. Hãy kiểm tra mạng rồi thử lại.',
  io: 'Lỗi đọc ghi dữ liệu trên máy chủ.',
  crypto: 'Lỗi mật mã khi ký.',
  internal: 'Lỗi hệ thống trên máy chủ.',
};

// The texts of the screens. A function where the text holds a value.
export const T = {
  loading: 'Đang tải…',
  noSuchPage: 'Không có trang này.',
  backHome: 'Về trang chính',
  somethingFailed: 'Đã xảy ra lỗi.',
  retryAfter: (wait) => ` Hãy thử lại sau ${wait}.`,
  detail: 'Chi tiết: ',
  noFile: 'Chưa chọn tệp',
  chooseFile: 'Chọn tệp…',

  // navigation
  navMyClasses: 'Lớp của tôi',
  navClasses: 'Lớp học',
  navJobs: 'Lượt ký',
  navCorrections: 'Đính chính',
  navSchool: 'Toàn trường',
  navUsers: 'Người dùng',
  navKeys: 'Khóa ký',
  navAudit: 'Nhật ký',
  navAccount: 'Tài khoản',
  navSeal: 'Hình con dấu',

  // logging in
  login: 'Đăng nhập',
  loginIntro: 'Hệ thống ký số học bạ của nhà trường.',
  username: 'Tên đăng nhập',
  password: 'Mật khẩu',
  totp: 'Mã xác thực (nếu có)',
  totpHint: 'Chỉ khi tài khoản đã bật xác thực hai lớp: mã 6 chữ số trong ứng dụng trên điện thoại.',
  loginMissing: 'Hãy nhập tên đăng nhập và mật khẩu.',
  loggedOut: 'Bạn đã đăng xuất.',

  // PINs
  pin: 'Mã PIN của token',
  ownPin: 'Mã PIN token của bạn',
  sealPin: 'Mã PIN token con dấu',
  pinSealedHint: 'Mã PIN con dấu đã được lưu kín trên máy chủ: có thể để trống.',
  confirmRetry: 'Tôi xác nhận thử lại',

  // classes and records
  myClasses: 'Lớp của tôi',
  classes: 'Các lớp',
  noClassAssigned: 'Bạn chưa được phân công chủ nhiệm lớp nào. Hãy liên hệ quản trị của trường.',
  noClassImported: 'Chưa có lớp nào được nhập.',
  className: (name) => `Lớp ${name}`,
  schoolYear: (year) => `Năm học ${year}`,
  homeroomOf: (name) => `Giáo viên chủ nhiệm: ${name || 'chưa phân công'}`,
  classCounts: (records, final) => `${records} học bạ · ${final} đã hoàn tất`,
  backToClasses: '‹ Các lớp',
  backToClass: (name) => `‹ Lớp ${name}`,
  backToSchool: '‹ Toàn trường',
  statRecords: 'Học bạ',
  statFinal: 'Hoàn tất',
  statFailed: 'Lỗi',
  recordList: 'Danh sách học bạ',
  personalId: (id) => `Mã định danh ${id}`,
  versionSuffix: (v) => ` · phiên bản ${v}`,
  signatureCount: (done, of) => ` · ${done}/${of} chữ ký`,
  recordLine: (r) => `Lớp ${r.class} · Năm học ${r.school_year} · Mã định danh ${r.personal_id} · Phiên bản ${r.version}`,
  recordFailed: 'Học bạ này bị lỗi khi tạo.',
  recordSuperseded: 'Học bạ này đã được thay bằng phiên bản mới sau đính chính.',
  openNewVersion: 'Mở phiên bản mới',
  openPdf: 'Xem học bạ (PDF)',
  signatures: 'Chữ ký',
  sigDone: 'Đã ký',
  sigNext: 'Chờ ký',
  sigTodo: 'Chưa ký',
  inJob: (id) => ` · lượt ký #${id}`,
  versions: 'Các phiên bản',
  version: (v) => `Phiên bản ${v}`,
  signedOne: 'Đã ký học bạ thành công.',
  signAs: (label) => `Ký với vai trò: ${label}.`,

  // a step's actions, made of its verb (from the chain)
  signThisRecord: (verb) => `${verb} học bạ này`,
  signClass: (verb) => `${verb} cả lớp`,
  signSchool: (verb) => `${verb} toàn trường`,
  startButton: (title, n) => `${title} (${n} học bạ)`,
  startWaiting: (n) => `Ký ${n} học bạ đang chờ, nhập mã PIN một lần.`,
  startSealAfter: (verb, n, previous) => `${verb} ${n} học bạ đã có chữ ký ${previous}, nhập mã PIN một lần.`,
  and: ' và ',
  stepProgress: (label, done, total) => `${label}: ${done}/${total}`,
  startNight: (n) => `Ký ${n} học bạ đang chờ rồi đóng dấu ngay, cả hai token cùng làm việc: nhập mỗi mã PIN một lần.`,
  nothingWaiting: (steps) => `Không có học bạ nào đang chờ ${steps.join(' hoặc ')}.`,
  waitingPrefix: 'Chờ ',

  // corrections
  correctionTitle: 'Yêu cầu đính chính',
  correctionWhy: 'Lý do đính chính',
  correctionWhyHint: 'Ghi rõ sai ở đâu và cần sửa thế nào.',
  correctionComment: 'Nhận xét của giáo viên chủ nhiệm',
  correctionJson: 'Dữ liệu học sinh (JSON)',
  correctionJsonHint: 'Dán dữ liệu JSON của học sinh (định dạng của tệp lớp, hocba.class/v2 hoặc v1) hoặc chọn tệp bên dưới, rồi sửa.',
  correctionFromFile: 'Hoặc lấy từ tệp JSON',
  correctionSend: 'Gửi yêu cầu đính chính',
  correctionWhyShort: 'Hãy ghi rõ lý do đính chính (ít nhất 5 ký tự).',
  correctionBadJson: 'Dữ liệu học sinh chưa phải JSON hợp lệ.',
  correctionNotInFile: 'Tệp không chứa dữ liệu JSON của học sinh này.',
  correctionSent: (id) => `Đã gửi yêu cầu đính chính số ${id}. Chờ quản trị duyệt.`,
  correctionsIntro: 'Mở một học bạ để gửi yêu cầu đính chính. Quản trị duyệt thì học bạ được tạo lại thành bản nháp mới và ký lại.',
  noCorrections: 'Chưa có yêu cầu đính chính nào.',
  note: 'Ghi chú (không bắt buộc)',
  correctionLine: (k, at) => `Số ${k.id} · Mã định danh ${k.personal_id} · ${k.requested_by} · ${at}`,
  why: 'Lý do: ',
  noteLabel: 'Ghi chú: ',
  oldRecord: 'Học bạ cũ',
  newVersion: 'Phiên bản mới',
  approve: 'Duyệt',
  reject: 'Từ chối',
  adminCorrections: 'Đính chính học bạ',

  // jobs
  jobs: 'Lượt ký',
  noJobs: 'Chưa có lượt ký nào.',
  jobProgress: (state, done, total) => `${state}: đã ký ${done} / ${total}`,
  jobLine: (state, j) => `${state} · đã ký ${j.done} / ${j.total}${j.failed ? ` · ${j.failed} lỗi` : ''}`,
  jobStarted: (at, by) => `Bắt đầu ${at} · ${by}`,
  seeProgress: 'Xem tiến độ',
  doneOfTotal: 'Đã ký / tổng',
  failedCount: 'Lỗi',
  timeLeft: 'Thời gian còn lại',
  jobState: (s) => `Trạng thái: ${s}`,
  etaUnknown: 'đang tính…',
  eta: (d) => `khoảng ${d}`,
  etaDone: 'xong',
  jobDone: (j) => `Đã ký xong ${j.done} học bạ${j.failed ? `, ${j.failed} học bạ lỗi` : ''}${j.skipped ? `, bỏ qua ${j.skipped}` : ''}.`,
  pause: 'Tạm dừng',
  cancelJob: 'Hủy lượt ký',
  resume: 'Tiếp tục ký',
  resumeTitle: 'Tiếp tục lượt ký',
  resumeCarefully: 'Kiểm tra kỹ mã PIN: token có thể bị khóa nếu nhập sai nhiều lần.',
  failedRecords: 'Học bạ bị lỗi',
  personalIdSuffix: (id) => ` · Mã định danh ${id}`,

  // the school
  school: 'Toàn trường',
  colClass: 'Lớp',
  colHomeroom: 'Giáo viên chủ nhiệm',
  colRecords: 'Học bạ',
  colFinal: 'Hoàn tất',

  // score sheets (subject teachers)
  noSheets: 'Chưa có bảng điểm nào cần xác nhận.',
  notSupported: 'Chưa hỗ trợ',
  confirmAll: 'Xác nhận tất cả',
  confirmAllHint: (n) => `Xác nhận ${n} bảng điểm đang chờ, nhập mã PIN một lần.`,
  sheetsConfirmed: (n) => `Đã xác nhận ${n} bảng điểm.`,
  sheetFailed: (cls, subject) => `Lớp ${cls}, môn ${subject}: chưa xác nhận được.`,
  sheetHeaders: ['Lớp', 'Môn', 'Trạng thái', 'Thời điểm xác nhận', 'Phiên bản'],

  // the admin
  users: 'Người dùng',
  addUser: 'Thêm người dùng',
  displayName: 'Họ và tên',
  role: 'Vai trò',
  passwordHint: 'Ít nhất 8 ký tự.',
  userAdded: (u) => `Đã thêm người dùng ${u}.`,
  userHeaders: ['Tên đăng nhập', 'Họ và tên', 'Vai trò', 'Trạng thái', 'Mã xác thực', 'Chữ ký tay', ''],
  userLocked: 'Đã khóa',
  userActive: 'Đang hoạt động',
  totpOn: 'Đã bật',
  totpOff: 'Chưa bật',
  unlock: 'Mở khóa',
  lock: 'Khóa',

  keys: 'Khóa ký',
  schoolSeal: 'Con dấu nhà trường',
  chooseSigner: '— Chọn người ký —',
  chooseSignerFirst: 'Hãy chọn người ký hoặc con dấu nhà trường.',
  keyBound: 'Đã gán khóa ký.',
  boundKeys: 'Khóa đã gán',
  keyHeaders: ['Nhãn', 'Thuộc về', 'Địa chỉ khóa (PKCS#11)', ''],
  unbind: 'Bỏ gán',
  noBoundKeys: 'Chưa gán khóa nào.',
  tokensPresent: 'Token đang cắm',
  tokenHeaders: ['Token', 'Số sê-ri', 'Tình trạng'],
  tokenUninitialised: 'Chưa khởi tạo',
  tokenAbsent: 'Chưa cắm',
  tokenPinLocked: 'Đã khóa mã PIN',
  tokenFinalTry: 'Chỉ còn một lần thử mã PIN',
  tokenCountLow: 'Đã có lần nhập sai mã PIN',
  tokenReady: 'Sẵn sàng',
  noTokens: 'Không thấy token nào. Hãy cắm token vào máy chủ.',
  keysOnTokens: 'Khóa trên token',
  keyNoCertificate: 'Khóa chưa có chứng thư số: chưa gán được.',
  boundTo: (who) => `Đã gán cho: ${who}`,
  bindKey: 'Gán khóa',
  noKeysOnTokens: 'Không thấy khóa nào trên các token.',
  bindByUri: 'Gán khóa theo địa chỉ',
  keyUri: 'Địa chỉ khóa (PKCS#11)',
  bindTo: 'Gán cho',

  classesAdmin: 'Lớp học',
  importButton: 'Nhập lớp',
  importTitle: 'Nhập lớp từ tệp',
  importIntro: 'Tệp JSON định dạng hocba.class/v2 (hoặc v1) xuất từ phần mềm quản lý trường học. Học bạ nháp được tạo ngay.',
  importFile: 'Tệp lớp học (JSON)',
  importNoFile: 'Hãy chọn tệp lớp học.',
  importing: 'Đang nhập và tạo học bạ nháp…',
  imported: (r) =>
    `Đã nhập lớp: ${r.created.length} học bạ mới hoặc cập nhật, ${r.kept.length} giữ nguyên (đã ký), ${r.failed.length} lỗi.`,
  importWarnings: (n) => `Cảnh báo cần kiểm tra trước khi ký (${n})`,
  importErrors: (n) => `Học sinh không nhập được (${n})`,
  classHeaders: ['Lớp', 'Năm học', 'Học bạ', 'Hoàn tất', 'Giáo viên chủ nhiệm'],
  homeroomOfClass: (name) => `Giáo viên chủ nhiệm lớp ${name}`,
  choose: '— Chọn —',
  assigned: 'Đã gán.',
  assign: 'Gán',
  noClasses: 'Chưa có lớp nào.',

  audit: 'Nhật ký',
  auditIntro: 'Mọi thao tác được ghi lại theo chuỗi băm: sửa hay xóa một mục sẽ bị phát hiện khi kiểm tra.',
  auditVerify: 'Kiểm tra nhật ký',
  auditChecking: 'Đang kiểm tra…',
  auditOk: (n) => `Nhật ký toàn vẹn: đã kiểm tra ${n} mục, không mục nào bị sửa hay xóa.`,
  auditBroken: (seq) => `Nhật ký đã bị sửa hoặc xóa từ mục số ${seq}.`,
  auditMore: 'Tải thêm',
  auditHeaders: ['Số', 'Thời gian', 'Người thực hiện', 'Thao tác', 'Chi tiết'],

  // signature and seal images
  account: 'Tài khoản',
  accountOf: (name) => `Tài khoản: ${name}`,
  signatureImage: 'Chữ ký tay',
  signatureImageIntro:
    'Ảnh chữ ký tay màu xanh, nền trong suốt (PNG). Ảnh được in giữa chức danh và họ tên trong ô chữ ký của mỗi học bạ bạn ký từ nay.',
  sealImage: 'Hình con dấu',
  sealImageIntro:
    'Ảnh con dấu màu đỏ của nhà trường, nền trong suốt (PNG), đúng kích thước thật. Con dấu được đóng trùm lên khoảng một phần ba chữ ký của hiệu trưởng, về phía bên trái.',
  imageFile: 'Tệp ảnh PNG',
  imageRules: 'Chỉ nhận PNG nền trong suốt, tối đa 512 KB, mỗi chiều từ 16 đến 2000 điểm ảnh.',
  imageNone: 'Chưa có ảnh.',
  imageUpload: 'Tải ảnh lên',
  imageDelete: 'Xóa ảnh',
  imageNoFile: 'Hãy chọn tệp ảnh PNG.',
  imageUploaded: 'Đã lưu ảnh.',
  imageDeleted: 'Đã xóa ảnh.',
  imageUploading: 'Đang tải ảnh lên…',
  imagePreview: (what) => `Xem trước: ${what}`,
  imageOfUser: 'Chữ ký tay',
  imageYes: 'Đã có',
  imageNo: 'Chưa có',
  manageImage: 'Chữ ký tay',
};

// The server's English messages that say more than their code (jobs also give reason_code).
const MESSAGE_RULES = [
  [/rejected the PIN|does not match token/, 'pin_incorrect'],
  [/already rejected by token/, 'pin_rejected_before'],
  [/without explicit confirmation/, 'pin_needs_confirm'],
  [/PIN is locked|PIN has expired/, 'pin_locked'],
  [/certificate .* expired on .*signing refused/, 'certificate_expired'],
  [/certificate .* is not valid until .*signing refused/, 'certificate_not_yet_valid'],
  [/certificate .* was revoked on .*signing refused/, 'certificate_revoked'],
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
  [/say why the record must change/, null, T.correctionWhyShort],
  [/cannot change the personal ID/, null, 'Không được sửa mã định danh của học sinh.'],
  [/UNIQUE constraint failed: users.username|already exists/, null, 'Tên đăng nhập này đã có.'],
  [/^paused by /, null, 'Đã tạm dừng. Nhập mã PIN để tiếp tục.'],
  [/^paused; resume it/, null, 'Đã tạm dừng. Nhập mã PIN để tiếp tục.'],
  [/appliance stopped/, null, 'Máy chủ đã dừng giữa chừng. Nhập mã PIN để tiếp tục.'],
  [/appliance restarted/, null, 'Máy chủ đã khởi động lại. Nhập mã PIN để tiếp tục.'],
  [/^cancell?ed by /, null, 'Lượt ký đã bị hủy.'],
];

// {code, text, detail}: what to tell the user about an error or a job's reason.
export function explain(err) {
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
  if (!text) text = ERROR_TEXT[code] || T.somethingFailed;
  if (code === 'locked_out' && err.retryAfter) text += T.retryAfter(fmtDuration(Number(err.retryAfter)));
  return { code, text, detail: message };
}

// --- formatting ------------------------------------------------------------------------------------

const LOCALE = 'vi-VN';

// A date and time as Vietnamese readers write it; the text itself when it is not a date.
export function fmtTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(LOCALE, { hour12: false });
}

export function fmtDuration(s) {
  s = Math.max(0, Math.round(s));
  if (s < 60) return `${s} giây`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} phút ${s % 60} giây`;
  return `${Math.floor(m / 60)} giờ ${m % 60} phút`;
}

// A decimal with a comma and at most `digits` decimals: 8.3 -> "8,3", 10 -> "10".
export function fmtDecimal(x, digits = 1) {
  const n = Number(x);
  if (x === null || x === undefined || x === '' || Number.isNaN(n)) return '';
  return n.toLocaleString(LOCALE, { maximumFractionDigits: digits, useGrouping: false });
}

// The first letter in lower case, for a label inside a sentence ("Hiệu trưởng" -> "hiệu trưởng").
export function inSentence(text) {
  const s = String(text || '');
  return s.charAt(0).toLocaleLowerCase(LOCALE) + s.slice(1);
}
