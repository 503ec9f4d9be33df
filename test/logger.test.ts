import { describe, expect, test } from 'vitest';
import { createLogger } from '../src/logger.js';

/** A logger at `level` whose entries land in the returned array, parsed. */
function capture(level: Parameters<typeof createLogger>[0]) {
  const entries: Record<string, unknown>[] = [];
  const logger = createLogger(level, { write: (line: string) => void entries.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, entries };
}

describe('createLogger (pino)', () => {
  test('writes one JSON entry per call with the level name, an ISO time, the data and msg; drops entries below its level', () => {
    const { logger, entries } = capture('warn');
    logger.info('not written');
    logger.warn('slow', { campaignId: 'c1', ms: 12 });
    expect(entries).toEqual([{ level: 'warn', time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/), pid: process.pid, hostname: expect.any(String), campaignId: 'c1', ms: 12, msg: 'slow' }]);
  });

  test('an Error under `err` is written with its type, message and stack; silent writes nothing', () => {
    const { logger, entries } = capture('debug');
    logger.error('failed', { err: new TypeError('boom') });
    expect(entries[0]).toMatchObject({ level: 'error', msg: 'failed', err: { type: 'TypeError', message: 'boom', stack: expect.stringMatching(/^TypeError: boom\n\s+at /) } });
    const quiet = capture('silent');
    quiet.logger.error('nothing');
    expect(quiet.entries).toEqual([]);
  });
});
