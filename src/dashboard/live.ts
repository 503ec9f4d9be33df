/**
 * Live campaign state from `campaignUpdated`. Events are buffered and applied together at
 * most every 250 ms, so a view re-renders at most four times a second however many
 * campaigns are running (the server already sends each campaign at most every 250 ms).
 */
import { useEffect, useState } from 'react';
import { useClient } from 'urql';
import { CampaignsLiveDocument, CampaignLiveDocument, type CampaignRowFragment } from './generated/graphql';

const FLUSH_MS = 250;

/**
 * The latest state of every campaign that changed since `since` changed (e.g. since the list
 * was fetched): one subscription without id for the whole view.
 */
export function useLiveCampaigns(since: unknown): ReadonlyMap<string, CampaignRowFragment> {
  const client = useClient();
  const [latest, setLatest] = useState<ReadonlyMap<string, CampaignRowFragment>>(new Map());

  // A fresh fetch is newer than anything heard before it.
  useEffect(() => setLatest(new Map()), [since]);

  useEffect(() => {
    let pending = new Map<string, CampaignRowFragment>();
    let timer: number | undefined;
    const flush = () => {
      timer = undefined;
      const batch = pending;
      pending = new Map();
      setLatest((previous) => new Map([...previous, ...batch]));
    };
    const subscription = client.subscription(CampaignsLiveDocument, {}).subscribe((result) => {
      const campaign = result.data?.campaignUpdated;
      if (!campaign) return;
      pending.set(campaign.id, campaign);
      timer ??= window.setTimeout(flush, FLUSH_MS);
    });
    return () => {
      subscription.unsubscribe();
      window.clearTimeout(timer);
    };
  }, [client]);

  return latest;
}

/** One campaign's latest state (its current state arrives first), throttled the same way. */
export function useLiveCampaign(id: string): CampaignRowFragment | null {
  const client = useClient();
  const [latest, setLatest] = useState<CampaignRowFragment | null>(null);

  useEffect(() => {
    setLatest(null);
    let pending: CampaignRowFragment | null = null;
    let timer: number | undefined;
    const subscription = client.subscription(CampaignLiveDocument, { id }).subscribe((result) => {
      pending = result.data?.campaignUpdated ?? pending;
      timer ??= window.setTimeout(() => {
        timer = undefined;
        setLatest(pending);
      }, FLUSH_MS);
    });
    return () => {
      subscription.unsubscribe();
      window.clearTimeout(timer);
    };
  }, [client, id]);

  return latest;
}
