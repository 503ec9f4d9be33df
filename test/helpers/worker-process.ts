/**
 * Real Beacon worker processes for tests: `node --import tsx src/main.ts` with
 * BEACON_ROLE=worker on a test database, each in its own process group so SIGKILL takes
 * the whole process (and tsx's esbuild helper) down at once, like a crashed machine.
 * Every child is tracked: `killAllWorkers()` (call it in afterEach/afterAll) kills those
 * still running, and the test process kills any left when it exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TEST_SECRET } from './secret.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Only what node and tsx need from the test process; nothing of its Beacon settings. */
const INHERITED_ENV = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ'];

/** One JSON log line of the worker (src/logger.ts). */
export interface LogEntry {
  time: string;
  level: string;
  msg: string;
  [key: string]: unknown;
}

export interface WorkerOptions {
  /** The PostgreSQL to use; left out, the process runs on the embedded database in its data dir. */
  databaseUrl?: string;
  /**
   * BEACON_WORKER_NAME (the job table's `last_modified_by`) and the `application_name` of
   * its database connections (to find them in pg_stat_activity); default `worker-<n>`.
   */
  name?: string;
  /** Extra or overriding environment, e.g. BEACON_DELIVERY_RATE, REDIS_URL. */
  env?: Record<string, string>;
  /** How long to wait for "beacon started" (a cold tsx start takes seconds). */
  startTimeoutMs?: number;
  /** Node's arguments: the TypeScript sources through tsx by default; `['dist/main.js']` runs the build. */
  nodeArgs?: readonly string[];
}

export interface WorkerProcess {
  readonly name: string;
  readonly pid: number;
  /** Parsed log entries so far (stderr); lines that are not JSON are in `output`. */
  readonly logs: readonly LogEntry[];
  /** Everything the process wrote, for failure messages. */
  output(): string;
  /** Messages this process committed, from its per-batch "batch delivered" entries. */
  sent(campaignId: string): number;
  /** Whether the process has exited. */
  readonly exited: boolean;
  /** SIGKILLs the process group; resolves once the process is gone. */
  kill(): Promise<void>;
  /**
   * SIGTERMs the process (as an orchestrator would) and resolves with how it exited; kills
   * it and rejects if it has not exited within `timeoutMs`.
   */
  terminate(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Node's arguments of `npm start` (its V8 flags, then `dist/main.js`, which `npm run build`
 * writes): pass them as `nodeArgs` to run a process exactly as production does.
 */
export function npmStartArgs(): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const [command, ...args] = pkg.scripts.start.split(/\s+/);
  if (command !== 'node' || args.at(-1) !== 'dist/main.js') throw new Error(`npm start is not "node … dist/main.js": ${pkg.scripts.start}`);
  return args;
}

/**
 * Node's arguments of `npm run dev` (`tsx …` → tsx's CLI with the same arguments): pass them
 * as `nodeArgs` to run the dev mode exactly as the script does.
 */
export function npmDevArgs(): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { dev: string } };
  const [command, ...args] = pkg.scripts.dev.split(/\s+/).map((word) => word.replace(/^'(.*)'$/, '$1'));
  if (command !== 'tsx') throw new Error(`npm run dev is not "tsx …": ${pkg.scripts.dev}`);
  return [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), ...args];
}

/** Settings that make a worker take over and react fast; `env` overrides them. */
export const FAST_WORKER_ENV: Readonly<Record<string, string>> = {
  BEACON_JOB_POLL_MS: '200',
  // A killed worker's jobs are taken over after this long without a touch.
  BEACON_JOB_LOCK_MS: '2000',
  BEACON_DELIVERY_BATCH_SIZE: '20',
};

const running = new Set<Worker>();
const everStarted: Worker[] = [];
let counter = 0;

class Worker implements WorkerProcess {
  readonly logs: LogEntry[] = [];
  private readonly lines: string[] = [];
  private pending = '';
  private readonly gone: Promise<void>;
  exited = false;
  private exit: { code: number | null; signal: NodeJS.Signals | null } = { code: null, signal: null };

  constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    const read = (chunk: Buffer) => {
      this.pending += chunk.toString('utf8');
      let end: number;
      while ((end = this.pending.indexOf('\n')) >= 0) {
        this.line(this.pending.slice(0, end));
        this.pending = this.pending.slice(end + 1);
      }
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    this.gone = new Promise((done) => {
      child.once('exit', (code, signal) => {
        this.exited = true;
        this.exit = { code, signal };
        running.delete(this);
        done();
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  private line(text: string) {
    this.lines.push(text);
    if (!text.startsWith('{')) return;
    try {
      this.logs.push(JSON.parse(text) as LogEntry);
    } catch {
      // Not a log entry; kept in `lines`.
    }
  }

  output(): string {
    return [...this.lines, this.pending].join('\n');
  }

  sent(campaignId: string): number {
    return this.logs.filter((e) => e.msg === 'batch delivered' && e.campaignId === campaignId).reduce((n, e) => n + Number(e.sent), 0);
  }

  /** Resolves at "beacon started"; rejects if the process exits or `timeoutMs` passes first. */
  async started(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.logs.some((e) => e.msg === 'beacon started')) {
      if (this.exited) throw new Error(`worker ${this.name} exited before starting:\n${this.output()}`);
      if (Date.now() > deadline) {
        await this.kill();
        throw new Error(`worker ${this.name} did not start within ${timeoutMs} ms:\n${this.output()}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  killNow(): void {
    if (this.exited) return;
    try {
      process.kill(-this.child.pid!, 'SIGKILL'); // the group: node and its esbuild child
    } catch {
      this.child.kill('SIGKILL');
    }
  }

  async kill(): Promise<void> {
    this.killNow();
    await this.gone;
  }

  async terminate(timeoutMs = 30_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (!this.exited) this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), timeoutMs)));
    const result = await Promise.race([this.gone, late]).finally(() => clearTimeout(timer));
    if (result === 'late') {
      await this.kill();
      throw new Error(`worker ${this.name} did not exit within ${timeoutMs} ms of SIGTERM:\n${this.output()}`);
    }
    return this.exit;
  }
}

/** Starts a worker process and resolves once it processes jobs. */
export async function startWorker(options: WorkerOptions): Promise<WorkerProcess> {
  const name = options.name ?? `worker-${++counter}`;
  const databaseUrl = options.databaseUrl === undefined ? null : new URL(options.databaseUrl);
  databaseUrl?.searchParams.set('application_name', name);
  const inherited = Object.fromEntries(INHERITED_ENV.flatMap((key) => (process.env[key] ? [[key, process.env[key]!]] : [])));
  const child = spawn(process.execPath, options.nodeArgs ?? ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    detached: true, // own process group, see kill()
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...inherited,
      ...(databaseUrl ? { DATABASE_URL: databaseUrl.toString() } : {}),
      BEACON_ROLE: 'worker',
      PORT: '0',
      BEACON_API_SECRET: TEST_SECRET,
      BEACON_DATA_DIR: mkdtempSync(join(tmpdir(), 'beacon-worker-')),
      BEACON_WORKER_NAME: name,
      // debug: the per-batch entries that `sent()` counts.
      LOG_LEVEL: 'debug',
      ...FAST_WORKER_ENV,
      ...options.env,
    },
  });
  const worker = new Worker(name, child);
  running.add(worker);
  everStarted.push(worker);
  await worker.started(options.startTimeoutMs ?? 30_000);
  return worker;
}

/** The last lines (per-batch entries left out) each worker of this file wrote: for failure reports. */
export function workerReport(lines = 30): string {
  return everStarted
    .map((w) => {
      const tail = w.output().split('\n').filter((line) => line && !line.includes('"batch delivered"')).slice(-lines);
      return `--- ${w.name} (pid ${w.pid}${w.exited ? ', exited' : ''}), ${w.logs.length} log entries:\n${tail.join('\n')}`;
    })
    .join('\n');
}

/** Kills every worker process still running. */
export async function killAllWorkers(): Promise<void> {
  await Promise.all([...running].map((worker) => worker.kill()));
}

// Last resort (a failed hook, an aborted run): no worker outlives the test process.
process.once('exit', () => {
  for (const worker of running) worker.killNow();
});
