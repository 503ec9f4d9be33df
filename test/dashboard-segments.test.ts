/**
 * The segment editor in a real Chromium against a real Beacon on PostgreSQL, driven by
 * label: a filter segment built with the visual builder (a custom dotted field and a nested
 * OR group) and its audience size, the JSON view and back unchanged, and a segment in use
 * refusing deletion with the API's message; at desktop and phone widths.
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { TestApp } from './helpers/app.js';
import { createCampaign } from './helpers/delivery.js';
import { createSegment } from './helpers/delivery-extra.js';
import { hasHorizontalPageScroll, screenshot } from './helpers/browser.js';
import { DESKTOP, PHONE, dashboardTestSetup, type DashboardSession } from './helpers/browser-setup.js';
import { DeleteSegmentDocument } from './generated/graphql.js';

let t: TestApp;
let base: string;
let signedIn: DashboardSession['signedIn'];

/** Delft users who are adults or admins: ann (30) and bob (17, admin); not cas (Utrecht). */
const EXPECTED = { 'address.city': 'Delft', $or: [{ age: { $gte: 18 } }, { role: 'admin' }] };

const sizeShown = (page: Page, size: number) =>
  page.getByRole('status', { name: 'Audience size' }).filter({ hasText: `Audience size: ${size}`, hasNotText: 'updating' }).waitFor();

dashboardTestSetup(
  {
    prefix: 'segments',
    users: [
      { id: 'ann', name: 'Ann', custom: { address: { city: 'Delft' }, age: 30 } },
      { id: 'bob', name: 'Bob', role: 'admin', custom: { address: { city: 'Delft' }, age: 17 } },
      { id: 'cas', name: 'Cas', custom: { address: { city: 'Utrecht' }, age: 40 } },
      { id: 'sender', name: 'Sender' },
    ],
  },
  (session) => {
    ({ t, signedIn, base } = session);
  },
);

describe('segment editor', () => {
  it('builds a filter segment visually, shows its size, and switches to JSON and back unchanged', async () => {
    const page = await signedIn('create', '/segments');
    await page.getByRole('button', { name: 'New segment' }).click();
    await page.getByRole('heading', { name: 'New segment' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('Delft');
    await page.getByLabel('Description', { exact: true }).fill('Adults and admins in Delft');
    await page.getByLabel('Type', { exact: true }).selectOption('USER');
    await page.getByLabel('Filter', { exact: true }).check();
    const builder = page.getByRole('group', { name: 'All conditions' });
    await builder.getByRole('button', { name: 'Add condition' }).last().click();
    await page.getByLabel('Field', { exact: true }).first().fill('address.city');
    await page.getByLabel('Value', { exact: true }).first().fill('Delft');
    await sizeShown(page, 2);
    await page.getByRole('button', { name: 'Add OR group' }).last().click();
    const or = page.getByRole('group', { name: 'Any of (OR)' });
    await or.getByLabel('Field', { exact: true }).fill('age');
    await or.getByLabel('Operator', { exact: true }).selectOption('$gte');
    await or.getByLabel('Value type', { exact: true }).selectOption('number');
    await or.getByLabel('Value', { exact: true }).fill('18');
    await sizeShown(page, 1);
    await or.getByRole('button', { name: 'Add condition' }).click();
    await or.getByLabel('Field', { exact: true }).nth(1).fill('role');
    await or.getByLabel('Value', { exact: true }).nth(1).fill('admin');
    await sizeShown(page, 2);
    await screenshot(page, 'segments-builder-1280x800');

    await page.getByRole('button', { name: 'JSON', exact: true }).click();
    const json = page.getByLabel('Filter JSON');
    const text = await json.inputValue();
    expect(JSON.parse(text)).toEqual(EXPECTED);
    await page.getByRole('button', { name: 'Builder', exact: true }).click();
    expect(await page.getByLabel('Field', { exact: true }).evaluateAll((inputs) => inputs.map((i) => (i as HTMLInputElement).value))).toEqual([
      'address.city',
      'age',
      'role',
    ]);
    await page.getByRole('button', { name: 'JSON', exact: true }).click();
    expect(await json.inputValue()).toBe(text);
    await page.getByRole('button', { name: 'Builder', exact: true }).click();
    await sizeShown(page, 2);

    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: 'Segment “Delft”' }).waitFor();
    const id = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
    const saved = await t.app.db.prisma.segment.findUniqueOrThrow({ where: { id } });
    expect(saved).toMatchObject({ name: 'Delft', description: 'Adults and admins in Delft', type: 'USER', filter: EXPECTED });
    await sizeShown(page, 2);

    await page.getByRole('link', { name: 'Segments', exact: true }).first().click();
    const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: 'Delft' }) });
    await row.getByText('2', { exact: true }).waitFor();
    await page.close();
  });

  it('refuses to delete a segment a campaign uses, with the API message', async () => {
    const id = await createSegment(t, { name: 'Busy', type: 'USER', filter: { 'address.city': 'Utrecht' } });
    await createCampaign(t, {
      name: 'Uses Busy',
      senderId: 'sender',
      segmentIds: [id],
      createChannels: false,
      channelTemplate: { type: 'messaging' },
      messageTemplate: { text: 'Hi' },
    });
    // What the API says (a refusal changes nothing, so asking first is harmless).
    const { deleteSegment } = await t.ok(DeleteSegmentDocument, { id });
    if (deleteSegment.__typename !== 'ConflictError') throw new Error(JSON.stringify(deleteSegment));

    const page = await signedIn('delete', `/segments/${id}`);
    await page.getByRole('heading', { name: 'Segment “Busy”' }).waitFor();
    await page.getByText('A campaign uses this segment.').waitFor();
    await sizeShown(page, 1);
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await page.getByRole('dialog', { name: 'Delete segment?' }).getByRole('button', { name: 'Delete segment' }).click();
    await page.getByRole('alert').filter({ hasText: 'Not deleted.' }).getByText(deleteSegment.message).waitFor();
    expect(await t.app.db.prisma.segment.count({ where: { id } })).toBe(1);
    await page.close();
  });

  it('adds explicit targets by paste and CSV, lists unknown ids, removes them, and lists the live audience', async () => {
    const id = await createSegment(t, { name: 'Hand-picked', type: 'USER' });
    const page = await signedIn('targets', `/segments/${id}`);
    await page.getByRole('heading', { name: 'Segment “Hand-picked”' }).waitFor();
    const ids = page.getByLabel('Target ids');
    await ids.fill('ann, nobody\nbob');
    await page.getByRole('button', { name: 'Add targets' }).click();
    // Nothing is added when an id is unknown; the API's message names it.
    await page.getByRole('alert').filter({ hasText: 'nobody' }).waitFor();
    expect(await t.app.db.prisma.segmentTarget.count({ where: { segmentId: id } })).toBe(0);
    await page.locator('input[type=file]').setInputFiles({ name: 'targets.csv', mimeType: 'text/csv', buffer: Buffer.from('id,name\nann,Ann\nbob,Bob\n') });
    // The file is read asynchronously: wait for the box to take its ids.
    await expect.poll(() => ids.inputValue()).toBe('ann\nbob');
    await page.getByRole('button', { name: 'Add targets' }).click();
    await page.getByText('Added 2 of 2 ids.').waitFor();
    const table = page.getByRole('table', { name: 'Audience' });
    await table.getByRole('cell', { name: 'bob', exact: true }).waitFor();
    await page.getByText('2 in the audience').waitFor();
    await ids.fill('bob');
    await page.getByRole('button', { name: 'Remove targets' }).click();
    await page.getByText('Removed 1 of 1 ids', { exact: false }).waitFor();
    await page.getByText('1 in the audience').waitFor();
    expect(await table.getByRole('cell', { name: 'bob', exact: true }).count()).toBe(0);
    await screenshot(page, 'segments-targets-1280x800');
    await page.close();
  });

  it('searches the targets by id prefix, starting again from the first page', async () => {
    // 30 rule members pick-01…pick-30 and one explicit target: two pages of 25, then a search.
    await t.app.db.prisma.user.createMany({ data: Array.from({ length: 30 }, (_, i) => ({ id: `pick-${String(i + 1).padStart(2, '0')}`, name: `Pick ${i + 1}` })) });
    const id = await createSegment(t, { name: 'Searchable', type: 'USER', filter: { id: { $autocomplete: 'pick-' } }, targetIds: ['ann'] });
    const page = await signedIn('targets-search', `/segments/${id}`);
    await page.getByText('31 in the audience').waitFor();
    const table = page.getByRole('table', { name: 'Audience' });
    await page.getByRole('button', { name: 'Next page' }).click();
    await table.getByRole('cell', { name: 'pick-30', exact: true }).waitFor();

    const search = page.getByLabel('Search targets');
    await search.fill('PICK-1');
    await page.getByText('10 match “PICK-1”').waitFor();
    const ids = () => table.locator('tbody td:first-child').allTextContents();
    expect(await ids()).toEqual(Array.from({ length: 10 }, (_, i) => `pick-1${i}`));
    const pager = page.getByRole('navigation', { name: 'Target pages' });
    expect(await pager.getByRole('button', { name: 'Previous page' }).isDisabled()).toBe(true);
    expect(await pager.getByRole('button', { name: 'Next page' }).isDisabled()).toBe(true);

    await search.fill('an');
    await page.getByText('1 match “an”').waitFor();
    expect(await ids()).toEqual(['ann']);
    await search.fill('nobody');
    await page.getByText('No targets match “nobody”.').waitFor();
    await screenshot(page, 'segments-targets-search-1280x800');
    await search.fill('');
    await page.getByText('31 in the audience').waitFor();
    expect((await ids())[0]).toBe('ann');
    await page.close();
  });

  it('fits a phone: no sideways page scroll with a nested filter', async () => {
    const id = await createSegment(t, { name: 'Phone', type: 'USER', filter: EXPECTED });
    for (const [viewport, name] of [
      [PHONE, '390x844'],
      [DESKTOP, '1280x800'],
    ] as const) {
      const page = await signedIn(`fit-${name}`, `/segments/${id}`, viewport);
      await page.getByRole('heading', { name: 'Segment “Phone”' }).waitFor();
      await sizeShown(page, 2);
      await screenshot(page, `segments-editor-${name}`);
      expect(await hasHorizontalPageScroll(page)).toBe(false);
      await page.goto(`${base}/segments`);
      await page.getByRole('link', { name: 'Phone' }).waitFor();
      await screenshot(page, `segments-list-${name}`);
      expect(await hasHorizontalPageScroll(page)).toBe(false);
      await page.close();
    }
  });
});
