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
 * Verifies `Bearer <jwt>` (or a bare jwt) and returns the caller's identity. A token with
 * `exp` is refused once it has passed (jose checks it); one without stays valid.
 */
export async function authenticate(header: string | null | undefined, secret: string): Promise<AuthState> {
  const raw = header?.trim();
  if (!raw) return { kind: 'anonymous', reason: 'missing' };
  const token = /^bearer\s+/i.test(raw) ? raw.replace(/^bearer\s+/i, '') : raw;
  try {
    const { payload } = await jwtVerify(token, encoder.encode(secret), { algorithms: ['HS256'] });
    if (payload.server === true) return { kind: 'server' };
    if (typeof payload.user_id === 'string' && payload.user_id.length > 0) {
      return { kind: 'user', userId: payload.user_id };
    }
    return { kind: 'anonymous', reason: 'invalid' };
  } catch {
    return { kind: 'anonymous', reason: 'invalid' };
  }
}
