/**
 * One subscriber's pending live states: at most one value per key (a campaign id), a newer
 * value replacing an unsent older one, handed out at most once per `intervalMs` per key —
 * except a value `urgent` says differs in kind from the one last handed out for its key (a
 * campaign whose status changed): that one goes out at once, and opens the key's interval
 * anew. So the values of a key are at least `intervalMs` apart unless they are urgent, and
 * there are never more urgent ones than changes of kind.
 *
 * The subscriber pulls (graphql-ws awaits each socket write before it pulls the next event,
 * SSE awaits the response stream), so a slow reader or a full socket simply pulls late and
 * finds the latest state waiting: memory per subscriber is one value per key it watches,
 * never a queue. Consumers pull one at a time (GraphQL's subscription mapping does).
 */
export class LatestMailbox<T> implements AsyncIterableIterator<T> {
  /** Unsent values in arrival order of their keys (a replaced value keeps its key's place). */
  private readonly pending = new Map<string, T>();
  /** When each key last went out, and what, kept while that key's interval runs. */
  private readonly sent = new Map<string, { at: number; value: T }>();
  private closed = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly intervalMs: number,
    /** Called once when the mailbox closes (by the consumer or by `end`). */
    private readonly onClose: () => void = () => {},
    /** Whether `next` must not wait for the interval after `last` (default: never). */
    private readonly urgent: (last: T, next: T) => boolean = () => false,
  ) {}

  /** Holds `value` as the latest state of `key`, replacing an unsent one. */
  offer(key: string, value: T): void {
    if (this.closed) return;
    this.pending.set(key, value);
    this.wake?.();
  }

  /** Drops an unsent state of `key` (e.g. the campaign was deleted). */
  drop(key: string): void {
    this.pending.delete(key);
  }

  /** Ends the stream now; unsent states are dropped. */
  end(): void {
    if (this.closed) return;
    this.closed = true;
    this.pending.clear();
    this.sent.clear();
    this.wake?.();
    this.onClose();
  }

  /** How many states wait to be sent (at most one per key). */
  get size(): number {
    return this.pending.size;
  }

  async next(): Promise<IteratorResult<T>> {
    for (;;) {
      if (this.closed) return { done: true, value: undefined };
      const now = Date.now();
      let waitMs = Infinity;
      for (const [key, value] of this.pending) {
        const last = this.sent.get(key);
        const readyAt = last ? last.at + this.intervalMs : -Infinity;
        if (readyAt <= now || this.urgent(last!.value, value)) {
          this.pending.delete(key);
          this.sent.set(key, { at: now, value });
          this.forgetQuietKeys(now);
          return { done: false, value };
        }
        waitMs = Math.min(waitMs, readyAt - now);
      }
      await this.sleep(waitMs);
    }
  }

  async return(): Promise<IteratorResult<T>> {
    this.end();
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Waits for an offer, the end, or `ms` (Infinity: no timer). */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = Number.isFinite(ms) ? setTimeout(() => done(), ms) : undefined;
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      this.wake = done;
    });
  }

  /** Keys whose interval has run out need no send time: keeps memory to the keys active now. */
  private forgetQuietKeys(now: number): void {
    for (const [key, { at }] of this.sent) if (at + this.intervalMs <= now) this.sent.delete(key);
  }
}
