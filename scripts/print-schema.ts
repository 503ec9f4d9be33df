/** `npm run schema`: writes schema.graphql (sorted, with descriptions) from the code. */
import { writeFileSync } from 'node:fs';
import { printSortedSchema } from '../src/graphql/schema.js';

const target = new URL('../schema.graphql', import.meta.url);
writeFileSync(target, printSortedSchema());
process.stdout.write('schema.graphql written\n');
