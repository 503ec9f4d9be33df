/**
 * Reads a V8 `.cpuprofile` (node --cpu-prof) and sums self time per function and per
 * package over a time window, for the benches' "where does the CPU go" tables. Sample
 * times are V8's monotonic clock in µs, the clock of `process.hrtime` on the same machine,
 * so a window taken with `process.hrtime.bigint()` in another process selects its samples.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  ms: number;
}

/** Where a function lives: `pkg:<package>` for node_modules, the dist/src path otherwise. */
function where(url: string): string {
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + '/node_modules/'.length).split('/');
    return `pkg:${rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  if (url.startsWith('node:')) return url;
  const own = url.match(/\/(dist|src)\/(.*)$/);
  if (own) return own[2]!;
  return url || '(native)';
}

/** Self ms per function (`name location:line`) and per place (package or file), samples within [fromUs, toUs]. */
export function selfTimes(file: string, fromUs: number, toUs: number): { functions: SelfTime[]; places: SelfTime[]; totalMs: number } {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const functions = new Map<string, number>();
  const places = new Map<string, number>();
  let at = profile.startTime;
  let total = 0;
  for (let i = 0; i < profile.samples.length; i += 1) {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (at < fromUs || at > toUs) continue;
    const node = byId.get(profile.samples[i]!)!;
    const { functionName, url, lineNumber } = node.callFrame;
    const place = where(url);
    const name = `${functionName || '(anonymous)'} ${place}:${lineNumber + 1}`;
    functions.set(name, (functions.get(name) ?? 0) + delta);
    places.set(place, (places.get(place) ?? 0) + delta);
    total += delta;
  }
  const top = (map: Map<string, number>) =>
    [...map].sort((a, b) => b[1] - a[1]).map(([name, us]) => ({ name, ms: Math.round(us / 100) / 10 }));
  return { functions: top(functions), places: top(places), totalMs: Math.round(total / 1000) };
}
