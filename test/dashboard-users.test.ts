/**
 * The Users pages in a real Chromium against a real Beacon on PostgreSQL, driven by label:
 * search by name, the segment filter builder narrowing the list (with the count and the
 * API's words for an invalid filter), a user's page with their channel and a campaign that
 * reached them, the channel's page with the campaign's message, and phone width.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from './helpers/app.js';
import { createChannel, runCampaign } from './helpers/delivery-extra.js';
import { hasHorizontalPageScroll, screenshot } from './helpers/browser.js';
import { DESKTOP, PHONE, dashboardTestSetup, type DashboardSession } from './helpers/browser-setup.js';

let t: TestApp;
let signedIn: DashboardSession['signedIn'];
let campaignId: string;
let cid: string;

dashboardTestSetup(
  {
    prefix: 'users',
    users: [
      { id: 'ann', name: 'Ann Jansen', custom: { address: { city: 'Delft' }, plan: 'gold' } },
      { id: 'bob', name: 'Bob de Vries', role: 'admin', custom: { address: { city: 'Delft' }, plan: 'free' } },
      { id: 'cas', name: 'Cas Smit', custom: { address: { city: 'Utrecht' }, plan: 'gold' } },
      { id: 'sender', name: 'Support Team' },
    ],
  },
  (session) => {
    ({ t, signedIn } = session);
  },
);

beforeAll(async () => {
  ({ id: campaignId } = await runCampaign(t, {
    name: 'Welcome Ann',
    senderId: 'sender',
    userIds: ['ann'],
    createChannels: true,
    channelTemplate: { type: 'messaging' },
    messageTemplate: { text: 'Hello {{user.name}}, welcome aboard' },
  }));
  const message = await t.app.db.prisma.message.findFirstOrThrow({ where: { campaignId } });
  cid = message.channelCid;
}, 60_000);

const userRows = (page: Awaited<ReturnType<typeof signedIn>>) => page.getByRole('table', { name: 'Users' }).getByRole('row');

describe('users pages', () => {
  it('searches by name and narrows with the filter builder, showing the count', async () => {
    const page = await signedIn('search', '/users');
    await page.getByRole('heading', { name: 'Users', exact: true }).waitFor();
    await page.getByText('4 users').waitFor();
    await page.getByLabel('Search users').fill('jans');
    await page.getByText('1 user', { exact: true }).waitFor();
    expect(await userRows(page).getByRole('link').allTextContents()).toEqual(['Ann Jansen']);
    await page.getByLabel('Search users').fill('');
    await page.getByText('4 users').waitFor();

    const builder = page.getByRole('group', { name: 'All conditions' });
    await builder.getByRole('button', { name: 'Add condition' }).click();
    // A condition with no field yet leaves the list as it was.
    await page.getByLabel('Field', { exact: true }).fill('address.city');
    await page.getByLabel('Value', { exact: true }).fill('Delft');
    await page.getByText('2 users').waitFor();
    await builder.getByRole('button', { name: 'Add condition' }).last().click();
    await page.getByLabel('Field', { exact: true }).nth(1).fill('plan');
    await page.getByLabel('Value', { exact: true }).nth(1).fill('gold');
    await page.getByText('1 user', { exact: true }).waitFor();
    expect(await userRows(page).getByRole('link').allTextContents()).toEqual(['Ann Jansen']);
    await screenshot(page, 'users-filter-1280x800');

    // An invalid filter: the API's validation message, in words, naming the path.
    await page.getByLabel('Operator', { exact: true }).nth(1).selectOption('$gt');
    await page.getByLabel('Value type', { exact: true }).nth(1).selectOption('list');
    await page.getByLabel('Value', { exact: true }).nth(1).fill('a, b');
    const alert = page.getByRole('alert').filter({ hasText: 'Could not load the users.' });
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/plan/);
    await screenshot(page, 'users-filter-error-1280x800');

    await page.getByRole('button', { name: 'Remove condition' }).nth(1).click();
    await page.getByText('2 users').waitFor();
    await userRows(page).getByRole('link', { name: 'Bob de Vries' }).click();
    await page.getByRole('heading', { name: 'Bob de Vries' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/users/bob');
    await page.close();
  });

  it("shows a user's profile, channel and the campaign that reached them, and opens the channel", async () => {
    const page = await signedIn('user', '/users/ann');
    await page.getByRole('heading', { name: 'Ann Jansen' }).waitFor();
    const profile = page.getByRole('region', { name: 'Profile' });
    await profile.getByText('address.city').waitFor();
    await profile.getByText('"Delft"').waitFor();

    const channels = page.getByRole('region', { name: 'Channels' });
    await channels.getByText('1 channel', { exact: true }).waitFor();
    const campaigns = page.getByRole('region', { name: 'Campaigns' });
    const row = campaigns.getByRole('row').filter({ has: page.getByRole('link', { name: 'Welcome Ann' }) });
    await row.getByText('Sent', { exact: true }).waitFor();
    expect(await row.getByRole('link', { name: 'Welcome Ann' }).getAttribute('href')).toBe(`/campaigns/${campaignId}`);
    await screenshot(page, 'users-user-1280x800');

    await channels.getByRole('link', { name: cid }).click();
    await page.getByRole('heading', { name: `Channel ${cid}` }).waitFor();
    expect(new URL(page.url()).pathname).toBe(`/channels/${encodeURIComponent(cid)}`);
    const members = page.getByRole('list', { name: 'Members' });
    await members.getByRole('link', { name: 'Support Team' }).waitFor();
    await members.getByRole('link', { name: 'Ann Jansen' }).waitFor();
    const messages = page.getByRole('list', { name: 'Messages, newest first' });
    await messages.getByText('Hello Ann Jansen, welcome aboard').waitFor();
    await screenshot(page, 'users-channel-1280x800');
    await members.getByRole('link', { name: 'Ann Jansen' }).click();
    await page.getByRole('heading', { name: 'Ann Jansen' }).waitFor();
    await page.close();
  });

  it("pages a channel's messages newest first", async () => {
    const team = await createChannel(t, { type: 'team', id: 'general', members: ['bob', 'cas'], createdById: 'bob' });
    const start = Date.now() - 60_000;
    await t.app.db.prisma.message.createMany({
      data: Array.from({ length: 30 }, (_, i) => ({ id: `note-${i + 1}`, channelCid: team, userId: 'bob', text: `Note ${i + 1}`, createdAt: new Date(start + i * 1000) })),
    });
    const page = await signedIn('messages', `/channels/${encodeURIComponent(team)}`);
    await page.getByRole('heading', { name: `Channel ${team}` }).waitFor();
    const texts = () => page.getByRole('list', { name: 'Messages, newest first' }).locator('p.message').allTextContents();
    await page.getByText('30 messages').waitFor();
    const first = await texts();
    expect(first).toHaveLength(25);
    expect([first[0], first[24]]).toEqual(['Note 30', 'Note 6']);
    await page.getByRole('button', { name: 'Next page' }).click();
    await page.getByText('Note 1', { exact: true }).waitFor();
    expect(await texts()).toEqual(['Note 5', 'Note 4', 'Note 3', 'Note 2', 'Note 1']);
    expect(await page.getByRole('button', { name: 'Next page' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Previous page' }).click();
    await page.getByText('Note 30', { exact: true }).waitFor();
    await page.close();
  });

  it('says so for an unknown user or channel', async () => {
    const page = await signedIn('unknown', '/users/nobody');
    await page.getByRole('heading', { name: 'User not found' }).waitFor();
    await page.goto(page.url().replace('/users/nobody', `/channels/${encodeURIComponent('messaging:nothing')}`));
    await page.getByRole('heading', { name: 'Channel not found' }).waitFor();
    await page.getByText('messaging:nothing').waitFor();
    await page.close();
  });

  it('fits a phone: no sideways page scroll on the list, a user and a channel', async () => {
    for (const [viewport, name] of [
      [PHONE, '390x844'],
      [DESKTOP, '1280x800'],
    ] as const) {
      const page = await signedIn(`fit-${name}`, '/users', viewport);
      await page.getByText('4 users').waitFor();
      await page.getByRole('group', { name: 'All conditions' }).getByRole('button', { name: 'Add condition' }).click();
      await screenshot(page, `users-list-${name}`);
      expect(await hasHorizontalPageScroll(page)).toBe(false);
      await page.getByLabel('Search users').fill('ann');
      await userRows(page).getByRole('link', { name: 'Ann Jansen' }).click();
      await page.getByRole('region', { name: 'Campaigns' }).getByRole('link', { name: 'Welcome Ann' }).waitFor();
      await screenshot(page, `users-user-${name}`);
      expect(await hasHorizontalPageScroll(page)).toBe(false);
      await page.getByRole('region', { name: 'Channels' }).getByRole('link', { name: cid }).click();
      await page.getByText('Hello Ann Jansen, welcome aboard').waitFor();
      await screenshot(page, `users-channel-${name}`);
      expect(await hasHorizontalPageScroll(page)).toBe(false);
      await page.close();
    }
  });
});
