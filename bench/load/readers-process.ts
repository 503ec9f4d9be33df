/**
 * The dashboard readers (./readers.ts) in a process of their own, so the latency they record
 * is Beacon's and not the bench process's event loop (which also runs the watchers, the
 * RSS sampler and the CPU sampling). Parent and child talk over the IPC channel:
 * `reset`/`stop` in, `figures` out.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startReaders, type ReadFigures } from './readers.js';

type Command = { kind: 'reset' } | { kind: 'stop' };
type Reply = { kind: 'ready' } | { kind: 'figures'; figures: ReadFigures };

/** Starts `count` readers in a child process; same interface as startReaders. */
export async function startReadersProcess(apiUrl: string, token: string, campaignId: string, count: number): Promise<{ reset(): void; stop(): Promise<ReadFigures> }> {
  const child = fork(fileURLToPath(import.meta.url), [apiUrl, token, campaignId, String(count)], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  const replies: Reply[] = [];
  const waiters: ((reply: Reply) => void)[] = [];
  child.on('message', (reply: Reply) => (waiters.length ? waiters.shift()!(reply) : replies.push(reply)));
  const next = () =>
    new Promise<Reply>((resolve, reject) => {
      if (replies.length) return resolve(replies.shift()!);
      waiters.push(resolve);
      child.once('exit', (code) => reject(new Error(`the readers' process exited (${code})`)));
    });
  await next(); // ready
  return {
    reset: () => void child.send({ kind: 'reset' } satisfies Command),
    async stop() {
      child.send({ kind: 'stop' } satisfies Command);
      const reply = await next();
      child.disconnect();
      if (reply.kind !== 'figures') throw new Error(`unexpected reply from the readers' process: ${reply.kind}`);
      return reply.figures;
    },
  };
}

// The child: run the readers until told to stop.
if (process.send && process.argv[1] === fileURLToPath(import.meta.url)) {
  const [apiUrl, token, campaignId, count] = process.argv.slice(2);
  const readers = startReaders(apiUrl!, token!, campaignId!, Number(count));
  process.on('message', (command: Command) => {
    if (command.kind === 'reset') readers.reset();
    else void readers.stop().then((figures) => process.send!({ kind: 'figures', figures } satisfies Reply));
  });
  process.send({ kind: 'ready' } satisfies Reply);
}
