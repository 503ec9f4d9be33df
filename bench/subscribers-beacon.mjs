// Beacon for bench/subscribers.ts: what dist/main.js does (same V8 flags from the bench's
// command line, --liftoff-only, startApp from the environment), plus Prisma's query events,
// so the bench can count the campaign reads this process makes. Answers { count: true } on
// its IPC channel with the counts so far, and { touch: id } with campaignChanged(id). Needs
// `npm run build` (dist/).
import { setFlagsFromString } from 'node:v8';
import { loadConfig } from '../dist/config.js';
import { startApp } from '../dist/app.js';
import { subscriptionExecutions } from '../dist/events/shared-results.js';

setFlagsFromString('--liftoff-only');
const counts = { queries: 0, campaignReads: 0 };
const campaignRead = /^SELECT\b[\s\S]*\bFROM "public"\."campaigns"/i;
const app = await startApp(loadConfig(), {
  onQuery(query) {
    counts.queries += 1;
    if (campaignRead.test(query)) counts.campaignReads += 1;
  },
});
process.on('message', (message) => {
  // touch: the bench changed this campaign in SQL; report it as a writer does after its commit.
  if (message?.touch) app.events.campaignChanged(message.touch);
  // liveReads: the reads the live-events hub made for subscribers (src/events/live-campaigns.ts);
  // executions: of subscribers' selections (src/events/shared-results.ts).
  if (message?.count) process.send?.({ ...counts, liveReads: app.events.live?.reads ?? 0, executions: subscriptionExecutions.count });
});
process.once('SIGTERM', () => void app.stop().then(() => process.exit(0)));
process.send?.({ started: true, url: app.api?.url });
