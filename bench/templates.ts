/**
 * Template render throughput: compiles one realistic template once, then renders it for
 * `--count` recipients (default 100,000) with varied data, as delivery does per batch.
 * Usage: npm run bench:templates -- --count 200000
 */
import { compileTemplate, type TemplateChannel, type TemplateData, type TemplatePerson } from '../src/campaigns/templates.js';

function countArg(argv: readonly string[]): number {
  const at = argv.findIndex((a) => a === '--count' || a.startsWith('--count='));
  if (at === -1) return 100_000;
  const raw = argv[at]?.includes('=') ? argv[at]?.split('=')[1] : argv[at + 1];
  const count = Number(raw);
  if (!Number.isInteger(count) || count < 1) throw new Error(`--count needs a positive integer, got ${raw}`);
  return count;
}

const SOURCE = [
  'Hi {{ user.name }}! Your {{ user.plan.tier }} order for {{user.address.city}}',
  ' ({{ receiver.address.zip }}) ships tomorrow. — {{ sender.name }}, {{ channel.custom.region }}',
].join('');

const CITIES = ['Oslo', 'Lisbon', 'Osaka', 'Quito', 'Accra', 'Perth', 'Tallinn'];
const VARIANTS = 1_000;

const sender: TemplatePerson = { id: 'shop', name: 'The Shop', role: 'admin', language: 'en', custom: {} };
const data: TemplateData[] = Array.from({ length: VARIANTS }, (_, i): TemplateData => {
  const user: TemplatePerson | null = i % 10 === 9 ? null : {
    id: `user-${i}`,
    name: i % 7 === 0 ? null : `User ${i}`,
    role: 'user',
    language: i % 2 ? 'en' : 'de',
    custom: { plan: { tier: i % 3 ? 'gold' : 'basic' }, address: { city: CITIES[i % CITIES.length], zip: 1000 + i } },
  };
  const channel: TemplateChannel = { id: `dm-${i}`, type: 'messaging', cid: `messaging:dm-${i}`, custom: { region: i % 2 ? 'EU' : 'APAC' } };
  return { user, sender, channel };
});

const count = countArg(process.argv.slice(2));
const compileStart = performance.now();
const template = compileTemplate(SOURCE, 'bench');
const compileMs = performance.now() - compileStart;

let chars = 0;
const start = performance.now();
for (let i = 0; i < count; i++) chars += template.render(data[i % VARIANTS]!).length;
const totalMs = performance.now() - start;

console.log(`sample: ${template.render(data[1]!)}`);
console.log(`compile: ${compileMs.toFixed(2)} ms`);
console.log(`renders: ${count.toLocaleString('en')} in ${totalMs.toFixed(1)} ms`);
console.log(`renders/second: ${Math.round(count / (totalMs / 1000)).toLocaleString('en')} (${chars.toLocaleString('en')} chars)`);
