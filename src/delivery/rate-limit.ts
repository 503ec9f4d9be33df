/**
 * A process-wide token bucket for BEACON_DELIVERY_RATE (messages per second); Agenda has
 * no rate limiter. Lanes ask before each batch and sleep for what `take` returns.
 */
export class RateLimiter {
  private available: number;
  private last = Date.now();

  /** `perSecond` 0 means no limit. */
  constructor(private readonly perSecond: number) {
    this.available = perSecond;
  }

  /** The largest batch worth claiming now, given `wanted`. */
  batchSize(wanted: number): number {
    return this.perSecond > 0 ? Math.max(1, Math.min(wanted, this.perSecond)) : wanted;
  }

  /** Takes `n` tokens; returns how many ms to wait before using them. */
  take(n: number): number {
    if (this.perSecond <= 0) return 0;
    const now = Date.now();
    this.available = Math.min(this.perSecond, this.available + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    this.available -= n;
    return this.available >= 0 ? 0 : Math.ceil((-this.available / this.perSecond) * 1000);
  }
}
