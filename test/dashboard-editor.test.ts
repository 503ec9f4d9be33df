/**
 * The campaign editor in a real Chromium against a real Beacon on PostgreSQL, driven by
 * label like a person: create a campaign (sender by search, pasted ids, an inserted
 * variable), a template error shown at the Message field with the input kept, editing a
 * draft, no Edit for a completed campaign, and both viewport widths.
 */
import { describe, expect, it } from 'vitest';
import type { TestApp } from './helpers/app.js';
import { createCampaign, startCampaign, waitForCampaign } from './helpers/delivery.js';
import { hasHorizontalPageScroll, screenshot } from './helpers/browser.js';
import { PHONE, dashboardTestSetup, type DashboardSession } from './helpers/browser-setup.js';

let t: TestApp;
let base: string;
let signedIn: DashboardSession['signedIn'];

const campaignRow = (id: string) => t.app.db.prisma.campaign.findUniqueOrThrow({ where: { id } });

dashboardTestSetup(
  {
    prefix: 'editor',
    users: [
      { id: 'ann', name: 'Ann' },
      { id: 'bob', name: 'Bob' },
      { id: 'carla-sender', name: 'Carla Announcer' },
    ],
  },
  (session) => {
    ({ t, signedIn, base } = session);
  },
);

describe('campaign editor', () => {
  it('creates a campaign: sender by search, pasted user ids, a message with an inserted variable', async () => {
    const page = await signedIn('create', '/campaigns');
    await page.getByRole('button', { name: 'New campaign' }).click();
    await page.getByRole('heading', { name: 'New campaign' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('Editor launch');
    await page.getByLabel('Description', { exact: true }).fill('Made in the browser');
    await page.getByLabel('Sender', { exact: true }).fill('carl');
    await page.getByRole('button', { name: 'Carla Announcer (carla-sender)' }).click();
    await page.getByText('Sends as Carla Announcer (carla-sender)').waitFor();
    await page.getByLabel('User ids').fill('ann, bob\nann');
    await page.getByText('2 users').waitFor();
    const message = page.getByLabel('Message', { exact: true });
    await message.fill('Hello , welcome!');
    await message.evaluate((element: HTMLTextAreaElement) => element.setSelectionRange(6, 6));
    await page.getByLabel('Insert variable').selectOption('user.name');
    expect(await message.inputValue()).toBe('Hello {{user.name}}, welcome!');
    await page.getByLabel('Create channels').check();
    await page.getByLabel('Channel type').fill('messaging');
    await page.getByLabel('Sender mode').selectOption({ label: 'Include' });
    await page.getByLabel('Skip push').check();
    await screenshot(page, 'editor-new-1280x800');
    await page.getByRole('button', { name: 'Save' }).click();

    await page.getByRole('heading', { name: /Editor launch/ }).waitFor();
    await page.getByText('Hello {{user.name}}, welcome!').waitFor();
    const id = decodeURIComponent(new URL(page.url()).pathname.split('/')[2]!);
    const saved = await campaignRow(id);
    expect(saved).toMatchObject({
      name: 'Editor launch',
      description: 'Made in the browser',
      senderId: 'carla-sender',
      userIds: ['ann', 'bob'],
      createChannels: true,
      senderMode: 'INCLUDE',
      skipPush: true,
      skipWebhook: false,
      status: 'DRAFT',
    });
    expect(saved.channelTemplate).toMatchObject({ type: 'messaging', id: null });
    await page.context().close();
  });

  it('shows a template error at the Message field and keeps the input', async () => {
    const page = await signedIn('template-error', '/campaigns/new');
    await page.getByLabel('Name', { exact: true }).fill('Broken template');
    await page.getByLabel('Sender', { exact: true }).fill('ann');
    await page.getByRole('button', { name: 'Ann (ann)' }).click();
    // The matches close once one is chosen.
    await page.getByRole('button', { name: 'Ann (ann)' }).waitFor({ state: 'detached' });
    await page.getByLabel('User ids').fill('bob');
    await page.getByLabel('Message', { exact: true }).fill('Hi {{ process.exit(1) }}');
    await page.getByRole('button', { name: 'Save' }).click();

    const messageField = page.locator('.field').filter({ has: page.getByLabel('Message', { exact: true }) });
    const error = messageField.getByRole('alert');
    await error.waitFor();
    // In words, naming the field by its label rather than the input path.
    expect(await error.textContent()).toMatch(/^Message: .+/);
    expect(await error.textContent()).not.toContain('input.messageTemplate');
    await page.getByText('Not saved.').waitFor();
    expect(new URL(page.url()).pathname).toBe('/campaigns/new');
    expect(await page.getByLabel('Message', { exact: true }).inputValue()).toBe('Hi {{ process.exit(1) }}');
    expect(await page.getByLabel('Name', { exact: true }).inputValue()).toBe('Broken template');
    expect(await page.getByLabel('User ids').inputValue()).toBe('bob');
    await page.getByText('Sends as Ann (ann)').waitFor();
    await screenshot(page, 'editor-error-1280x800');
    expect(await t.app.db.prisma.campaign.count({ where: { name: 'Broken template' } })).toBe(0);

    // A missing name is shown at Name, in words.
    await page.getByLabel('Name', { exact: true }).fill('');
    await page.getByLabel('Message', { exact: true }).fill('Fine now');
    await page.getByRole('button', { name: 'Save' }).click();
    const nameError = page.locator('.field').filter({ has: page.getByLabel('Name', { exact: true }) }).getByRole('alert');
    await nameError.waitFor();
    expect(await nameError.textContent()).toContain('Name');
    expect(await messageField.getByRole('alert').count()).toBe(0);
    await page.context().close();
  });

  it('edits a draft campaign from the Edit action of its page', async () => {
    const id = await createCampaign(t, {
      name: 'Draft to rename',
      senderId: 'ann',
      userIds: ['bob'],
      messageTemplate: { text: 'Hi {{ user.name }}', custom: { tag: 'keep-me' } },
      skipWebhook: true,
    });
    const page = await signedIn('edit', `/campaigns/${id}`);
    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByRole('heading', { name: /Edit campaign/ }).waitFor();
    expect(new URL(page.url()).pathname).toBe(`/campaigns/${id}/edit`);
    const name = page.getByLabel('Name', { exact: true });
    expect(await name.inputValue()).toBe('Draft to rename');
    expect(await page.getByLabel('Message', { exact: true }).inputValue()).toBe('Hi {{ user.name }}');
    expect(await page.getByLabel('Skip webhooks').isChecked()).toBe(true);
    await name.fill('Renamed draft');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: /Renamed draft/ }).waitFor();
    expect(new URL(page.url()).pathname).toBe(`/campaigns/${id}`);
    const saved = await campaignRow(id);
    expect(saved).toMatchObject({ name: 'Renamed draft', senderId: 'ann', userIds: ['bob'], skipWebhook: true });
    // What the form does not show is sent back unchanged.
    expect(saved.messageTemplate).toMatchObject({ text: 'Hi {{ user.name }}', custom: { tag: 'keep-me' } });
    await page.context().close();
  });

  it('offers no Edit for a completed campaign', async () => {
    const id = await createCampaign(t, {
      name: 'Already sent',
      senderId: 'ann',
      userIds: ['bob'],
      createChannels: true,
      channelTemplate: { type: 'messaging' },
      messageTemplate: { text: 'Done' },
    });
    await startCampaign(t, id);
    await waitForCampaign(t, id, (c) => c.status === 'COMPLETED');
    const page = await signedIn('completed', `/campaigns/${id}`);
    await page.getByRole('heading', { name: /Already sent/ }).waitFor();
    await page.getByRole('button', { name: 'Delete' }).waitFor();
    expect(await page.getByRole('button', { name: 'Edit' }).count()).toBe(0);
    // The address typed by hand says why instead of showing a form.
    await page.goto(`${base}/campaigns/${id}/edit`);
    await page.getByText('can no longer be edited').waitFor();
    expect(await page.getByRole('button', { name: 'Save' }).count()).toBe(0);
    await page.context().close();
  });

  it('fits a phone: no horizontal page scroll, errors readable', async () => {
    const page = await signedIn('phone', '/campaigns/new', PHONE);
    await page.getByLabel('Name', { exact: true }).fill('A campaign with a rather long name to see it wrap on a phone');
    await page.getByLabel('Sender', { exact: true }).fill('c');
    await page.getByRole('button', { name: 'Carla Announcer (carla-sender)' }).waitFor();
    await page.getByLabel('Message', { exact: true }).fill('{{user.}}');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Not saved.').waitFor();
    expect(await hasHorizontalPageScroll(page)).toBe(false);
    await screenshot(page, 'editor-390x844');
    await page.context().close();
  });
});
