/** What every bench reads from its command line and environment. */

/** A server URL allowed to CREATE DATABASE: BENCH_DATABASE_URL, DATABASE_URL, or the local postgres. */
export const adminUrl = process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

/** `--name N` as an integer ≥ min, or `fallback` when absent; throws a usage error otherwise. */
export function intArg(name: string, fallback: number, min: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const value = at === -1 ? fallback : Number(process.argv[at + 1]);
  if (!Number.isInteger(value) || value < min) throw new Error(`--${name} needs an integer ≥ ${min}`);
  return value;
}
