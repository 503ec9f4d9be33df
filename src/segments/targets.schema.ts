/** SegmentTarget, `Segment.targets` (the live audience, paged) and segmentTargetExists. */
import type { Channel, PrismaClient, User } from '../generated/prisma/client.js';
import { builder } from '../graphql/builder.js';
import { countedConnection } from '../graphql/connections.js';
import type { SegmentKind } from './audience.js';
import { SegmentTargetFilter, SegmentTargetSort } from './inputs.js';
import { segmentSize, segmentTargetExists } from './service.js';
import { MAX_TARGET_PAGE, targetPage } from './target-page.js';

/**
 * The rows behind one page of targets. The first `user`/`channel` field resolved on the
 * page loads them for every id of the page in one query; the others share that load. Loads
 * are keyed by the Prisma selection, since aliases may select differently.
 */
class TargetRows {
  private readonly loads = new Map<string, Promise<Map<string, unknown>>>();
  constructor(
    private readonly prisma: PrismaClient,
    private readonly type: SegmentKind,
    private readonly ids: string[],
  ) {}

  /** The rows of the page of `kind` with this selection, or null when the segment targets the other kind. */
  private load(kind: SegmentKind, query: object): Promise<Map<string, unknown>> | null {
    // The key reads the selection first, which also tells plugin-prisma's onUnusedQuery
    // check that it was looked at when the other kind's field resolves to null.
    const key = `${kind}:${JSON.stringify(query)}`;
    if (kind !== this.type) return null;
    let load = this.loads.get(key);
    if (!load) {
      load =
        kind === 'USER'
          ? this.prisma.user.findMany({ ...query, where: { id: { in: this.ids } } }).then((rows) => new Map(rows.map((r) => [r.id, r])))
          : this.prisma.channel.findMany({ ...query, where: { cid: { in: this.ids } } }).then((rows) => new Map(rows.map((r) => [r.cid, r])));
      this.loads.set(key, load);
    }
    return load;
  }

  async user(query: object, id: string): Promise<User | null> {
    const rows = await this.load('USER', query);
    return (rows?.get(id) as User | undefined) ?? null;
  }

  async channel(query: object, cid: string): Promise<Channel | null> {
    const rows = await this.load('CHANNEL', query);
    return (rows?.get(cid) as Channel | undefined) ?? null;
  }
}

interface TargetNode {
  id: string;
  rows: TargetRows;
}

const SegmentTarget = builder.objectRef<TargetNode>('SegmentTarget').implement({
  description: 'One member of a segment’s live audience: a user (USER segments) or a channel (CHANNEL segments).',
  fields: (t) => ({
    id: t.id({ description: 'The user id or channel cid.', resolve: (node) => node.id }),
    user: t.prismaField({
      type: 'User',
      nullable: true,
      description: 'The user (USER segments; null for CHANNEL segments). Loaded for the whole page in one query.',
      resolve: (query, node) => node.rows.user(query, node.id),
    }),
    channel: t.prismaField({
      type: 'Channel',
      nullable: true,
      description: 'The channel (CHANNEL segments; null for USER segments). Loaded for the whole page in one query.',
      resolve: (query, node) => node.rows.channel(query, node.id),
    }),
  }),
});

const SegmentTargetConnection = countedConnection('SegmentTarget', SegmentTarget, 'targets of the segment');

builder.prismaObjectField('Segment', 'targets', (t) =>
  t.field({
    type: SegmentTargetConnection,
    description:
      'The live audience — explicit targets that still exist ∪ the rule — ordered by id and keyset-paged. ' +
      'totalCount is the size (or, with a filter, the matching count).',
    args: {
      filter: t.arg({ type: SegmentTargetFilter, description: 'Conditions on the targets.' }),
      sort: t.arg({ type: [SegmentTargetSort], description: 'Order by id, ASC (default) or DESC.' }),
      first: t.arg.int({ description: `Page size forward (default 100, at most ${MAX_TARGET_PAGE.toLocaleString('en')}).` }),
      after: t.arg.string({ description: 'Cursor to page forward from.' }),
      last: t.arg.int({ description: `Page size backward (at most ${MAX_TARGET_PAGE.toLocaleString('en')}).` }),
      before: t.arg.string({ description: 'Cursor to page backward from.' }),
    },
    resolve: async (segment, args, ctx) => {
      const page = await targetPage(ctx.prisma, segment, args, () => segmentSize(ctx.prisma, segment));
      const rows = new TargetRows(ctx.prisma, segment.type, page.edges.map((e) => e.node));
      return { ...page, edges: page.edges.map((e) => ({ cursor: e.cursor, node: { id: e.node, rows } })) };
    },
  }),
);

builder.queryField('segmentTargetExists', (t) =>
  t.boolean({
    description: 'Whether a user id or channel cid is in the segment’s live audience (explicit targets ∪ rule).',
    args: {
      segmentId: t.arg.id({ required: true, description: 'Segment id.' }),
      targetId: t.arg.id({ required: true, description: 'User id (USER segments) or channel cid (CHANNEL segments).' }),
    },
    resolve: (_root, args, ctx) => segmentTargetExists(ctx.prisma, String(args.segmentId), String(args.targetId)),
  }),
);
