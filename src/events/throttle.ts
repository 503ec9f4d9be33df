/**
 * A per-key throttle with a leading and a trailing call: `touch(key)` calls `emit(key)` at
 * once when the key is quiet, otherwise once when its window ends, so a burst of touches
 * costs at most one emit per window and the last touch is never lost.
 *
 * Every emit opens a window of `intervalMs` for its key. A touch inside the window only marks
 * the key dirty; when the window ends, a dirty key emits (opening the next window) and a
 * clean key is forgotten, so memory stays bounded by the keys active in the last window.
 * `onClosed(key)` is told when a key's window closes without a further emit (its window
 * ran out clean, or `forget`/`cancel`): what a caller keeps per open window can go then.
 */
export class KeyedThrottle<K> {
  private readonly windows = new Map<K, { timer: NodeJS.Timeout; dirty: boolean }>();

  constructor(
    private readonly intervalMs: number,
    private readonly emit: (key: K) => void,
    private readonly onClosed: (key: K) => void = () => {},
  ) {}

  /** Whether `key` is inside a window (a touch now would wait for its end unless immediate). */
  isOpen(key: K): boolean {
    return this.windows.has(key);
  }

  /** Emits now if `key` is outside a window (or `immediate`), else once its window ends. */
  touch(key: K, immediate = false): void {
    const window = this.windows.get(key);
    if (window && !immediate) {
      window.dirty = true;
      return;
    }
    this.fire(key);
  }

  /** Drops `key`'s window and any pending emit. */
  forget(key: K): void {
    const window = this.windows.get(key);
    if (!window) return;
    clearTimeout(window.timer);
    this.windows.delete(key);
    this.onClosed(key);
  }

  /** Emits every pending key now and closes all windows. */
  flush(): void {
    const dirty = [...this.windows].filter(([, window]) => window.dirty).map(([key]) => key);
    this.cancel();
    for (const key of dirty) this.emit(key);
  }

  /** Closes all windows; pending emits are dropped. */
  cancel(): void {
    const keys = [...this.windows.keys()];
    for (const window of this.windows.values()) clearTimeout(window.timer);
    this.windows.clear();
    for (const key of keys) this.onClosed(key);
  }

  private fire(key: K): void {
    const window = this.windows.get(key);
    if (window) clearTimeout(window.timer);
    this.open(key);
    this.emit(key);
  }

  private open(key: K): void {
    const timer = setTimeout(() => {
      const window = this.windows.get(key);
      this.windows.delete(key);
      if (window?.dirty) this.fire(key);
      else this.onClosed(key);
    }, this.intervalMs);
    // A pending trailing emit must not keep a finished process alive; close() flushes it.
    timer.unref();
    this.windows.set(key, { timer, dirty: false });
  }
}
