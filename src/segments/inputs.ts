/** The SegmentType enum and the input types of segment queries and mutations. */
import type { InputFieldBuilder, InputObjectRef } from '@pothos/core';
import { builder } from '../graphql/builder.js';
import { DateTimeFilter, IDFilter, IDSearchFilter, StringFilter, enumFilter, logicalFields } from '../graphql/typed-filters.js';
import { sortInput } from '../graphql/sort-input.js';
import type { SegmentKind } from './audience.js';
import type { CreateSegmentInput as CreateShape, SegmentFilterShape, UpdateSegmentInput as UpdateShape } from './service.js';
import type { SegmentTargetFilterShape } from './target-page.js';

export const SegmentType = builder.enumType('SegmentType', {
  description: 'What a segment targets.',
  values: {
    USER: { description: 'Users: targets are user ids, rules are a user filter or allUsers.' },
    CHANNEL: { description: 'Channels: targets are channel cids, rules are a channel filter or allSenderChannels.' },
  } as const,
});

const SegmentTypeFilter = enumFilter<SegmentKind>('SegmentType', SegmentType);

export const SegmentFilter: InputObjectRef<any, SegmentFilterShape> = builder.inputRef<SegmentFilterShape>('SegmentFilter').implement({
  description: 'Conditions on segments; several are ANDed.',
  fields: (t) => ({
    id: t.field({ type: IDFilter, description: 'Segment id.' }),
    name: t.field({ type: StringFilter, description: 'Name (autocomplete: case-insensitive prefix).' }),
    type: t.field({ type: SegmentTypeFilter, description: 'USER or CHANNEL.' }),
    createdAt: t.field({ type: DateTimeFilter, description: 'When the segment was created.' }),
    updatedAt: t.field({ type: DateTimeFilter, description: 'When the segment or its targets last changed.' }),
    ...logicalFields(t, SegmentFilter, 'segment'),
  }),
});

export const SegmentSort = sortInput('Segment', {
  name: 'Name.',
  createdAt: 'Creation time (the default order).',
  updatedAt: 'Time of the last change.',
  size: 'Audience size, as last computed (refreshed before sorting when at most 1,000 segments match the filter).',
});

export const SegmentTargetFilter: InputObjectRef<any, SegmentTargetFilterShape> = builder
  .inputRef<SegmentTargetFilterShape>('SegmentTargetFilter')
  .implement({
    description: 'Conditions on the targets of a segment; several are ANDed.',
    fields: (t) => ({
      id: t.field({ type: IDSearchFilter, description: 'Target id: a user id or a channel cid (`autocomplete` for a case-insensitive prefix).' }),
      ...logicalFields(t, SegmentTargetFilter, 'target'),
    }),
  });

export const SegmentTargetSort = sortInput('SegmentTarget', { id: 'Target id (the default order, ascending).' });

const ruleFields = (t: InputFieldBuilder<any, 'InputObject'>) => ({
  filter: t.field({
    type: 'JSON',
    description: 'Rule: an operator filter over users or channels (spec §2), e.g. {"age": {"$gte": 18}}. Excludes the other rules.',
  }),
  allUsers: t.boolean({ description: 'Rule (USER segments): every user. Excludes the other rules.' }),
  allSenderChannels: t.boolean({
    description: 'Rule (CHANNEL segments): every channel the sending campaign’s sender is a member of. Excludes the other rules.',
  }),
});

export const CreateSegmentInput = builder.inputRef<CreateShape>('CreateSegmentInput').implement({
  description: 'A new segment: explicit targets plus at most one rule.',
  fields: (t) => ({
    id: t.id({ description: 'Id (≤128 of letters, digits, @ . _ - !); a UUID is generated when left out. Must be unused.' }),
    type: t.field({ type: SegmentType, required: true, description: 'USER or CHANNEL; cannot change later.' }),
    name: t.string({ required: true, description: 'Name, 1 to 128 characters.' }),
    description: t.string({ description: 'Description, at most 256 characters.' }),
    ...ruleFields(t),
    targetIds: t.idList({ description: 'Explicit targets: existing user ids (USER) or channel cids (CHANNEL), at most 10,000.' }),
  }),
});

export const UpdateSegmentInput = builder.inputRef<UpdateShape>('UpdateSegmentInput').implement({
  description: 'Changes to a segment; fields left out stay as they are, `filter: null` removes the filter. The result may hold at most one rule.',
  fields: (t) => ({
    type: t.field({ type: SegmentType, description: 'Optional; must equal the current type, which cannot change.' }),
    name: t.string({ description: 'New name, 1 to 128 characters.' }),
    description: t.string({ description: 'New description (≤256); null clears it.' }),
    ...ruleFields(t),
  }),
});
