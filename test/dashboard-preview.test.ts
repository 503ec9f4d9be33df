/**
 * The editor's Preview and the campaign page's timeline chart in a real Chromium against a
 * real Beacon on PostgreSQL, driven by role and label like a person: a personalized preview
 * names its user, a template error shows at Message, and a completed campaign's chart has
 * its bars and counts its messages; both viewport widths without sideways page scroll.
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { TestApp } from './helpers/app.js';
import { createCampaign, startCampaign, waitForCampaign } from './helpers/delivery.js';
import { hasHorizontalPageScroll, screenshot } from './helpers/browser.js';
import { DESKTOP, PHONE, dashboardTestSetup, type DashboardSession } from './helpers/browser-setup.js';

let t: TestApp;
let signedIn: DashboardSession['signedIn'];

/** Fills a new campaign's form up to its Message: sender Carla, audience ann, new 1:1 channels. */
async function draft(page: Page, message: string): Promise<void> {
  await page.getByLabel('Name', { exact: true }).fill('Previewed');
  await page.getByLabel('Sender', { exact: true }).fill('carl');
  await page.getByRole('button', { name: 'Carla Announcer (carla-sender)' }).click();
  await page.getByText('Sends as Carla Announcer (carla-sender)').waitFor();
  await page.getByLabel('User ids').fill('ann');
  await page.getByLabel('Message', { exact: true }).fill(message);
  await page.getByLabel('Create channels').check();
  await page.getByLabel('Channel type').fill('messaging');
}

async function previewFor(page: Page, search: string, name: string): Promise<void> {
  await page.getByLabel('Preview for').fill(search);
  await page.getByRole('button', { name }).click();
  await page.getByText(`For ${name}`, { exact: true }).waitFor();
  await page.getByRole('button', { name: 'Preview', exact: true }).click();
}

dashboardTestSetup(
  {
    prefix: 'preview',
    env: { BEACON_JOB_POLL_MS: '200' },
    users: [
      { id: 'ann', name: 'Ann Example' },
      { id: 'bob', name: 'Bob' },
      { id: 'carla-sender', name: 'Carla Announcer' },
    ],
  },
  (session) => {
    ({ t, signedIn } = session);
  },
);

describe('preview', () => {
  it("renders the form's template for a chosen user, personalized, sending and saving nothing", async () => {
    const page = await signedIn('personal', '/campaigns/new');
    await draft(page, 'Hello {{ user.name }}, from {{ sender.name }}!');
    await previewFor(page, 'ann', 'Ann Example (ann)');
    const result = page.getByRole('status', { name: 'Preview result' });
    await result.waitFor();
    expect(await result.locator('pre').textContent()).toBe('Hello Ann Example, from Carla Announcer!');
    expect(await result.textContent()).toContain('personalized (a conversation of its own)');
    await screenshot(page, 'preview-1280x800');
    expect(await t.app.db.prisma.campaign.count()).toBe(0);
    expect(await t.app.db.prisma.channel.count()).toBe(0);

    // The form's current text, not what was previewed before.
    await page.getByLabel('Message', { exact: true }).fill('Bye {{ user.id }}');
    await page.getByRole('button', { name: 'Preview', exact: true }).click();
    await result.getByText('Bye ann', { exact: true }).waitFor();
    await page.context().close();
  });

  it('shows a template error at the Message field, in words, and keeps the input', async () => {
    const page = await signedIn('error', '/campaigns/new', PHONE);
    await draft(page, 'Hi {{user.name');
    await previewFor(page, 'bob', 'Bob (bob)');
    const messageField = page.locator('.field').filter({ has: page.getByLabel('Message', { exact: true }) });
    const error = messageField.getByRole('alert');
    await error.waitFor();
    expect(await error.textContent()).toMatch(/Message/);
    expect(await error.textContent()).not.toContain('input.text');
    await page.getByText('Not previewed: see the marked fields.').waitFor();
    expect(await page.getByRole('status', { name: 'Preview result' }).count()).toBe(0);
    expect(await page.getByLabel('Message', { exact: true }).inputValue()).toBe('Hi {{user.name');
    expect(await hasHorizontalPageScroll(page)).toBe(false);
    await screenshot(page, 'preview-error-390x844');

    // Fixed, the next preview clears the error.
    await page.getByLabel('Message', { exact: true }).fill('Hi {{user.name}}');
    await page.getByRole('button', { name: 'Preview', exact: true }).click();
    await page.getByRole('status', { name: 'Preview result' }).getByText('Hi Bob', { exact: true }).waitFor();
    expect(await messageField.getByRole('alert').count()).toBe(0);
    expect(await hasHorizontalPageScroll(page)).toBe(false);
    await screenshot(page, 'preview-390x844');
    await page.context().close();
  });
});

describe('timeline', () => {
  it("shows a completed campaign's messages as bars with a summary that counts them", async () => {
    const id = await createCampaign(t, {
      name: 'Charted',
      senderId: 'carla-sender',
      userIds: ['ann', 'bob'],
      createChannels: true,
      channelTemplate: { type: 'messaging' },
      messageTemplate: { text: 'Hi {{ user.name }}' },
    });
    await startCampaign(t, id);
    await waitForCampaign(t, id, (c) => c.status === 'COMPLETED');
    for (const viewport of [DESKTOP, PHONE]) {
      const page = await signedIn(`timeline-${viewport.width}`, `/campaigns/${id}`, viewport);
      const chart = page.getByRole('img', { name: 'Messages sent over time' });
      await chart.waitFor();
      expect(await chart.locator('rect').count()).toBeGreaterThan(0);
      const summary = page.getByRole('region', { name: 'Messages sent over time' }).locator('figcaption');
      expect(await summary.textContent()).toMatch(/^2 messages sent from /);
      expect(await hasHorizontalPageScroll(page)).toBe(false);
      await screenshot(page, `timeline-${viewport.width}x${viewport.height}`);
      await page.context().close();
    }
  });

  it('says nothing was sent yet before delivery, then draws the bars from the live updates', async () => {
    const id = await createCampaign(t, {
      name: 'Unsent',
      senderId: 'carla-sender',
      userIds: ['ann'],
      createChannels: true,
      channelTemplate: { type: 'messaging' },
      messageTemplate: { text: 'Hi' },
    });
    const page = await signedIn('timeline-empty', `/campaigns/${id}`);
    await page.getByText('Nothing sent yet: the chart starts with delivery.').waitFor();
    expect(await page.getByRole('img', { name: 'Messages sent over time' }).count()).toBe(0);

    // Started from the page: the chart follows the live subscription without a reload.
    await page.getByRole('button', { name: 'Start' }).click();
    await page.getByRole('img', { name: 'Messages sent over time' }).locator('rect').first().waitFor();
    await page.getByText(/^1 message sent from /).waitFor();
    await page.context().close();
  });
});
