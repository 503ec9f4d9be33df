/**
 * Live watchers for the benches: graphql-ws clients subscribed to one campaign's
 * `campaignUpdated`, each on its own WebSocket, recording every state they receive and when.
 */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

const SUBSCRIPTION = `subscription ($id: ID) { campaignUpdated(id: $id) { id status updatedAt completedAt stats { messagesSent recipientsTotal pending progress } } }`;

export interface WatchedState {
  /** Date.now() when the state arrived. */
  at: number;
  status: string;
  updatedAt: string;
  completedAt: string | null;
  messagesSent: number;
  recipientsTotal: number;
}

export interface Watcher {
  client: Client;
  /** Every state received, the initial one first. */
  seen: WatchedState[];
  /** The initial state arrived: the subscription is live. */
  first: Promise<void>;
  /** The COMPLETED state; rejects when the campaign ends otherwise or the socket fails. */
  completed: Promise<WatchedState>;
}

/** One subscriber to `campaignUpdated(id)` over graphql-ws at `wsUrl`. */
export function watchCampaign(wsUrl: string, token: string, campaignId: string): Watcher {
  const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0, lazy: false });
  const seen: WatchedState[] = [];
  let resolveFirst!: () => void;
  let resolveCompleted!: (state: WatchedState) => void;
  let fail!: (error: unknown) => void;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  void failed.catch(() => {});
  const first = Promise.race([new Promise<void>((resolve) => (resolveFirst = resolve)), failed]);
  const completed = Promise.race([new Promise<WatchedState>((resolve) => (resolveCompleted = resolve)), failed]);
  type Data = { campaignUpdated: { status: string; updatedAt: string; completedAt: string | null; stats: { messagesSent: number; recipientsTotal: number } } };
  client.subscribe<Data>(
    { query: SUBSCRIPTION, variables: { id: campaignId } },
    {
      next: (result) => {
        const campaign = result.data?.campaignUpdated;
        if (!campaign) return fail(new Error(JSON.stringify(result.errors)));
        const state = { at: Date.now(), status: campaign.status, updatedAt: campaign.updatedAt, completedAt: campaign.completedAt, messagesSent: campaign.stats.messagesSent, recipientsTotal: campaign.stats.recipientsTotal };
        seen.push(state);
        resolveFirst();
        if (campaign.status === 'COMPLETED') resolveCompleted(state);
        else if (!['DRAFT', 'SCHEDULED', 'IN_PROGRESS'].includes(campaign.status)) fail(new Error(`campaign ended ${campaign.status}`));
      },
      error: fail,
      complete: () => {},
    },
  );
  return { client, seen, first, completed };
}

/** `count` watchers, connected in groups of 100 (as clients arriving over a few seconds would), each live. */
export async function openWatchers(wsUrl: string, token: string, campaignId: string, count: number): Promise<Watcher[]> {
  const watchers: Watcher[] = [];
  for (let i = 0; i < count; i += 100) {
    const group = Array.from({ length: Math.min(100, count - i) }, () => watchCampaign(wsUrl, token, campaignId));
    watchers.push(...group);
    await Promise.all(group.map((w) => w.first));
  }
  return watchers;
}

export const percentile = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;

/** Milliseconds from the campaign's `completedAt` to each watcher receiving COMPLETED: p50, p99, max. */
export async function completedLags(watchers: readonly Watcher[]): Promise<{ p50: number; p99: number; max: number }> {
  const states = await Promise.all(watchers.map((w) => w.completed));
  const completedAt = Date.parse(states[0]!.completedAt!);
  const lags = states.map((s) => s.at - completedAt).sort((a, b) => a - b);
  return { p50: percentile(lags, 50), p99: percentile(lags, 99), max: lags.at(-1)! };
}

export async function closeWatchers(watchers: readonly Watcher[]): Promise<void> {
  await Promise.all(watchers.map((w) => w.client.dispose()));
}
