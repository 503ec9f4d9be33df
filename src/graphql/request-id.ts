/**
 * Every request gets an id: the caller's `x-request-id` when it is a plain token (letters,
 * digits, `._:+/=-`, at most 128 characters, so it is safe in a header and a log line), else
 * a new UUID. It is in the context (`requestId`), on INTERNAL errors and their log lines
 * (src/graphql/errors.ts), and in the response's `x-request-id` header. A WebSocket operation
 * has no request of its own, so each one gets a new id.
 */
import { randomUUID } from 'node:crypto';
import type { Plugin } from 'graphql-yoga';

const HEADER = 'x-request-id';
const SANE = /^[\w.:+/=-]{1,128}$/;
const ids = new WeakMap<Request, string>();

/** The id of `request` (the same for every call with it); a new one without a request. */
export function requestIdOf(request: Request | undefined): string {
  if (!request) return randomUUID();
  let id = ids.get(request);
  if (!id) {
    const given = request.headers.get(HEADER);
    id = given && SANE.test(given) ? given : randomUUID();
    ids.set(request, id);
  }
  return id;
}

/** Returns the request id as the `x-request-id` response header (also for GraphiQL and errors before execution). */
export const useRequestId: Plugin = {
  onResponse({ request, response }) {
    response.headers.set(HEADER, requestIdOf(request));
  },
};
