/**
 * The dashboard in a real Chromium against a real Beacon on PostgreSQL, driven by role and
 * visible label like a person: sign-in (link, pasted token, expired or refused token), the
 * campaigns list with live progress, the campaign page's actions, and phone width.
 */
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { SignJWT } from 'jose';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestApp, TEST_SECRET, type TestApp } from './helpers/app.js';
import { signServerToken } from '../src/auth/tokens.js';
import { createCampaign, startCampaign, waitForCampaign } from './helpers/delivery.js';
import { userCampaign } from './helpers/delivery-checks.js';
import { createSegment } from './helpers/delivery-extra.js';
import { ensureDashboardBuilt, hasHorizontalPageScroll, launchChromium, screenshot } from './helpers/browser.js';

let t: TestApp;
let browser: Browser;
let base: string;
let dashboardToken: string;
const contexts: BrowserContext[] = [];

/** Call at the start of a test: a failure leaves a screenshot of the page as it was. */
function screenshotOnFailure(page: Page, name: string): void {
  onTestFailed(async () => {
    const path = await screenshot(page, `failed-${name}`).catch(() => null);
    if (path) console.error(`screenshot of the failed test: ${path}`);
  });
}

/** A fresh browser profile (own sessionStorage) at the given viewport. */
async function openPage(name: string, viewport = { width: 1280, height: 800 }): Promise<Page> {
  const context = await browser.newContext({ viewport });
  contexts.push(context);
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  screenshotOnFailure(page, name);
  return page;
}

/** Makes the page count the WebSockets it opens in `window.webSockets`. */
async function countWebSockets(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const counter = window as unknown as { webSockets: number };
    counter.webSockets = 0;
    const Original = window.WebSocket;
    window.WebSocket = class extends Original {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols);
        counter.webSockets += 1;
      }
    };
  });
}

/** The value shown under a label of the campaign page's figures. */
function stat(page: Page, label: string) {
  return page.getByRole('term').filter({ hasText: new RegExp(`^${label}$`) }).locator('xpath=following-sibling::dd');
}

async function signInWithLink(page: Page, path = '/'): Promise<void> {
  await page.goto(`${base}${path}#token=${dashboardToken}`);
}

beforeAll(async () => {
  ensureDashboardBuilt();
  // Slow enough (~5 s for 2,000) that a person sees the progress move.
  t = await startTestApp({ env: { BEACON_DELIVERY_RATE: '300', BEACON_DELIVERY_BATCH_SIZE: '100', BEACON_JOB_POLL_MS: '200' } });
  base = t.url.replace(/\/graphql$/, '');
  dashboardToken = await signServerToken(TEST_SECRET, '12h');
  await t.app.db.prisma.user.createMany({ data: [{ id: 'ann', name: 'Ann' }, { id: 'bob', name: 'Bob' }, { id: 'sender', name: 'Sender' }] });
  for (const name of ['Spring sale', 'Welcome series', 'Winter news']) {
    await createCampaign(t, {
      name,
      senderId: 'sender',
      userIds: ['ann', 'bob'],
      createChannels: true,
      channelTemplate: { type: 'messaging' },
      messageTemplate: { text: `${name}, {{ user.name }}` },
    });
  }
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => {});
  await browser?.close();
  await t?.close();
});

describe('signing in', () => {
  it('signs in with a link, takes the token out of the address bar, and signs out', async () => {
    const page = await openPage('sign-in-link');
    await signInWithLink(page);
    await expect(page.getByRole('heading', { name: 'Campaigns' }).waitFor()).resolves.toBeUndefined();
    expect(page.url()).toBe(`${base}/`);
    expect(await page.evaluate(() => sessionStorage.getItem('beacon.token'))).toBe(dashboardToken);
    for (const name of ['Campaigns', 'Segments', 'Users']) await page.getByRole('link', { name, exact: true }).waitFor();
    await page.getByRole('cell', { name: 'Spring sale' }).waitFor();
    await page.getByRole('button', { name: 'New campaign' }).click();
    await page.getByRole('heading', { name: 'New campaign' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/campaigns/new');
    await page.goBack();

    // A reload keeps the session (sessionStorage); Sign out forgets it.
    await page.reload();
    await page.getByRole('cell', { name: 'Welcome series' }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('beacon.token'))).toBeNull();
  });

  it('signs in with a pasted token', async () => {
    const page = await openPage('sign-in-paste');
    await page.goto(`${base}/campaigns`);
    await page.getByLabel('Token').fill(dashboardToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('cell', { name: 'Winter news' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/campaigns');
  });

  it('sends an expired or refused token back to sign-in with a message saying so', async () => {
    const page = await openPage('sign-in-expired');
    const expired = await new SignJWT({ server: true })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
      .sign(new TextEncoder().encode(TEST_SECRET));
    await page.goto(`${base}/#token=${expired}`);
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/expired/i);
    await page.getByLabel('Token').waitFor();

    // Expiring while signed in: back to sign-in when the moment comes.
    const shortLived = await signServerToken(TEST_SECRET, '3s');
    await page.goto(`${base}/#token=${shortLived}`);
    await page.getByRole('heading', { name: 'Campaigns' }).waitFor();
    await page.getByRole('button', { name: 'Sign in' }).waitFor({ timeout: 10_000 });
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/expired/i);

    // A token the server refuses (another secret): the API says UNAUTHENTICATED.
    const foreign = await signServerToken('some-other-secret-0123456789', '1h');
    await page.getByLabel('Token').fill(foreign);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/refused/i);
    expect(await page.evaluate(() => sessionStorage.getItem('beacon.token'))).toBeNull();
  });
});

describe('segments and users', () => {
  it('lists the segments and finds a user by id or name', async () => {
    await createSegment(t, { name: 'Everyone', type: 'USER', allUsers: true });
    const page = await openPage('segments-users');
    await signInWithLink(page, '/campaigns');
    await page.getByRole('link', { name: 'Segments', exact: true }).click();
    await page.getByRole('heading', { name: 'Segments' }).waitFor();
    await page.getByRole('row').filter({ hasText: 'Everyone' }).getByText('Users').waitFor();
    await page.getByRole('link', { name: 'Users', exact: true }).click();
    await page.getByRole('cell', { name: 'Ann', exact: true }).waitFor();
    await page.getByLabel('Search users').fill('bob');
    await page.getByRole('cell', { name: 'Ann', exact: true }).waitFor({ state: 'detached' });
    await page.getByRole('cell', { name: 'Bob', exact: true }).waitFor();
    await page.getByLabel('Search users').fill('nobody');
    await page.getByText('No users match.').waitFor();
  });
});

describe('campaigns', () => {
  it('shows a running 2,000-recipient campaign progress live until COMPLETED, without a reload', async () => {
    const id = await userCampaign(t, 'live', 2000, { name: 'Big launch' });
    const page = await openPage('campaigns-live');
    await signInWithLink(page, '/campaigns');
    const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: 'Big launch' }) });
    await row.getByText('Draft').waitFor();
    await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));

    // Record when the row's progress changes on screen (the renders a person sees).
    await row.getByText('Not started').waitFor();
    await page.evaluate(() => {
      const changes: number[] = [];
      (window as unknown as { progressChanges: number[] }).progressChanges = changes;
      const table = document.querySelector('table')!;
      new MutationObserver(() => changes.push(performance.now())).observe(table, { subtree: true, attributes: true, attributeFilter: ['aria-valuenow'] });
    });

    // The campaign's own page, open in a second browser, follows the same run.
    const detail = await openPage('campaigns-live-detail');
    await signInWithLink(detail, `/campaigns/${id}`);
    await detail.getByRole('heading', { name: 'Big launch Draft' }).waitFor();

    await startCampaign(t, id);
    const seen = new Set<string>();
    const sentSeen = new Set<string>();
    const progress = row.getByRole('progressbar');
    const sent = stat(detail, 'Sent');
    const until = Date.now() + 60_000;
    while (!(await row.getByText('Completed').isVisible())) {
      seen.add((await progress.getAttribute('aria-valuenow')) ?? '');
      sentSeen.add((await sent.textContent()) ?? '');
      if (Date.now() > until) expect.fail(`not completed; progress seen: ${[...seen].join(', ')}`);
      await page.waitForTimeout(50);
    }
    await row.getByText('2,000 / 2,000').waitFor();
    const intermediate = [...seen].filter((value) => value !== '0' && value !== '100');
    expect(intermediate.length, `progress values seen: ${[...seen].join(', ')}`).toBeGreaterThanOrEqual(2);
    await detail.getByRole('heading', { name: 'Big launch Completed' }).waitFor();
    expect(await sent.textContent()).toBe('2,000');
    const sentBetween = [...sentSeen].filter((value) => value !== '0' && value !== '2,000');
    expect(sentBetween.length, `Sent values seen on the campaign page: ${[...sentSeen].join(', ')}`).toBeGreaterThanOrEqual(2);
    expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
    // Live updates are applied at most every 250 ms: at most 4 renders a second (5 in a
    // 1-second window that catches both ends; the browser's own scheduling may shift one).
    const changes = await page.evaluate(() => (window as unknown as { progressChanges: number[] }).progressChanges);
    const busiestSecond = Math.max(...changes.map((at) => changes.filter((other) => other >= at && other < at + 1000).length));
    const seconds = (changes.at(-1)! - changes[0]!) / 1000;
    console.log(`live list: ${changes.length} progress renders in ${seconds.toFixed(1)} s (${(changes.length / seconds).toFixed(1)}/s), busiest second ${busiestSecond}`);
    expect(busiestSecond).toBeLessThanOrEqual(5);
    await screenshot(page, 'campaigns-1280x800');
  });

  it('filters by status and name', async () => {
    const page = await openPage('campaigns-filter');
    await signInWithLink(page, '/campaigns');
    await page.getByRole('cell', { name: 'Spring sale' }).waitFor();
    await page.getByLabel('Name').fill('wel');
    await page.getByRole('cell', { name: 'Spring sale' }).waitFor({ state: 'detached' });
    await page.getByRole('cell', { name: 'Welcome series' }).waitFor();
    await page.getByLabel('Name').fill('');
    await page.getByLabel('Status').selectOption({ label: 'Completed' });
    await page.getByRole('cell', { name: 'Welcome series' }).waitFor({ state: 'detached' });
    await page.getByLabel('Name').fill('zzz');
    await page.getByText('No campaign matches these filters.').waitFor();
    // The address bar holds the filters: a reload keeps them.
    await page.waitForURL(/name=zzz/);
    await page.reload();
    await page.getByText('No campaign matches these filters.').waitFor();
    expect(await page.getByLabel('Status').inputValue()).toBe('COMPLETED');
    expect(await page.getByLabel('Name').inputValue()).toBe('zzz');
  });

  it('starts a draft from its page and deletes it after confirming', async () => {
    const page = await openPage('campaign-page');
    await countWebSockets(page);
    await signInWithLink(page, '/campaigns');
    await page.getByRole('link', { name: 'Winter news' }).click();
    await page.getByRole('heading', { name: /Winter news/ }).waitFor();
    // A draft can be started or deleted, nothing else.
    expect(await page.getByRole('button', { name: 'Stop' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Start' }).click();
    await page.getByRole('heading', { name: 'Winter news Completed' }).waitFor();
    await page.getByText('2 / 2', { exact: true }).waitFor();
    expect(await page.getByRole('button', { name: 'Start' }).count()).toBe(0);

    await page.getByRole('button', { name: 'Delete' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete campaign “Winter news”?' });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Delete' }).click();
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('heading', { name: 'Campaigns' }).waitFor();
    await page.getByRole('cell', { name: 'Spring sale' }).waitFor();
    expect(await page.getByRole('cell', { name: 'Winter news' }).count()).toBe(0);
    // List → campaign page → list: one WebSocket all along (a subscription per view on it).
    expect(await page.evaluate(() => (window as unknown as { webSockets: number }).webSockets)).toBe(1);
    await page.goto(`${base}/campaigns/no-such-campaign`);
    await page.getByRole('heading', { name: 'Campaign not found' }).waitFor();
    await page.goto(`${base}/nowhere`);
    await page.getByRole('heading', { name: 'Page not found' }).waitFor();
  });

  it('stops and resumes a running campaign from its page, its counters changing live until COMPLETED', async () => {
    const id = await userCampaign(t, 'stop', 2000, { name: 'Stop and go' });
    const page = await openPage('campaign-stop-resume');
    await signInWithLink(page, `/campaigns/${id}`);
    await page.getByRole('heading', { name: 'Stop and go Draft' }).waitFor();
    await page.getByRole('button', { name: 'Start' }).click();
    await page.getByRole('heading', { name: 'Stop and go In progress' }).waitFor();
    expect(await page.getByRole('button', { name: 'Delete' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Stop' }).click();
    await page.getByRole('heading', { name: 'Stop and go Stopped' }).waitFor();
    const sentWhenStopped = Number((await stat(page, 'Sent').textContent())!.replace(/\D/g, ''));
    expect(sentWhenStopped).toBeLessThan(2000);

    await page.getByRole('button', { name: 'Resume' }).click();
    const sent = stat(page, 'Sent');
    const seen = new Set<string>();
    while (!(await page.getByRole('heading', { name: 'Stop and go Completed' }).isVisible())) {
      seen.add((await sent.textContent()) ?? '');
      if (seen.size === 3) await screenshot(page, 'campaign-running-1280x800');
      await page.waitForTimeout(50);
    }
    expect(await sent.textContent()).toBe('2,000');
    expect(seen.size, `Sent values seen: ${[...seen].join(', ')}`).toBeGreaterThanOrEqual(2);
    await screenshot(page, 'campaign-1280x800');
  });

  it('retries failed recipients of a completed campaign', async () => {
    // Fresh users with no channel to post into (and none created): every recipient errors.
    await t.app.db.prisma.user.createMany({ data: [{ id: 'retry-1' }, { id: 'retry-2' }] });
    const id = await createCampaign(t, { name: 'No channels', senderId: 'sender', userIds: ['retry-1', 'retry-2'], messageTemplate: { text: 'Hi' } });
    await startCampaign(t, id);
    await waitForCampaign(t, id, (c) => c.status === 'COMPLETED');
    const page = await openPage('campaign-retry');
    await signInWithLink(page, `/campaigns/${id}`);
    await page.getByRole('heading', { name: 'No channels Completed' }).waitFor();
    await stat(page, 'Errored').filter({ hasText: /^2$/ }).waitFor();
    await page.getByRole('button', { name: 'Retry failed' }).click();
    await page.getByRole('status').getByText('2 failed recipients are being retried.').waitFor();
    // Delivered again (and failing again, still without a channel): completed once more.
    await page.getByRole('heading', { name: 'No channels Completed' }).waitFor();
    expect(await page.getByRole('alert').count()).toBe(0);
  });

  it('schedules a draft for later (refused in the past, with the API message), then stops it', async () => {
    const page = await openPage('campaign-schedule');
    await signInWithLink(page, '/campaigns');
    await page.getByRole('link', { name: 'Welcome series' }).click();
    await page.getByRole('button', { name: 'Schedule' }).click();
    const dialog = page.getByRole('dialog', { name: 'Schedule “Welcome series”' });

    await dialog.getByLabel('Start at').fill('2020-01-01T10:00');
    await dialog.getByRole('button', { name: 'Schedule' }).click();
    await expect(dialog.getByRole('alert').textContent()).resolves.toMatch(/past/i);
    expect(await dialog.getByLabel('Start at').inputValue()).toBe('2020-01-01T10:00');
    await screenshot(page, 'schedule-dialog-1280x800');

    // `datetime-local` values in the browser's own time zone.
    const [inTwoHours, inOneHour] = await page.evaluate(() =>
      [2, 1].map((hours) => {
        const date = new Date(Date.now() + hours * 3600_000);
        return new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
      }),
    );
    await dialog.getByLabel('Start at').fill(inTwoHours!);
    await dialog.getByLabel('Stop at (optional)').fill(inOneHour!);
    await dialog.getByRole('button', { name: 'Schedule' }).click();
    await dialog.getByText('The stop time must be after the start time.').waitFor();
    await dialog.getByLabel('Stop at (optional)').fill('');
    await dialog.getByRole('button', { name: 'Schedule' }).click();
    await dialog.waitFor({ state: 'detached' });

    await page.getByRole('heading', { name: 'Welcome series Scheduled' }).waitFor();
    expect(await stat(page, 'Scheduled for').textContent()).not.toBe('—');
    expect(await page.getByRole('button', { name: 'Start' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Stop' }).click();
    await page.getByRole('heading', { name: 'Welcome series Stopped' }).waitFor();
  });

  it('has no horizontal page scroll at phone width (390×844)', async () => {
    const page = await openPage('phone', { width: 390, height: 844 });
    await signInWithLink(page, '/campaigns');
    await page.getByRole('link', { name: 'Spring sale' }).waitFor();
    expect(await hasHorizontalPageScroll(page)).toBe(false);
    await screenshot(page, 'campaigns-390x844');
    await page.getByRole('link', { name: 'Spring sale' }).click();
    await page.getByRole('heading', { name: /Spring sale/ }).waitFor();
    expect(await hasHorizontalPageScroll(page)).toBe(false);
    await screenshot(page, 'campaign-390x844');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(await hasHorizontalPageScroll(page)).toBe(false);
    await screenshot(page, 'sign-in-390x844');
  });
});
