/**
 * The dashboard's sign-in state. The browser holds a server token with an expiry (never the
 * API secret): it arrives in the URL fragment of a sign-in link (`/#token=<jwt>`, so it never
 * reaches server logs) or is pasted, and lives in sessionStorage until the tab closes or the
 * person signs out.
 */
const STORAGE_KEY = 'beacon.token';

/** Why the sign-in page is showing, in words for the person. */
export type SignInNotice = string | null;

/** Takes `#token=…` out of the address bar (without a reload or history entry) and returns it. */
export function takeTokenFromFragment(): string | null {
  const params = new URLSearchParams(window.location.hash.replace(/^#/, ''));
  const token = params.get('token');
  if (token === null) return null;
  window.history.replaceState(window.history.state, '', window.location.pathname + window.location.search);
  return token.trim() || null;
}

export function storedToken(): string | null {
  return window.sessionStorage.getItem(STORAGE_KEY);
}

export function storeToken(token: string): void {
  window.sessionStorage.setItem(STORAGE_KEY, token);
}

export function forgetToken(): void {
  window.sessionStorage.removeItem(STORAGE_KEY);
}

/**
 * The `exp` of a JWT in milliseconds, read without verifying it (only the server can): it
 * lets the dashboard say "expired" instead of waiting for the API to refuse. Undefined for
 * text that is not a JWT, null for a token without `exp`.
 */
export function tokenExpiry(token: string): number | null | undefined {
  const payload = token.split('.')[1];
  if (token.split('.').length !== 3 || !payload) return undefined;
  try {
    const json = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as { exp?: unknown };
    return typeof json.exp === 'number' ? json.exp * 1000 : null;
  } catch {
    return undefined;
  }
}

/** Why `token` cannot be used, or null when it may be tried against the API. */
export function tokenProblem(token: string, now = Date.now()): SignInNotice {
  const expiry = tokenExpiry(token);
  if (expiry === undefined) return 'That is not a Beacon token. Paste the token of a sign-in link (npm run token -- --dashboard).';
  if (expiry !== null && expiry <= now) return EXPIRED_NOTICE;
  return null;
}

export const REFUSED_NOTICE = 'The server refused your token (it may have expired or been signed with another secret). Sign in again.';
export const EXPIRED_NOTICE = 'Your token has expired. Sign in again with a new link (npm run token -- --dashboard).';
