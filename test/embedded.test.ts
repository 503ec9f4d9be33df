import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { print } from 'graphql';
import { describe, expect, test } from 'vitest';
import { loadConfig } from '../src/config.js';
import { startApp } from '../src/app.js';
import { signServerToken } from '../src/auth/tokens.js';
import { CampaignProgressDocument, CreateCampaignDocument, StartCampaignDocument, UpsertUsersDocument, UsersDocument } from './generated/graphql.js';

async function post(url: string, token: string, query: string, variables: Record<string, unknown>) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data: any; errors?: unknown };
}

describe('embedded PostgreSQL (no DATABASE_URL)', () => {
  test('starts on PGlite in the data folder, keeps data and the secret across a restart, migrates once', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'beacon-embedded-'));
    const config = loadConfig({ BEACON_DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'silent' });
    expect(config.databaseUrl).toBeUndefined();

    const first = await startApp(config);
    try {
      expect(first.db.embedded).toBe(true);
      const token = await signServerToken(first.apiSecret);
      const written = await post(first.api!.url, token, print(UpsertUsersDocument), { users: [{ id: 'kept', custom: { plan: 'pro' } }] });
      expect(written.errors).toBeUndefined();
      expect(written.data.upsertUsers.users[0].id).toBe('kept');
      const health = await fetch(first.api!.url.replace('/graphql', '/healthz'));
      expect(health.status).toBe(200);
    } finally {
      await first.stop();
    }
    const secret = readFileSync(join(dataDir, 'api-secret'), 'utf8').trim();
    expect(secret.length).toBeGreaterThanOrEqual(16);

    const second = await startApp(config);
    try {
      expect(second.apiSecret).toBe(secret);
      const migrations = await second.db.pool.query('SELECT migration_name FROM _prisma_migrations');
      const names = migrations.rows.map((r: { migration_name: string }) => r.migration_name);
      expect(new Set(names).size).toBe(names.length); // each applied once, not again on restart
      const token = await signServerToken(second.apiSecret);
      const read = await post(second.api!.url, token, print(UsersDocument), { filter: { plan: 'pro' } });
      expect(read.data.users.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual(['kept']);
    } finally {
      await second.stop();
    }
  });

  test('delivers a campaign on the embedded database (one session, polling jobs)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'beacon-embedded-'));
    const app = await startApp(loadConfig({ BEACON_DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'silent', BEACON_JOB_POLL_MS: '100', BEACON_DELIVERY_BATCH_SIZE: '7' }));
    try {
      const token = await signServerToken(app.apiSecret);
      const url = app.api!.url;
      const users = Array.from({ length: 40 }, (_, i) => ({ id: `e${i}`, name: `E${i}` }));
      await post(url, token, print(UpsertUsersDocument), { users: [{ id: 'boss', name: 'Boss' }, ...users] });
      const created = await post(url, token, print(CreateCampaignDocument), {
        input: { name: 'Embedded', senderId: 'boss', userIds: users.map((u) => u.id), createChannels: true, channelTemplate: { type: 'messaging' }, messageTemplate: { text: 'Hi {{user.name}}' } },
      });
      const id = created.data.createCampaign.campaign.id as string;
      const started = await post(url, token, print(StartCampaignDocument), { id });
      expect(started.data.startCampaign.__typename).toBe('StartCampaignPayload');
      let campaign: any;
      for (let i = 0; i < 200; i += 1) {
        campaign = (await post(url, token, print(CampaignProgressDocument), { id })).data.campaign;
        if (campaign.status !== 'IN_PROGRESS') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(campaign).toMatchObject({ status: 'COMPLETED', stats: { messagesSent: 40, recipientsTotal: 40 } });
      const messages = await app.db.pool.query('SELECT count(*)::int AS n, count(DISTINCT channel_cid)::int AS channels FROM messages WHERE campaign_id = $1', [id]);
      expect(messages.rows[0]).toEqual({ n: 40, channels: 40 });
    } finally {
      await app.stop();
    }
  });
});
