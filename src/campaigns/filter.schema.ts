/** `CampaignFilter` and `CampaignSort`, the inputs of the campaign lists (compiled by filter.ts). */
import { builder } from '../graphql/builder.js';
import { sortInput } from '../graphql/sort-input.js';
import { DateTimeFilter, IDFilter, StringFilter, enumFilter, logicalFields } from '../graphql/typed-filters.js';
import { CampaignStatusEnum } from './enums.js';
import { CAMPAIGN_SORT_FIELDS, type CampaignFilterShape } from './filter.js';

const CampaignStatusFilter = enumFilter('CampaignStatus', CampaignStatusEnum);

export const CampaignFilter = builder.inputRef<CampaignFilterShape>('CampaignFilter').implement({
  description: 'Conditions on campaigns; several fields are ANDed.',
  fields: (t) => ({
    id: t.field({ type: IDFilter, description: 'Campaign id.' }),
    name: t.field({ type: StringFilter, description: 'Name (`autocomplete` for a prefix).' }),
    status: t.field({ type: CampaignStatusFilter, description: 'Lifecycle status.' }),
    senderId: t.field({ type: IDFilter, description: 'Id of the sending user (missing once the sender is deleted).' }),
    segments: t.field({
      type: IDFilter,
      description: 'Segment ids: `eq`/`in` match campaigns using any of them, `ne`/`nin` those using none, `exists` those with any segment.',
    }),
    createdAt: t.field({ type: DateTimeFilter, description: 'When the campaign was created.' }),
    updatedAt: t.field({ type: DateTimeFilter, description: 'When the campaign was last changed.' }),
    scheduledFor: t.field({ type: DateTimeFilter, description: 'When delivery is scheduled to begin (missing unless started with a time).' }),
    ...logicalFields(t, CampaignFilter, 'campaign'),
  }),
});

export const CampaignSort = sortInput('Campaign', CAMPAIGN_SORT_FIELDS);
