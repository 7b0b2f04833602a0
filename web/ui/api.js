// The client of hocbad's REST API (/api/v1/): JSON in and out, errors as ApiError. The session is the
// HttpOnly cookie set by POST /api/v1/auth/login: the page never sees the token; every call sends the
// cookie (credentials: 'same-origin') and the browser's own Origin, which the server checks for
// state-changing calls (its CSRF defence).

export class ApiError extends Error {
  constructor(status, code, message, body, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;
    this.retryAfter = retryAfter;
  }
}

// Called when a call answers 401 unauthenticated (the session ended): main.js shows the login.
let onUnauthenticated = () => {};
export function whenUnauthenticated(fn) {
  onUnauthenticated = fn;
}

// body: an object or a string (sent as JSON), or a Blob or File (an image: sent as it is, with its type).
export async function api(method, path, body) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (body instanceof Blob) {
    init.headers['Content-Type'] = body.type || 'application/octet-stream';
    init.body = body;
  } else if (body !== undefined) {
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
    if (err.code === 'unauthenticated') onUnauthenticated();
    throw err;
  }
  return data;
}
