/**
 * `npm run token` prints a server token; `npm run token -- --user alice` a user token;
 * `npm run token -- --dashboard [--ttl 12h] [--url https://beacon.example.com]` a dashboard
 * sign-in link with a server token that expires (default 12 hours).
 * Uses BEACON_API_SECRET, or the secret kept in the data folder (created if missing).
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { resolveApiSecret } from '../src/auth/secret.js';
import { dashboardSignInLink, signServerToken, signUserToken } from '../src/auth/tokens.js';

const { values } = parseArgs({
  options: {
    user: { type: 'string' },
    expires: { type: 'string' },
    dashboard: { type: 'boolean' },
    ttl: { type: 'string' },
    url: { type: 'string' },
  },
});
const config = loadConfig();
const secret = resolveApiSecret(config.apiSecret, config.dataDir);
try {
  const output = values.dashboard
    ? await dashboardSignInLink(secret, values.url ?? `http://localhost:${config.port}`, values.ttl ?? values.expires)
    : values.user
      ? await signUserToken(secret, values.user, values.expires)
      : await signServerToken(secret, values.expires);
  process.stdout.write(`${output}\n`);
} catch (error) {
  // jose's message for an unreadable period, e.g. `--ttl 12x`.
  process.stderr.write(`token: ${(error as Error).message} (use e.g. 30m, 12h, 7d)\n`);
  process.exit(1);
}
