/**
 * The delivery engine asks to renew its job's lock after every batch; the renewal writes only
 * once a tenth of the lock's lifetime has passed, so busy lanes do not add a synced commit per
 * batch and the lock never comes near expiring (the takeover of a dead worker's jobs is
 * tested with real processes in delivery-crash.test.ts).
 */
import { describe, expect, test } from 'vitest';
import { lockRenewal } from '../src/delivery/scheduler.js';

describe('job lock renewal', () => {
  test('writes at most once per tenth of the lock lifetime, and again once it has passed', async () => {
    let touches = 0;
    const renew = lockRenewal({ touch: async () => void (touches += 1) }, 1000);
    for (let i = 0; i < 20; i++) await renew(); // a burst of batches right after the lock was taken
    expect(touches).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 120));
    for (let i = 0; i < 20; i++) await renew();
    expect(touches).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 120));
    await renew();
    expect(touches).toBe(2);
  });
});
