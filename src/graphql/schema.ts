/** Assembles the schema: imports every domain's schema file, then builds. */
import { lexicographicSortSchema, printSchema } from 'graphql';
import { builder } from './builder.js';
import './root.js';
import './errors.js';
import '../chat/users.schema.js';
import '../chat/channels.schema.js';
import '../chat/messages.schema.js';
import '../filters/typed.js';
import '../segments/schema.js';
import '../campaigns/schema.js';
import '../campaigns/test-send.schema.js';
import '../campaigns/timeline.schema.js';
import '../campaigns/preview.schema.js';
import '../campaigns/lifecycle.schema.js';
import '../recipients/schema.js';
import '../events/campaign-updated.schema.js';

/** The executable schema. */
export const schema = builder.toSchema();

/** SDL of the schema, types sorted by name so the committed file is stable. */
export function printSortedSchema(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
