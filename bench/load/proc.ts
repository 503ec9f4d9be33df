/** CPU time of local processes, read from /proc (Linux), for the benches. */
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ). */
export const TICKS_PER_SECOND = 100;

/** User and system clock ticks of a local process, or null (see processTicks). */
export function processTicksSplit(pid: number, name = 'postgres'): { user: number; system: number } | null {
  try {
    if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== name) return null;
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return { user: Number(fields[11]), system: Number(fields[12]) };
  } catch {
    return null;
  }
}

/** Clock ticks (user + system) of a local process, or null when `pid` is not a local process named `name`. */
export function processTicks(pid: number, name = 'postgres'): number | null {
  const split = processTicksSplit(pid, name);
  return split && split.user + split.system;
}
