import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { isObjectType, isInterfaceType, isInputObjectType, isEnumType, isUnionType, type GraphQLNamedType } from 'graphql';
import { printSortedSchema, schema } from '../src/graphql/schema.js';

describe('schema.graphql', () => {
  test('the committed file matches the code (run `npm run schema` after changing the schema)', () => {
    const committed = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');
    expect(committed).toBe(printSortedSchema());
  });

  test('every type and field carries a description', () => {
    const missing: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name.startsWith('__') || ['String', 'Int', 'Float', 'Boolean', 'ID'].includes(type.name)) continue;
      if (!type.description) missing.push(type.name);
      if (isObjectType(type) || isInterfaceType(type) || isInputObjectType(type)) {
        for (const field of Object.values(type.getFields())) {
          if (!field.description) missing.push(`${type.name}.${field.name}`);
        }
      }
      if (isEnumType(type)) {
        for (const value of type.getValues()) if (!value.description) missing.push(`${type.name}.${value.name}`);
      }
    }
    expect(missing).toEqual([]);
  });
});

/** The schema's named types, without graphql's own. */
function ownTypes(): GraphQLNamedType[] {
  return Object.values(schema.getTypeMap()).filter((type) => !type.name.startsWith('__'));
}

describe('schema naming conventions (the names the dashboard and clients build on)', () => {
  test('enum values are ALL_CAPS (older spellings may stay only as deprecated values)', () => {
    const offending = ownTypes()
      .filter(isEnumType)
      .flatMap((type) => type.getValues().filter((v) => !v.deprecationReason && !/^[A-Z][A-Z0-9_]*$/.test(v.name)).map((v) => `${type.name}.${v.name}`));
    expect(offending).toEqual([]);
  });

  test('payload fields never collide with the fields of Error (message, code, path) unless deprecated', () => {
    const error = schema.getType('Error');
    if (!isInterfaceType(error)) throw new Error('Error is not an interface');
    const errorFields = Object.keys(error.getFields());
    expect(errorFields.sort()).toEqual(['code', 'message', 'path']);
    const offending = ownTypes()
      .filter(isObjectType)
      .filter((type) => type.name.endsWith('Payload'))
      .flatMap((type) => Object.values(type.getFields()).filter((f) => errorFields.includes(f.name) && !f.deprecationReason).map((f) => `${type.name}.${f.name}`));
    expect(offending).toEqual([]);
  });

  test('delete payloads name what went: deletedId (one) or deletedIds (several, with deletedCount)', () => {
    const deletes = ownTypes().filter(isObjectType).filter((type) => /^Delete\w+Payload$/.test(type.name));
    expect(deletes.length).toBeGreaterThanOrEqual(4);
    for (const type of deletes) {
      const fields = Object.keys(type.getFields()).sort();
      expect([['deletedId'], ['deletedIds'], ['deletedCount', 'deletedIds']], type.name).toContainEqual(fields);
    }
  });

  test('every mutation returns <Mutation>Result = <Mutation>Payload | the errors it can return, each implementing Error', () => {
    const mutations = schema.getMutationType()!.getFields();
    const unions: Record<string, string[]> = {};
    for (const [name, field] of Object.entries(mutations)) {
      const type = field.type.toString().replace(/!$/, '');
      const pascal = name.charAt(0).toUpperCase() + name.slice(1);
      expect(type, name).toBe(`${pascal}Result`);
      const union = schema.getType(type);
      if (!isUnionType(union)) throw new Error(`${type} is not a union`);
      const members = union.getTypes().map((t) => t.name);
      expect(members, name).toContain(`${pascal}Payload`);
      const errors = members.filter((m) => m !== `${pascal}Payload`);
      for (const error of errors) {
        const type = schema.getType(error);
        expect(isObjectType(type) && type.getInterfaces().map((i) => i.name), error).toEqual(['Error']);
      }
      unions[name] = errors.sort();
    }
    // Pinned: a mutation lists exactly the failures its service can produce (read from the
    // services). Widening one is a schema change a client sees; make it on purpose.
    expect(unions).toEqual({
      addChannelMembers: ['NotFoundError', 'ValidationError'],
      addSegmentTargets: ['NotFoundError', 'ValidationError'],
      createCampaign: ['ConflictError', 'ValidationError'],
      createChannel: ['ValidationError'],
      createSegment: ['ConflictError', 'ValidationError'],
      deleteCampaign: ['InvalidStateError', 'NotFoundError'],
      deleteRecipients: ['InvalidStateError', 'ValidationError'],
      deleteSegment: ['ConflictError', 'NotFoundError'],
      deleteUsers: ['ValidationError'],
      markChannelRead: ['NotFoundError', 'ValidationError'],
      removeSegmentTargets: ['NotFoundError', 'ValidationError'],
      resumeCampaign: ['InvalidStateError', 'NotFoundError'],
      retryFailedRecipients: ['InvalidStateError', 'NotFoundError'],
      sendMessage: ['NotFoundError', 'ValidationError'],
      startCampaign: ['InvalidStateError', 'NotFoundError', 'ValidationError'],
      stopCampaign: ['InvalidStateError', 'NotFoundError'],
      testCampaign: ['InvalidStateError', 'NotFoundError', 'ValidationError'],
      updateCampaign: ['InvalidStateError', 'NotFoundError', 'ValidationError'],
      updateSegment: ['NotFoundError', 'ValidationError'],
      upsertUsers: ['ValidationError'],
    });
  });
});
