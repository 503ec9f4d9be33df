/** User type, its inputs, and the user queries and mutations (spec §1). */
import { builder } from '../graphql/builder.js';
import { errorsOf } from '../graphql/errors.js';
import { countedConnection, inKeyOrder } from '../graphql/connections.js';
import { jsonListArgs, resolveJsonList } from '../graphql/json-list.js';
import { deleteUsers, upsertUsers } from './users.service.js';

export const User = builder.prismaObject('User', {
  description: 'A user of the chat application.',
  // Select mode: a user loads the columns its selection asks for (every field below exposes
  // one) — a recipients page of 50 asks for id and name, not the custom data and dates.
  select: { id: true },
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The id chosen by the chat application.' }),
    name: t.exposeString('name', { nullable: true, description: 'Display name.' }),
    role: t.exposeString('role', { description: 'Role, `user` unless set.' }),
    language: t.exposeString('language', { nullable: true, description: 'Preferred language code, e.g. `nl`.' }),
    teams: t.exposeStringList('teams', { description: 'Teams the user belongs to.' }),
    custom: t.expose('custom', { type: 'JSON', description: 'Custom data, any nested JSON object.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the user was first upserted.' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When the user was last changed.' }),
  }),
});

export const UserConnection = countedConnection('User', User, 'users');

const UserInput = builder.inputType('UserInput', {
  description: 'A user to insert or replace whole: fields left out take their defaults.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'Id chosen by the application (≤128 of letters, digits, @ . _ - !).' }),
    name: t.string({ description: 'Display name (≤256).' }),
    role: t.string({ description: 'Role (default `user`).' }),
    language: t.string({ description: 'Language code (≤16).' }),
    teams: t.stringList({ description: 'Teams (≤100, each ≤64).' }),
    custom: t.field({ type: 'JSON', description: 'Custom data: a JSON object of at most 8 KB.' }),
  }),
});

const UpsertUsersPayload = builder.simpleObject('UpsertUsersPayload', {
  description: 'Result of upsertUsers.',
  fields: (t) => ({ userIds: t.idList({ description: 'Ids of the users written, in input order.' }) }),
});
builder.objectField(UpsertUsersPayload, 'users', (t) =>
  t.prismaField({
    type: ['User'],
    description: 'The users written, in input order.',
    resolve: async (query, payload, _args, ctx) =>
      inKeyOrder(payload.userIds, await ctx.prisma.user.findMany({ ...query, where: { id: { in: [...payload.userIds] } } }), (u) => u.id),
  }),
);

const DeleteUsersPayload = builder.simpleObject('DeleteUsersPayload', {
  description: 'Result of deleteUsers.',
  fields: (t) => ({ deletedIds: t.idList({ description: 'Ids that existed and were deleted.' }) }),
});

builder.queryFields((t) => ({
  user: t.prismaField({
    type: 'User',
    nullable: true,
    description: 'One user by id, or null.',
    args: { id: t.arg.id({ required: true, description: 'User id.' }) },
    resolve: (query, _root, args, ctx) => ctx.prisma.user.findUnique({ ...query, where: { id: String(args.id) } }),
  }),
  users: t.field({
    type: UserConnection,
    description: 'Users matching a filter in the operator syntax, keyset-paged.',
    args: jsonListArgs('{"role": "admin", "age": {"$gte": 18}}'),
    resolve: (_root, args, ctx, info) =>
      resolveJsonList(
        { entity: 'user', typeName: 'User', load: (query, keys) => ctx.prisma.user.findMany({ ...query, where: { id: { in: keys } } }), keyOf: (u) => u.id },
        args,
        ctx,
        info,
      ),
  }),
}));

builder.mutationFields((t) => ({
  upsertUsers: t.field({
    type: UpsertUsersPayload,
    description: 'Inserts or replaces up to 1,000 users in one transaction.',
    errors: errorsOf('VALIDATION'),
    args: { users: t.arg({ type: [UserInput], required: true, description: 'The users (1 to 1,000, distinct ids).' }) },
    resolve: async (_root, args, ctx) => ({ userIds: await upsertUsers(ctx.prisma, args.users) }),
  }),
  deleteUsers: t.field({
    type: DeleteUsersPayload,
    description: 'Deletes users and their memberships; their messages stay, without a sender.',
    errors: errorsOf('VALIDATION'),
    args: { ids: t.arg.idList({ required: true, description: 'User ids (1 to 1,000).' }) },
    resolve: async (_root, args, ctx) => ({ deletedIds: await deleteUsers(ctx.prisma, args.ids.map(String)) }),
  }),
}));
