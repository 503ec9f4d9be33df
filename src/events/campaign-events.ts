/**
 * Campaign change events. Writers (mutations, the delivery engine) call `campaignChanged`
 * after a status or counter change has committed; it is cheap to call per batch. Per
 * campaign, publishes are coalesced in this process to at most one per `coalesceMs`
 * (leading and trailing, so the last change is always published), except status changes
 * (a status other than the one last published in the window: COMPLETED, STOPPED, …, also
 * terminal statuses and deletions), which publish at once. Subscribers get `updates()`:
 * campaign rows read once per event for all subscribers of this process
 * (./live-campaigns.ts), counter changes at most every 250 ms per subscriber and campaign,
 * status changes at once, the last state always delivered (spec §7).
 */
import type { Campaign } from '../generated/prisma/client.js';
import type { CampaignStatus } from '../generated/prisma/enums.js';
import type { Logger } from '../logger.js';
import type { CampaignUpdate, BeaconPubSub } from './pubsub.js';
import { KeyedThrottle } from './throttle.js';
import { LiveCampaigns, type CampaignSource } from './live-campaigns.js';

const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** Statuses after which no more changes follow (short of a resume): always published without delay. */
const TERMINAL_STATUSES: readonly (CampaignStatus | 'DELETED')[] = ['COMPLETED', 'STOPPED', 'FAILED', 'DELETED'];

export interface CampaignEventsOptions {
  /** Minimum gap between two publishes of one campaign by this process (default 100 ms). */
  coalesceMs?: number;
  /** Minimum gap between two events of one campaign to one subscriber (default 250 ms). */
  subscriberIntervalMs?: number;
  /** Where subscribers' campaigns are read from; without it, this process only publishes. */
  source?: CampaignSource<Campaign>;
  logger?: Logger;
}

export class CampaignEvents {
  /** Campaigns waiting to be published, with their latest known status. */
  private readonly latest = new Map<string, CampaignUpdate['status']>();
  /** The status last published of each campaign, kept while its window is open. */
  private readonly published = new Map<string, CampaignUpdate['status']>();
  private readonly publisher: KeyedThrottle<string>;
  /** The subscriber side: shared reads and per-subscriber mailboxes. */
  readonly live: LiveCampaigns<Campaign> | null;
  private closed = false;

  constructor(
    private readonly bus: BeaconPubSub,
    options: CampaignEventsOptions = {},
  ) {
    this.publisher = new KeyedThrottle(
      options.coalesceMs ?? 100,
      (campaignId) => this.publish(campaignId),
      (campaignId) => this.published.delete(campaignId),
    );
    this.live = options.source
      ? new LiveCampaigns(bus, options.source, options.logger ?? silentLogger, { intervalMs: options.subscriberIntervalMs })
      : null;
  }

  /**
   * Records that a campaign changed (call after commit; `status` is its status now, if known,
   * `DELETED` once deleted). Publishes now or at the end of the campaign's window. Returns
   * `campaignId`, so a resolver can wrap its service call: `campaignChanged(await create(…))`.
   */
  campaignChanged(campaignId: string, status?: CampaignStatus | 'DELETED'): string {
    if (this.closed) return campaignId;
    this.latest.set(campaignId, status ?? this.latest.get(campaignId));
    const statusChange = status !== undefined && (TERMINAL_STATUSES.includes(status) || status !== this.published.get(campaignId));
    this.publisher.touch(campaignId, statusChange);
    return campaignId;
  }

  /**
   * Rows of one campaign (`campaignId`) or of every campaign as they change, at most one per
   * campaign per interval, a slow reader getting the latest. With `initial`, the current
   * state comes first. Ends when the watched campaign is deleted.
   */
  updates(options: { campaignId?: string; initial?: boolean } = {}): AsyncIterableIterator<Campaign> {
    if (!this.live) throw new Error('CampaignEvents was created without a campaign source; it cannot serve subscribers');
    return this.live.watch(options);
  }

  /** Publishes pending changes now and stops accepting new ones. */
  async close(): Promise<void> {
    this.closed = true;
    this.publisher.flush();
    await this.live?.close();
  }

  private publish(campaignId: string): void {
    if (!this.latest.has(campaignId)) return;
    const status = this.latest.get(campaignId);
    this.latest.delete(campaignId);
    if (status !== undefined) this.published.set(campaignId, status);
    this.bus.pubsub.publish('campaign:updated', status === undefined ? { campaignId } : { campaignId, status });
  }
}
