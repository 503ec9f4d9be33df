/**
 * Typed GraphQL subscriptions against a test app, over graphql-ws or SSE, collected into a
 * feed the test reads in order (`next`, `waitFor`) or in bulk (`settle`).
 */
import { print } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import type { GraphQLResponse, TestApp } from './app.js';

export interface Feed<R> {
  /** Every result received so far, in order. */
  readonly results: GraphQLResponse<R>[];
  /** Whether the stream ended (completed by the server, or failed). */
  readonly completed: boolean;
  /** Why the stream failed (e.g. a WebSocket close event), if it did. */
  readonly failure: unknown;
  /** The next unread result; fails after `timeoutMs`. */
  next(timeoutMs?: number): Promise<GraphQLResponse<R>>;
  /** Reads results until one matches; fails after `timeoutMs`. */
  waitFor(match: (result: GraphQLResponse<R>) => boolean, timeoutMs?: number): Promise<GraphQLResponse<R>>;
  /** Waits until nothing arrived for `quietMs`, then returns the unread results (marking them read). */
  settle(quietMs: number): Promise<GraphQLResponse<R>[]>;
  close(): Promise<void>;
}

/** Collects pushed results and lets the test await them. */
class Collector<R> implements Feed<R> {
  readonly results: GraphQLResponse<R>[] = [];
  completed = false;
  failure: unknown;
  private read = 0;
  private wake: (() => void) | undefined;

  constructor(private readonly stop: () => Promise<void>) {}

  push(result: GraphQLResponse<R>) {
    this.results.push(result);
    this.wake?.();
  }

  end(failure?: unknown) {
    this.completed = true;
    this.failure = failure;
    this.wake?.();
  }

  private changed(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve(false);
      }, timeoutMs);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve(true);
      };
    });
  }

  async next(timeoutMs = 5000): Promise<GraphQLResponse<R>> {
    const deadline = Date.now() + timeoutMs;
    while (this.read >= this.results.length) {
      if (this.completed) throw new Error(`subscription ended (${String(this.failure ?? 'complete')}) after ${this.results.length} results`);
      if (!(await this.changed(deadline - Date.now()))) throw new Error(`no result within ${timeoutMs} ms (got ${this.results.length})`);
    }
    return this.results[this.read++]!;
  }

  async waitFor(match: (result: GraphQLResponse<R>) => boolean, timeoutMs = 5000): Promise<GraphQLResponse<R>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const result = await this.next(Math.max(1, deadline - Date.now()));
      if (match(result)) return result;
    }
  }

  async settle(quietMs: number): Promise<GraphQLResponse<R>[]> {
    while (!this.completed && (await this.changed(quietMs)));
    const unread = this.results.slice(this.read);
    this.read = this.results.length;
    return unread;
  }

  close() {
    return this.stop();
  }
}

interface SubscribeOptions {
  /** Bearer token; null sends none. Default: the server token. */
  token?: string | null;
}

const bearer = (t: TestApp, options: SubscribeOptions) => {
  const token = options.token === undefined ? t.serverToken : options.token;
  return token ? `Bearer ${token}` : undefined;
};

/** Subscribes over graphql-ws (token in connectionParams.authorization). */
export function subscribeWs<R, V>(t: TestApp, document: TypedDocumentNode<R, V>, variables: V, options: SubscribeOptions = {}): Feed<R> {
  const authorization = bearer(t, options);
  const client = createClient({
    url: t.wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: authorization ? { authorization } : {},
    retryAttempts: 0,
  });
  const feed: Collector<R> = new Collector(async () => {
    unsubscribe();
    await client.dispose();
  });
  const unsubscribe = client.subscribe<R>(
    { query: print(document), variables: variables as Record<string, unknown> },
    {
      next: (result) => feed.push(result as GraphQLResponse<R>),
      error: (error) => feed.end(error),
      complete: () => feed.end(),
    },
  );
  return feed;
}

/** Subscribes over SSE: POST /graphql with `accept: text/event-stream`. */
export function subscribeSse<R, V>(t: TestApp, document: TypedDocumentNode<R, V>, variables: V, options: SubscribeOptions = {}): Feed<R> {
  const authorization = bearer(t, options);
  const abort = new AbortController();
  const feed = new Collector<R>(async () => abort.abort());
  void (async () => {
    const response = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...(authorization ? { authorization } : {}) },
      body: JSON.stringify({ query: print(document), variables }),
      signal: abort.signal,
    });
    // A refusal before the stream starts (401 without a token) is one GraphQL-shaped JSON result.
    if (!response.headers.get('content-type')?.startsWith('text/event-stream')) {
      feed.push((await response.json()) as GraphQLResponse<R>);
      return feed.end();
    }
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body! as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const message = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: *(.*)$/m.exec(message)?.[1];
        const data = message
          .split('\n')
          .filter((line) => line.startsWith('data:'))
          .map((line) => line.slice(5).trimStart())
          .join('\n');
        if (event === 'complete') return feed.end();
        if (data) feed.push(JSON.parse(data) as GraphQLResponse<R>);
      }
    }
    feed.end();
  })().catch((error: unknown) => feed.end(abort.signal.aborted ? undefined : error));
  return feed;
}
