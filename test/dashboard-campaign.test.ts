/**
 * The campaign page's Recipients table and Test send in a real Chromium against a real
 * Beacon on PostgreSQL, driven by role and visible label like a person.
 */
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestApp, TEST_SECRET, type TestApp } from './helpers/app.js';
import { signServerToken } from '../src/auth/tokens.js';
import { distinctChannelId } from '../src/chat/channels.service.js';
import { createCampaign, startCampaign, waitForCampaign } from './helpers/delivery.js';
import { ensureDashboardBuilt, hasHorizontalPageScroll, launchChromium, screenshot } from './helpers/browser.js';

let t: TestApp;
let browser: Browser;
let base: string;
let token: string;
const contexts: BrowserContext[] = [];

/** Users without any channel: a campaign that creates none errors for each of them. */
const LONERS = Array.from({ length: 30 }, (_, i) => `loner-${i + 1}`);

async function openCampaign(name: string, campaignId: string, viewport = { width: 1280, height: 800 }): Promise<Page> {
  const context = await browser.newContext({ viewport });
  contexts.push(context);
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  onTestFailed(async () => {
    const path = await screenshot(page, `failed-${name}`).catch(() => null);
    if (path) console.error(`screenshot of the failed test: ${path}`);
  });
  await page.goto(`${base}/campaigns/${campaignId}#token=${token}`);
  return page;
}

/** A campaign posting only into channels that exist: ann and bob have one with the sender. */
function existingChannelsCampaign(name: string, userIds: string[]): Promise<string> {
  return createCampaign(t, {
    name,
    senderId: 'sender',
    userIds,
    createChannels: false,
    channelTemplate: { type: 'messaging' },
    messageTemplate: { text: 'Hello {{ user.name }}' },
  });
}

beforeAll(async () => {
  ensureDashboardBuilt();
  t = await startTestApp({ env: { BEACON_JOB_POLL_MS: '200' } });
  base = t.url.replace(/\/graphql$/, '');
  token = await signServerToken(TEST_SECRET, '12h');
  await t.app.db.prisma.user.createMany({
    data: [{ id: 'ann', name: 'Ann' }, { id: 'bob', name: 'Bob' }, { id: 'sender', name: 'Sender' }, ...LONERS.map((id) => ({ id, name: `Loner ${id.slice(6)}` }))],
  });
  // Gives ann and bob their 1:1 channel with the sender.
  const opener = await createCampaign(t, {
    name: 'Opener',
    senderId: 'sender',
    userIds: ['ann', 'bob'],
    createChannels: true,
    channelTemplate: { type: 'messaging' },
    messageTemplate: { text: 'Hi' },
  });
  await startCampaign(t, opener);
  await waitForCampaign(t, opener, (c) => c.status === 'COMPLETED');
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => {});
  await browser?.close();
  await t?.close();
});

describe('recipients', () => {
  it('fill in as the campaign runs, filter by status with the error text, and page', async () => {
    const id = await existingChannelsCampaign('Mixed', ['ann', 'bob', ...LONERS]);
    const page = await openCampaign('recipients', id);
    const section = page.getByRole('region', { name: 'Recipients' });
    await section.getByText('No recipients yet: they are written when delivery begins.').waitFor();

    // Started from the page: the table follows the live counters without a reload.
    await page.getByRole('button', { name: 'Start' }).click();
    await page.getByRole('heading', { name: 'Mixed Completed' }).waitFor();
    await section.getByText('32 recipients').waitFor();
    const rows = section.getByRole('table', { name: 'Recipients' }).getByRole('row');
    // Refetched as the campaign finished: none left pending.
    await rows.getByText('Pending', { exact: true }).first().waitFor({ state: 'detached' });
    expect(await rows.count()).toBe(1 + 25);
    await screenshot(page, 'campaign-recipients-1280x800');

    await section.getByLabel('Recipient status').selectOption({ label: 'Errored' });
    await section.getByText('30 recipients').waitFor();
    expect(await rows.filter({ hasText: 'Ann (ann)' }).count()).toBe(0);
    // Ties in creation time are ordered by recipient id, so which loner comes first varies.
    const loner = rows.filter({ hasText: /^Loner (\d+) \(loner-\1\)/ }).first();
    await loner.getByText('Errored', { exact: true }).waitFor();
    const lonerName = (await loner.getByRole('cell').first().textContent())!;
    const lonerId = lonerName.replace(/^.*\((.*)\)$/, '$1');
    await loner.getByRole('cell', { name: new RegExp(`^No channel messaging:!members-\\S+ with ${lonerId}, and createChannels is false$`) }).waitFor();
    const names = () => section.getByRole('table', { name: 'Recipients' }).locator('tbody td:first-child').allTextContents();
    const firstPage = await names();
    expect(firstPage).toHaveLength(25);
    expect(await section.getByRole('cell', { name: /^No channel .* and createChannels is false$/ }).count()).toBe(25);

    // 30 errored: a page of 25, then the other 5, then back.
    await section.getByRole('button', { name: 'Next page' }).click();
    await rows.filter({ hasText: lonerName }).waitFor({ state: 'detached' });
    const secondPage = await names();
    expect(new Set([...firstPage, ...secondPage]).size).toBe(30);
    expect(await section.getByRole('button', { name: 'Next page' }).isDisabled()).toBe(true);
    await section.getByRole('button', { name: 'Previous page' }).click();
    await rows.filter({ hasText: lonerName }).waitFor();

    await section.getByLabel('Recipient status').selectOption({ label: 'Skipped' });
    await section.getByText('No skipped recipients.').waitFor();
    await section.getByLabel('Recipient status').selectOption({ label: 'Sent' });
    await section.getByText('2 recipients').waitFor();
    const ann = rows.filter({ hasText: 'Ann (ann)' });
    await ann.getByText('Sent', { exact: true }).waitFor();
    expect(await ann.getByRole('cell').nth(2).textContent()).not.toBe('—');
    expect(await ann.getByRole('cell').nth(4).textContent()).toBe('—');
  });

  it('has no horizontal page scroll at phone width (390×844)', async () => {
    const id = await existingChannelsCampaign('Phone', ['ann', 'loner-1']);
    await startCampaign(t, id);
    await waitForCampaign(t, id, (c) => c.status === 'COMPLETED');
    const page = await openCampaign('recipients-phone', id, { width: 390, height: 844 });
    await page.getByRole('region', { name: 'Recipients' }).getByText('2 recipients').waitFor();
    await page.getByLabel('Find users').fill('ann');
    await page.getByRole('checkbox', { name: 'Ann (ann)' }).check();
    await page.getByRole('button', { name: 'Test send' }).click();
    await page.getByRole('list', { name: 'Test send results' }).waitFor();
    expect(await hasHorizontalPageScroll(page)).toBe(false);
    await screenshot(page, 'campaign-recipients-390x844');
  });
});

describe('test send', () => {
  it('sends to users found by name or id and shows each result; a refused send keeps the choice', async () => {
    const id = await existingChannelsCampaign('Tryout', ['ann']);
    const page = await openCampaign('test-send', id);
    const button = page.getByRole('button', { name: 'Test send' });
    expect(await button.isDisabled()).toBe(true);

    await page.getByLabel('Find users').fill('An');
    await page.getByRole('checkbox', { name: 'Ann (ann)' }).check();
    await page.getByLabel('Find users').fill('loner-2');
    await page.getByRole('checkbox', { name: 'Loner 2 (loner-2)' }).check();
    // A chosen user stays chosen while the search moves on.
    await page.getByLabel('Find users').fill('nobody-like-this');
    await page.getByText('No users match “nobody-like-this”.').waitFor();
    expect(await page.getByRole('checkbox', { checked: true }).count()).toBe(2);

    await button.click();
    const results = page.getByRole('list', { name: 'Test send results' }).getByRole('listitem');
    await results.first().waitFor();
    expect(await results.count()).toBe(2);
    expect(await results.nth(0).textContent()).toBe('Ann (ann): Sent · Open channel');
    const cid = `messaging:${distinctChannelId(['sender', 'ann'])}`;
    const link = results.nth(0).getByRole('link', { name: 'Open channel' });
    expect(await link.getAttribute('href')).toBe(`/channels/${encodeURIComponent(cid)}`);
    expect(await results.nth(1).getByRole('link').count()).toBe(0);
    expect(await results.nth(1).textContent()).toMatch(/^Loner 2 \(loner-2\): Not sent: .*channel/i);
    await screenshot(page, 'campaign-test-send-1280x800');

    // Gone behind the page's back: the API's words, and the users still chosen.
    await t.app.db.prisma.campaign.delete({ where: { id } });
    await button.click();
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/The test send failed\..*not/i);
    expect(await page.getByRole('checkbox', { checked: true }).count()).toBe(2);
  });
});
