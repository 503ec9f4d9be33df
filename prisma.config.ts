import { defineConfig } from 'prisma/config';

// The CLI is only used for `prisma generate`; migrations are written and applied by
// Beacon's own scripts (see README), so no URL is needed here at generate time.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://localhost/beacon' },
});
