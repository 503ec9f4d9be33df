/**
 * `npm run token` prints a server token; `npm run token -- --user alice` a user token.
 * Uses BEACON_API_SECRET, or the secret kept in the data folder (created if missing).
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { resolveApiSecret } from '../src/auth/secret.js';
import { signServerToken, signUserToken } from '../src/auth/tokens.js';

const { values } = parseArgs({ options: { user: { type: 'string' }, expires: { type: 'string' } } });
const config = loadConfig();
const secret = resolveApiSecret(config.apiSecret, config.dataDir);
const token = values.user
  ? await signUserToken(secret, values.user, values.expires)
  : await signServerToken(secret, values.expires);
process.stdout.write(`${token}\n`);
