/**
 * BEACON_DELIVERY_RATE for one worker process (Agenda has no rate limiter). Every lane asks
 * for a grant before it claims a batch, and claims at most the grant's size; the batch
 * records the grant's time as its recipients' `sent_at`. No 1-second window ever holds
 * grants for more than `perSecond` messages, from the first second on, across all lanes:
 *
 * - Grants are handed out one at a time, in the order asked. A grant's time is read when its
 *   lane wakes up (a timer may fire late, or a hair early), and the next grant is planned
 *   from those actual times, so no two grants end up closer than planned.
 * - A grant waits until the grants of the last second plus its own size fit the rate
 *   (a half-open window: grants exactly 1 s apart are in different windows), and at least
 *   size/rate after the previous grant, so a second's messages are spread over the second
 *   instead of leaving at its start. Grants are at most a tenth of the rate for the same reason.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface Grant {
  /** How many recipients the lane may claim. */
  size: number;
  /** When it was granted: the batch's `sent_at`. */
  at: Date;
  /** Reports how many were claimed: the rest is given back to later windows. */
  settle(used: number): void;
}

const WINDOW_MS = 1000;
/** Grants per second at least (below that, each grant is one message). */
const GRANTS_PER_WINDOW = 10;

interface Granted {
  at: number;
  size: number;
}

export class RateLimiter {
  /** Grants of the last second, oldest first. */
  private readonly recent: Granted[] = [];
  /** Even spacing: the next grant's earliest time. */
  private nextAt = 0;
  /** The grant being handed out; the next one waits for it. */
  private turn: Promise<unknown> = Promise.resolve();
  private readonly largest: number;

  /** `perSecond` 0 means no limit. */
  constructor(private readonly perSecond: number) {
    this.largest = Math.max(1, Math.ceil(perSecond / GRANTS_PER_WINDOW));
  }

  /** Waits for a grant of up to `wanted` messages; rejects when `signal` aborts meanwhile. */
  acquire(wanted: number, signal: AbortSignal): Promise<Grant> {
    if (this.perSecond <= 0) return Promise.resolve({ size: wanted, at: new Date(), settle() {} });
    const grant = this.turn.then(() => this.grant(Math.min(wanted, this.largest), signal));
    this.turn = grant.catch(() => undefined);
    return grant;
  }

  private async grant(size: number, signal: AbortSignal): Promise<Grant> {
    for (;;) {
      signal.throwIfAborted();
      const now = Date.now();
      const at = this.earliest(size, now);
      if (at <= now) break;
      await sleep(at - now, undefined, { signal });
    }
    const granted: Granted = { at: Date.now(), size };
    this.recent.push(granted);
    this.nextAt = granted.at + (size * WINDOW_MS) / this.perSecond;
    return {
      size,
      at: new Date(granted.at),
      settle: (used) => {
        granted.size = Math.min(granted.size, Math.max(0, used));
      },
    };
  }

  /** The earliest time from `now` at which a grant of `size` keeps every window within the rate. */
  private earliest(size: number, now: number): number {
    let at = Math.max(now, this.nextAt);
    while (this.recent.length > 0 && this.recent[0]!.at <= at - WINDOW_MS) this.recent.shift();
    let inWindow = this.recent.reduce((sum, g) => sum + g.size, 0);
    // Wait for the oldest grants to leave the window until this one fits.
    for (let i = 0; inWindow + size > this.perSecond && i < this.recent.length; i += 1) {
      at = Math.max(at, this.recent[i]!.at + WINDOW_MS);
      inWindow -= this.recent[i]!.size;
    }
    return at;
  }
}
