/**
 * The subscriber side of campaign events in one process: a hub that reads a changed campaign
 * once and hands the row to every local subscriber of it, so an event costs the same for
 * one subscriber or a thousand.
 *
 * - One subscription to the bus per process. An event for a campaign somebody here watches
 *   (by id, or every campaign) marks the campaign for a refresh, at most once per
 *   `intervalMs` with a trailing one (spec §7) — except an event whose status differs from
 *   the one this hub last read in the campaign's window (COMPLETED, STOPPED, …): that one
 *   is read at once. Counter changes wait for the window; status changes never do, and
 *   there are at most as many immediate reads as status changes (plus events whose writer
 *   knew an older status, each answered by one read).
 * - Refreshes run in batches: one `findMany` for every campaign due, never two reads of one
 *   campaign at once, so each subscriber sees a campaign's rows in the order they were read.
 *   The row goes into each subscriber's mailbox (./mailbox.ts): one slot per campaign, a
 *   newer row replacing an unsent one, so slow readers are coalesced to the latest state;
 *   a row whose status differs from the one the subscriber last got is not held back by
 *   the mailbox's interval either.
 * - A new subscriber to one campaign is registered first, then its current state is read
 *   (joining the next batch), so no change falls between the two.
 * - After the bus reconnects (Redis was down, events may be lost), every watched campaign
 *   is read again, and for subscribers of every campaign, those changed since shortly
 *   before the outage began.
 */
import type { BeaconPubSub } from './pubsub.js';
import { KeyedThrottle } from './throttle.js';
import { LatestMailbox } from './mailbox.js';
import type { Logger } from '../logger.js';

/** How the hub reads campaigns (a service of the campaigns domain, injected by the composition root). */
export interface CampaignSource<Row extends LiveRow> {
  /** The current rows of these campaigns; a missing one has been deleted. */
  read(ids: readonly string[]): Promise<Row[]>;
  /** Ids of campaigns changed at or after `since`. */
  changedSince(since: Date): Promise<string[]>;
}

/** Pause before a failed read is tried again (the database may be restarting). */
const READ_RETRY_MS = 1000;

export interface LiveCampaignsOptions {
  /** Minimum gap between two events of one campaign to one subscriber (default 250 ms). */
  intervalMs?: number;
  /**
   * Changes this long before an outage began count as possibly lost: an event published
   * just before the connection dropped, and clock skew between writers (default 30 s).
   */
  resyncMarginMs?: number;
}

/** A read waiting for its batch: whether every watcher gets it, and who asked for the current state. */
interface Refresh<Row> {
  broadcast: boolean;
  initial: Set<LatestMailbox<Row>>;
}

/** Rows the hub can tell status changes in. */
export interface LiveRow {
  id: string;
  status: string;
}

/** A subscriber gets a row at once, whatever its interval, when the status changed since the last one it got. */
const statusChanged = (last: LiveRow, next: LiveRow) => last.status !== next.status;

export class LiveCampaigns<Row extends LiveRow> {
  /** The status of each campaign's latest read, kept while its window is open. */
  private readonly known = new Map<string, string>();
  private readonly watchers = new Map<string, Set<LatestMailbox<Row>>>();
  private readonly everything = new Set<LatestMailbox<Row>>();
  private readonly due = new Map<string, Refresh<Row>>();
  private readonly reading = new Set<string>();
  private readonly throttle: KeyedThrottle<string>;
  private readonly intervalMs: number;
  private readonly resyncMarginMs: number;
  private readonly source: AsyncIterableIterator<{ campaignId: string; status?: string } | undefined>;
  private flushQueued = false;
  private closed = false;
  /** Database reads of campaigns made by this hub (a figure for the bench and tests). */
  reads = 0;

  constructor(
    bus: BeaconPubSub,
    private readonly campaigns: CampaignSource<Row>,
    private readonly logger: Logger,
    options: LiveCampaignsOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 250;
    this.resyncMarginMs = options.resyncMarginMs ?? 30_000;
    this.throttle = new KeyedThrottle(
      this.intervalMs,
      (id) => this.request(id, { broadcast: true }),
      (id) => this.known.delete(id),
    );
    this.source = bus.pubsub.subscribe('campaign:updated');
    void this.listen();
    bus.onReconnect((downSince) => void this.resync(downSince));
  }

  /**
   * A subscriber's stream of rows: of `campaignId` (its current state first when `initial`;
   * ends when the campaign is deleted), or of every campaign.
   */
  watch(options: { campaignId?: string; initial?: boolean } = {}): LatestMailbox<Row> {
    const { campaignId, initial = false } = options;
    if (campaignId === undefined) {
      const mailbox: LatestMailbox<Row> = new LatestMailbox<Row>(this.intervalMs, () => this.everything.delete(mailbox), statusChanged);
      if (this.closed) mailbox.end();
      else this.everything.add(mailbox);
      return mailbox;
    }
    const set = this.watchers.get(campaignId) ?? new Set();
    const mailbox: LatestMailbox<Row> = new LatestMailbox<Row>(
      this.intervalMs,
      () => {
        set.delete(mailbox);
        if (set.size === 0 && this.watchers.get(campaignId) === set) this.watchers.delete(campaignId);
      },
      statusChanged,
    );
    if (this.closed) {
      mailbox.end();
      return mailbox;
    }
    set.add(mailbox);
    this.watchers.set(campaignId, set);
    if (initial) this.request(campaignId, { initial: mailbox });
    return mailbox;
  }

  /** Ends every subscriber's stream and stops listening. */
  async close(): Promise<void> {
    this.closed = true;
    this.throttle.cancel();
    await this.source.return?.();
    for (const set of [...this.watchers.values()]) for (const mailbox of [...set]) mailbox.end();
    for (const mailbox of [...this.everything]) mailbox.end();
  }

  private async listen(): Promise<void> {
    for await (const update of this.source) {
      if (!update) continue;
      const { campaignId } = update;
      if (update.status === 'DELETED') {
        this.throttle.forget(campaignId);
        this.deleted(campaignId);
      } else if (this.everything.size > 0 || this.watchers.has(campaignId)) {
        // A status this hub has not read in the window is a status change: no waiting.
        this.throttle.touch(campaignId, update.status !== undefined && update.status !== this.known.get(campaignId));
      }
    }
  }

  /** Re-reads what local subscribers watch after the bus was down since `downSince`. */
  private async resync(downSince: Date): Promise<void> {
    if (this.closed) return;
    const ids = new Set(this.watchers.keys());
    if (this.everything.size > 0) {
      try {
        const since = new Date(downSince.getTime() - this.resyncMarginMs);
        for (const id of await this.campaigns.changedSince(since)) ids.add(id);
      } catch (error) {
        this.logger.error('live events: campaigns changed during the outage not read', { error: String(error) });
      }
    }
    this.logger.info('live events: bus reconnected, re-reading watched campaigns', { campaigns: ids.size, downSince: downSince.toISOString() });
    for (const id of ids) this.request(id, { broadcast: true });
  }

  /** Queues a read of `id` into the next batch, merged with one already waiting. */
  private request(id: string, ask: { broadcast?: boolean; initial?: LatestMailbox<Row> }): void {
    if (this.closed) return;
    const refresh = this.due.get(id) ?? { broadcast: false, initial: new Set() };
    refresh.broadcast ||= ask.broadcast === true;
    if (ask.initial) refresh.initial.add(ask.initial);
    this.due.set(id, refresh);
    this.queueFlush();
  }

  private queueFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    // The next turn of the event loop: requests of the same moment share one query.
    setImmediate(() => {
      this.flushQueued = false;
      void this.flush();
    });
  }

  /** Reads every due campaign that is not being read already, in one query, and delivers. */
  private async flush(): Promise<void> {
    const batch = new Map<string, { refresh: Refresh<Row>; targets: Set<LatestMailbox<Row>> }>();
    for (const [id, refresh] of this.due) {
      if (this.reading.has(id)) continue;
      this.due.delete(id);
      this.reading.add(id);
      // Who gets the row is fixed when the read starts: everyone registered before it.
      const targets = new Set(refresh.initial);
      if (refresh.broadcast) {
        for (const mailbox of this.watchers.get(id) ?? []) targets.add(mailbox);
        for (const mailbox of this.everything) targets.add(mailbox);
      }
      batch.set(id, { refresh, targets });
    }
    if (batch.size === 0) return;
    try {
      this.reads += 1;
      const rows = new Map((await this.campaigns.read([...batch.keys()])).map((row) => [row.id, row]));
      for (const [id, { refresh, targets }] of batch) {
        const row = rows.get(id);
        if (!row) {
          if (refresh.broadcast) this.deleted(id);
          for (const mailbox of refresh.initial) mailbox.end();
          continue;
        }
        if (this.throttle.isOpen(id)) this.known.set(id, row.status);
        for (const mailbox of targets) mailbox.offer(id, row);
      }
    } catch (error) {
      // The last state must still arrive: read these campaigns again after a pause.
      this.logger.error('live events: campaigns not read, retrying', { campaigns: batch.size, error: String(error) });
      const retry = setTimeout(() => {
        for (const [id, { refresh }] of batch) {
          if (refresh.broadcast) this.request(id, { broadcast: true });
          for (const mailbox of refresh.initial) this.request(id, { initial: mailbox });
        }
      }, READ_RETRY_MS);
      retry.unref();
    } finally {
      for (const id of batch.keys()) this.reading.delete(id);
      if (this.due.size > 0) this.queueFlush();
    }
  }

  /** The campaign is gone: its watchers' streams end, subscribers of everything drop it. */
  private deleted(id: string): void {
    for (const mailbox of [...(this.watchers.get(id) ?? [])]) mailbox.end();
    for (const mailbox of this.everything) mailbox.drop(id);
  }
}
