/**
 * Clients that misbehave on purpose: request bodies streamed without end, and raw
 * graphql-ws sockets that send whatever the test writes (a real graphql-ws client would
 * refuse to send most of it).
 */
import { request } from 'node:http';
import WebSocket from 'ws';

export interface Answer {
  status: number;
  body: any;
  /** Body bytes the client had written when the answer arrived. */
  sent: number;
}

/** `[{},{},…` in 64 KiB: the shape that makes JSON.parse allocate the most objects per byte. */
export const OBJECTS_CHUNK = Buffer.from('{},'.repeat(64 * 1024 / 3));

/**
 * POSTs `prefix`, then `chunk` repeatedly up to `total` bytes, and never ends the body: the
 * server has to answer without reading to the end. Resolves with its answer.
 */
export function postUnending(url: string, headers: Record<string, string>, total: number, prefix = '{"query":"{ __typename }","variables":{"a":[', chunk = OBJECTS_CHUNK): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } });
    let sent = 0;
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      const at = sent;
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) => parts.push(part));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : null, sent: at });
        req.destroy();
      });
      res.on('error', reject);
    });
    // Writing on after the server answered and closed fails (EPIPE, ECONNRESET): expected.
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    req.write(prefix);
    sent += Buffer.byteLength(prefix);
    const pump = () => {
      while (!answered && sent < total) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
    };
    pump();
  });
}

/** A graphql-transport-ws socket speaking raw messages. */
export class RawSocket {
  readonly messages: any[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: (() => void)[] = [];
  readonly ws: WebSocket;

  constructor(url: string) {
    this.ws = new WebSocket(url, 'graphql-transport-ws');
    this.closed = new Promise((resolve) => this.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    this.ws.on('message', (data) => {
      this.messages.push(JSON.parse(String(data)));
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.ws.on('error', () => {}); // surfaced through `closed`
  }

  opened(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.ws.readyState === WebSocket.OPEN) return resolve();
      this.ws.once('open', () => resolve());
      this.ws.once('close', () => reject(new Error('closed before open')));
    });
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** Opens, sends connection_init with `payload`, and waits for the ack. */
  async init(payload: unknown): Promise<void> {
    await this.opened();
    this.send({ type: 'connection_init', payload });
    await this.next((m) => m.type === 'connection_ack');
  }

  /** The first message (received or yet to come) matching `match`; fails after `timeoutMs` or on close. */
  async next(match: (message: any) => boolean, timeoutMs = 5000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.messages.findIndex(match);
      if (index >= 0) return this.messages.splice(index, 1)[0];
      if (this.ws.readyState === WebSocket.CLOSED) throw new Error(`socket closed (${JSON.stringify(await this.closed)})`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching message within ${timeoutMs} ms: ${JSON.stringify(this.messages)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 100));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Sends `subscribe` and returns the first next/error message of that id. */
  async run(id: string, query: string, variables?: Record<string, unknown>): Promise<any> {
    this.send({ id, type: 'subscribe', payload: { query, variables } });
    return this.next((m) => m.id === id && (m.type === 'next' || m.type === 'error'));
  }

  close(): void {
    this.ws.terminate();
  }
}

/**
 * Streams one WebSocket text message of `bytes` bytes, a connection_init whose token never
 * ends, as 1 MiB fragments (each awaited, so nothing piles up client-side); stops early once
 * the server closes. Resolves with the bytes sent.
 */
export async function sendHugeInit(socket: RawSocket, bytes: number): Promise<number> {
  await socket.opened();
  const chunk = Buffer.alloc(1024 * 1024, 'x');
  const write = (data: Buffer | string, fin: boolean) =>
    new Promise<boolean>((resolve) => socket.ws.send(data, { fin }, (error) => resolve(!error)));
  let sent = 0;
  const head = '{"type":"connection_init","payload":{"authorization":"';
  if (!(await write(head, false))) return sent;
  sent += head.length;
  while (sent + chunk.length < bytes && socket.ws.readyState === WebSocket.OPEN) {
    if (!(await write(chunk, false))) return sent;
    sent += chunk.length;
  }
  if (socket.ws.readyState === WebSocket.OPEN && (await write('"}}', true))) sent += 3;
  return sent;
}
