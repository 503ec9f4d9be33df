/**
 * Access tokens (spec §8): HS256 JWTs signed with the app secret. A server token carries
 * `server: true`; a user token carries `user_id`. Anything else is no identity at all.
 */
import { SignJWT, jwtVerify } from 'jose';

export type Identity = { kind: 'server' } | { kind: 'user'; userId: string };

/** Who is calling: a verified identity, or why there is none. */
export type AuthState = Identity | { kind: 'anonymous'; reason: 'missing' | 'invalid' };

const encoder = new TextEncoder();

/**
 * Signs a server token (`server: true`), valid for `expiresIn` (jose syntax such as `12h`, or
 * an absolute `exp` in epoch seconds) or forever.
 */
export async function signServerToken(secret: string, expiresIn?: string | number): Promise<string> {
  const jwt = new SignJWT({ server: true }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuedAt();
  if (expiresIn !== undefined && expiresIn !== '') jwt.setExpirationTime(expiresIn);
  return jwt.sign(encoder.encode(secret));
}

/** How long a dashboard sign-in token lasts unless `--ttl` says otherwise (spec dashboard §1). */
export const DASHBOARD_TOKEN_TTL = '12h';

/**
 * A dashboard sign-in link: `<base>/#token=<server token expiring after ttl>`. The token sits
 * in the fragment, which browsers never send, so it stays out of server and proxy logs.
 * Throws a TypeError for a ttl jose cannot read (e.g. `12x`).
 */
export async function dashboardSignInLink(secret: string, baseUrl: string, ttl: string = DASHBOARD_TOKEN_TTL): Promise<string> {
  const token = await signServerToken(secret, ttl);
  return `${baseUrl.replace(/\/+$/, '')}/#token=${token}`;
}

/** Signs a user token carrying `user_id`. */
export async function signUserToken(secret: string, userId: string, expiresIn?: string): Promise<string> {
  const jwt = new SignJWT({ user_id: userId }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuedAt();
  if (expiresIn) jwt.setExpirationTime(expiresIn);
  return jwt.sign(encoder.encode(secret));
}

/**
 * Tokens verified lately, so a dashboard polling with one token is not re-verified (WebCrypto
 * HMAC through jose: ~0.3 ms of CPU each) on every request. Only successes are kept, at most
 * VERIFIED_MAX of them (oldest dropped first), only tokens up to 2 kB, each with its `exp`,
 * checked again on every hit; keyed by secret and token, so a new secret verifies afresh.
 */
const verified = new Map<string, { identity: Identity; expMs: number }>();
const VERIFIED_MAX = 1000;
const VERIFIED_TOKEN_MAX = 2048;

/**
 * Verifies `Bearer <jwt>` (or a bare jwt) and returns the caller's identity. A token with
 * `exp` is refused once it has passed (jose checks it); one without stays valid.
 */
export async function authenticate(header: string | null | undefined, secret: string): Promise<AuthState> {
  const raw = header?.trim();
  if (!raw) return { kind: 'anonymous', reason: 'missing' };
  const token = /^bearer\s+/i.test(raw) ? raw.replace(/^bearer\s+/i, '') : raw;
  const key = `${secret}\u0000${token}`;
  const hit = verified.get(key);
  if (hit && Date.now() < hit.expMs) return hit.identity;
  if (hit) verified.delete(key);
  try {
    const { payload } = await jwtVerify(token, encoder.encode(secret), { algorithms: ['HS256'] });
    let identity: Identity | null = null;
    if (payload.server === true) identity = { kind: 'server' };
    else if (typeof payload.user_id === 'string' && payload.user_id.length > 0) identity = { kind: 'user', userId: payload.user_id };
    if (!identity) return { kind: 'anonymous', reason: 'invalid' };
    if (token.length <= VERIFIED_TOKEN_MAX) {
      if (verified.size >= VERIFIED_MAX) verified.delete(verified.keys().next().value!);
      verified.set(key, { identity, expMs: typeof payload.exp === 'number' ? payload.exp * 1000 : Infinity });
    }
    return identity;
  } catch {
    return { kind: 'anonymous', reason: 'invalid' };
  }
}
