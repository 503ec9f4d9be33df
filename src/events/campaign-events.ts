/**
 * Campaign change events. Writers (mutations, the delivery engine) call `campaignChanged`
 * after a status or counter change has committed; it is cheap to call per batch. Per
 * campaign, publishes are coalesced in this process to at most one per `coalesceMs`
 * (leading and trailing, so the last change is always published), except terminal statuses
 * and deletions, which publish at once. Subscribers get `updates()`: every campaign's
 * changes, throttled per subscriber and campaign (spec §7: at most every 250 ms, last state
 * always delivered).
 */
import { Repeater } from 'graphql-yoga';
import type { CampaignStatus } from '../generated/prisma/enums.js';
import type { CampaignUpdate, BeaconPubSub } from './pubsub.js';
import { KeyedThrottle } from './throttle.js';

/** Statuses after which no more changes follow (short of a resume): published without delay. */
const TERMINAL_STATUSES: readonly (CampaignStatus | 'DELETED')[] = ['COMPLETED', 'STOPPED', 'FAILED', 'DELETED'];

export interface CampaignEventsOptions {
  /** Minimum gap between two publishes of one campaign by this process (default 100 ms). */
  coalesceMs?: number;
  /** Minimum gap between two events of one campaign to one subscriber (default 250 ms). */
  subscriberIntervalMs?: number;
}

/** What a subscriber receives: the id of a campaign to re-read. */
export interface CampaignRef {
  campaignId: string;
}

export class CampaignEvents {
  /** Campaigns waiting to be published, with their latest known status. */
  private readonly latest = new Map<string, CampaignUpdate['status']>();
  private readonly publisher: KeyedThrottle<string>;
  private readonly subscriberIntervalMs: number;
  private closed = false;

  constructor(
    private readonly bus: BeaconPubSub,
    options: CampaignEventsOptions = {},
  ) {
    this.subscriberIntervalMs = options.subscriberIntervalMs ?? 250;
    this.publisher = new KeyedThrottle(options.coalesceMs ?? 100, (campaignId) => this.publish(campaignId));
  }

  /**
   * Records that a campaign changed (call after commit; `status` is its status now, if known,
   * `DELETED` once deleted). Publishes now or at the end of the campaign's window. Returns
   * `campaignId`, so a resolver can wrap its service call: `campaignChanged(await create(…))`.
   */
  campaignChanged(campaignId: string, status?: CampaignStatus | 'DELETED'): string {
    if (this.closed) return campaignId;
    this.latest.set(campaignId, status ?? this.latest.get(campaignId));
    this.publisher.touch(campaignId, status !== undefined && TERMINAL_STATUSES.includes(status));
    return campaignId;
  }

  /**
   * Changes of one campaign (`campaignId`) or of all, throttled for one subscriber to one per
   * campaign per interval with a trailing event. With `initial`, the campaign is emitted
   * first (the current state). Ends when the watched campaign is deleted.
   */
  updates(options: { campaignId?: string; initial?: boolean } = {}): Repeater<CampaignRef> {
    const { campaignId: only, initial = false } = options;
    const intervalMs = this.subscriberIntervalMs;
    return new Repeater<CampaignRef>(async (push, stop) => {
      const source = this.bus.pubsub.subscribe('campaign:updated');
      // Ids waiting in the buffer: the consumer re-reads the campaign, so one entry covers later changes.
      const queued = new Set<string>();
      const throttle = new KeyedThrottle<string>(intervalMs, (campaignId) => {
        if (queued.has(campaignId)) return;
        queued.add(campaignId);
        void push({ campaignId }).then(() => queued.delete(campaignId));
      });
      void stop.then(() => {
        throttle.cancel();
        void source.return();
      });
      // Listening starts before the current state is read, so no change falls in between.
      if (only && initial) throttle.touch(only);
      for await (const update of source) {
        if (!update || (only && update.campaignId !== only)) continue;
        if (update.status === 'DELETED') {
          throttle.forget(update.campaignId);
          if (only) break;
          continue;
        }
        throttle.touch(update.campaignId);
      }
      stop();
    });
  }

  /** Publishes pending changes now and stops accepting new ones. */
  async close(): Promise<void> {
    this.closed = true;
    this.publisher.flush();
  }

  private publish(campaignId: string): void {
    if (!this.latest.has(campaignId)) return;
    const status = this.latest.get(campaignId);
    this.latest.delete(campaignId);
    this.bus.pubsub.publish('campaign:updated', status === undefined ? { campaignId } : { campaignId, status });
  }
}
