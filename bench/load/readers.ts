/**
 * Dashboard readers for the benches: `count` clients that each read once a second what an
 * open dashboard reads — the campaign page (the campaign with its stats), the campaigns
 * list's first 50 with stats, and a recipients page of 50 with their users — using the
 * dashboard's own operations (src/dashboard/operations/*.graphql), each as its own HTTP
 * request, over kept-alive node:http connections (fetch cost ~2.5 ms of CPU a request: the
 * readers took a third of a core from the machine they measure). Records every request's
 * latency as this process sees it, and the CPU it spent: benches run them in a process of
 * their own (./readers-process.ts), so nothing else shares its event loop.
 */
import { readFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
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
  /** CPU seconds the readers' process spent over the measured window (it shares the machine's cores with Beacon). */
  clientCpuSeconds: number;
}

/** Starts the readers against `apiUrl`; `stop()` ends them and returns the figures. */
export function startReaders(apiUrl: string, token: string, campaignId: string, count: number): { reset(): void; stop(): Promise<ReadFigures> } {
  const reads = dashboardReads(campaignId);
  const latencies: Record<Kinds, number[]> = { campaign: [], list: [], recipients: [] };
  let errors = 0;
  let running = true;
  let cpuAtReset = process.cpuUsage();
  /** Clients waiting for their next round: stop() wakes them. */
  const sleeping = new Set<() => void>();

  const agent = new Agent({ keepAlive: true, maxSockets: count * 3 });
  const url = new URL(apiUrl);
  const bodies = Object.fromEntries(Object.entries(reads).map(([kind, read]) => [kind, Buffer.from(JSON.stringify(read))])) as Record<Kinds, Buffer>;
  const post = (kind: Kinds) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const body = bodies[kind];
      const req = httpRequest(
        url,
        { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.byteLength, authorization: `Bearer ${token}` } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  const request = async (kind: Kinds) => {
    const started = performance.now();
    try {
      const response = await post(kind);
      const result = JSON.parse(response.body) as { errors?: unknown };
      if (response.status !== 200 || result.errors) errors += 1;
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
      cpuAtReset = process.cpuUsage();
    },
    async stop() {
      running = false;
      for (const wake of [...sleeping]) wake();
      await Promise.all(loops); // the reads in flight
      agent.destroy();
      const cpu = process.cpuUsage(cpuAtReset);

      const all = [...latencies.campaign, ...latencies.list, ...latencies.recipients];
      return {
        requests: all.length,
        errors,
        ms: summary(all),
        byKind: { campaign: summary(latencies.campaign), list: summary(latencies.list), recipients: summary(latencies.recipients) },
        clientCpuSeconds: Math.round((cpu.user + cpu.system) / 1e4) / 100,
      };
    },
  };
}
