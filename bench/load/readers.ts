/**
 * Dashboard readers for the benches: `count` clients that each read once a second what an
 * open dashboard reads — the campaign page (the campaign with its stats), the campaigns
 * list's first 50 with stats, and a recipients page of 50 with their users — using the
 * dashboard's own operations (src/dashboard/operations/*.graphql), each as its own HTTP
 * request. Records every request's latency as this process sees it: benches run them in a
 * process of their own (./readers-process.ts), so nothing else shares its event loop.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Kind, parse, print, visit, type DefinitionNode, type DocumentNode } from 'graphql';
import { percentile } from './watchers.js';

const OPERATIONS = fileURLToPath(new URL('../../src/dashboard/operations/', import.meta.url));

/** The named operation of a dashboard .graphql file with the fragments it spreads. */
function dashboardOperation(file: string, name: string): string {
  const document = parse(readFileSync(`${OPERATIONS}${file}`, 'utf8'));
  const byName = new Map<string, DefinitionNode>();
  for (const definition of document.definitions) {
    if ((definition.kind === Kind.OPERATION_DEFINITION || definition.kind === Kind.FRAGMENT_DEFINITION) && definition.name) {
      byName.set(definition.name.value, definition);
    }
  }
  const wanted = [byName.get(name)!];
  if (!wanted[0]) throw new Error(`no operation ${name} in ${file}`);
  for (let i = 0; i < wanted.length; i += 1) {
    visit(wanted[i]!, {
      FragmentSpread(node) {
        const fragment = byName.get(node.name.value);
        if (fragment && !wanted.includes(fragment)) wanted.push(fragment);
      },
    });
  }
  return print({ kind: Kind.DOCUMENT, definitions: wanted } as DocumentNode);
}

export type Kinds = 'campaign' | 'list' | 'recipients';

/** What one dashboard reads, by kind: the dashboard's own operations and the variables it sends. */
export function dashboardReads(campaignId: string): Record<Kinds, { query: string; variables: Record<string, unknown> }> {
  return {
    campaign: { query: dashboardOperation('campaigns.graphql', 'CampaignPage'), variables: { id: campaignId } },
    list: { query: dashboardOperation('campaigns.graphql', 'CampaignList'), variables: { first: 50, sort: [{ field: 'CREATED_AT', direction: 'DESC' }] } },
    recipients: { query: dashboardOperation('campaign-recipients.graphql', 'CampaignRecipients'), variables: { id: campaignId, first: 50 } },
  };
}

export interface ReadFigures {
  requests: number;
  errors: number;
  /** Latency in ms over all requests, and per kind. */
  ms: { p50: number; p99: number; max: number };
  byKind: Record<Kinds, { p50: number; p99: number; max: number }>;
}

/** Starts the readers against `apiUrl`; `stop()` ends them and returns the figures. */
export function startReaders(apiUrl: string, token: string, campaignId: string, count: number): { reset(): void; stop(): Promise<ReadFigures> } {
  const reads = dashboardReads(campaignId);
  const latencies: Record<Kinds, number[]> = { campaign: [], list: [], recipients: [] };
  let errors = 0;
  let running = true;
  /** Clients waiting for their next round: stop() wakes them. */
  const sleeping = new Set<() => void>();

  const request = async (kind: Kinds) => {
    const started = performance.now();
    try {
      const response = await fetch(apiUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(reads[kind]),
      });
      const result = (await response.json()) as { errors?: unknown };
      if (!response.ok || result.errors) errors += 1;
    } catch {
      errors += 1;
    }
    latencies[kind].push(performance.now() - started);
  };

  // Each client reads once a second, the clients spread evenly over the second; a client
  // whose reads take longer than a second starts its next round as soon as they end.
  const loops = Array.from({ length: count }, (_, i) =>
    (async () => {
      let next = performance.now() + (i * 1000) / count;
      while (running) {
        const wait = next - performance.now();
        if (wait > 0) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(wake, wait);
            function wake() {
              clearTimeout(timer);
              sleeping.delete(wake);
              resolve();
            }
            sleeping.add(wake);
          });
        }
        if (!running) break;
        next = Math.max(next + 1000, performance.now());
        await Promise.all([request('campaign'), request('list'), request('recipients')]);
      }
    })(),
  );

  const summary = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    if (sorted.length === 0) return { p50: 0, p99: 0, max: 0 };
    return { p50: Math.round(percentile(sorted, 50)), p99: Math.round(percentile(sorted, 99)), max: Math.round(sorted.at(-1)!) };
  };
  return {
    /** Forgets the figures so far (the warm-up before what is measured). */
    reset() {
      for (const kind of Object.keys(latencies) as Kinds[]) latencies[kind] = [];
      errors = 0;
    },
    async stop() {
      running = false;
      for (const wake of [...sleeping]) wake();
      await Promise.all(loops); // the reads in flight

      const all = [...latencies.campaign, ...latencies.list, ...latencies.recipients];
      return {
        requests: all.length,
        errors,
        ms: summary(all),
        byKind: { campaign: summary(latencies.campaign), list: summary(latencies.list), recipients: summary(latencies.recipients) },
      };
    },
  };
}
