import { expect, test, type Page } from './fixtures';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { API_TOKEN, ONE_CONFIGURED_URL, SENTINEL } from '../playwright.config';

const seed = readFileSync(path.join(__dirname, '../fixtures/thesmios-seed.txt'), 'utf8');

const SEED_BLOCKERS = [
  'Authenticated smoke fixture records',
  'Support email',
  'Stripe self-serve billing',
  'Enterprise OIDC broker config',
  'Enterprise SAML IdP config',
  'HRIS connector credentials',
  'Official issuer connector credentials',
];

const rows = (page: Page) => page.getByTestId('blocker-row');

async function hydrated(page: Page) {
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
}

async function rowTitles(page: Page): Promise<string[]> {
  return rows(page).locator('.blocker__title').allInnerTexts();
}

test('the register shows the seed headline figures, decision and all seven blockers', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Launch clearance');
  await expect(page.getByTestId('advisory-readiness')).toContainText('degraded');
  await expect(page.getByTestId('strict-readiness')).toContainText('not_ready');
  await expect(page.getByTestId('live-blocker-count').locator('dd')).toHaveText('7');
  await expect(page.getByTestId('evidence-gate-count').locator('dd')).toHaveText('6');
  await expect(page.getByTestId('decision-summary')).toHaveText(
    'Managed private beta: conditional. Invoice-led paid beta: conditional. Self-serve paid launch: blocked. Enterprise expansion: blocked.',
  );
  expect(await rowTitles(page)).toEqual(SEED_BLOCKERS);

  const motion = (id: string) => page.locator(`[data-motion-id="${id}"]`);
  await expect(motion('managed-private-beta').locator('.badge')).toContainText('conditional');
  await expect(motion('invoice-led-paid-beta').locator('.badge')).toContainText('conditional');
  await expect(motion('self-serve-paid-launch').locator('.badge')).toContainText('blocked');
  await expect(motion('broad-enterprise-expansion').locator('.badge')).toContainText('blocked');
  // Every status says why.
  await expect(motion('self-serve-paid-launch')).toContainText(
    'Required blocker live: Stripe self-serve billing (STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET, STRIPE_PRICE_REPORT, STRIPE_PRICE_MONITORING missing; Stripe self-serve billing proof has no passing run)',
  );
  await expect(page.getByTestId('first-seen')).toHaveText(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
});

test('every line of the seed page is on the page, word for word', async ({ page }) => {
  await page.goto('/');
  const text = await page.locator('body').innerText();
  const lines = seed.split('\n').map((line) => line.trim()).filter(Boolean);
  const missing: string[] = [];
  for (const line of lines) {
    if (line === 'BlockerScopeDependencyProof pathIf missing') continue; // the table header
    if (SEED_BLOCKERS.some((title) => line.startsWith(title))) continue; // rows: checked below
    const parts = text.includes(line) ? [] : line.split('; ').filter((part) => !text.includes(part));
    if (parts.length > 0) missing.push(line);
  }
  expect(missing).toEqual([]);

  // Each table row, read cell by cell the way the seed page runs them together.
  for (const title of SEED_BLOCKERS) {
    const row = rows(page).filter({ has: page.locator('.blocker__title', { hasText: title }) });
    const cells = await row.evaluate((tr) => {
      const text = (selector: string) => tr.querySelector(selector)?.textContent ?? '';
      const dependencies = [...tr.querySelectorAll('.dependency code')].map((code) => code.textContent);
      return (
        text('.blocker__title') +
        text('.blocker__required') +
        text('.blocker__scope') +
        dependencies.join(', ') +
        text('.proof__name') +
        text('.proof__command') +
        text('.blocker__if-missing')
      );
    });
    const seedLine = lines.find((line) => line.startsWith(title));
    expect(cells).toBe(seedLine);
  }
});

test('the scope filter changes the rows after hydration without loading a page', async ({ page }) => {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(String(error)));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  await page.goto('/');
  await hydrated(page);
  await page.evaluate(() => ((window as unknown as { marker: string }).marker = 'same document'));

  await page.getByRole('link', { name: /^enterprise/ }).click();
  await expect(page).toHaveURL(/\?scope=enterprise$/);
  await expect(rows(page)).toHaveCount(4);
  expect(await rowTitles(page)).toEqual(SEED_BLOCKERS.slice(3));

  await page.getByRole('link', { name: /^private beta/ }).click();
  await expect(rows(page)).toHaveCount(2);
  await expect(page.locator('a[data-facet="scope"][data-value="private-beta"]')).toHaveAttribute('aria-current', 'true');

  await page.locator('a[data-facet="scope"][data-value=""]').click();
  await expect(rows(page)).toHaveCount(7);

  // Still the first document: no navigation happened.
  expect(await page.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe('same document');
  expect(problems, 'no errors in the browser console (hydration mismatches show here)').toEqual([]);
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('the scope filter works as plain links with a query string', async ({ page }) => {
    await page.goto('/?scope=paid-launch');
    expect(await rowTitles(page)).toEqual(['Stripe self-serve billing']);
    await page.getByRole('link', { name: /^enterprise/ }).click();
    await expect(page).toHaveURL(/\?scope=enterprise$/);
    await expect(rows(page)).toHaveCount(4);
    await page.goto('/?scope=no-such-scope');
    await expect(page.getByText('No scope called “no-such-scope”; not filtering by scope.')).toBeVisible();
    await expect(rows(page)).toHaveCount(7);
  });
});

test('a server with one dependency configured shows six blockers once its proof passes, and never its value', async ({
  page,
  request,
}) => {
  const response = await page.goto(ONE_CONFIGURED_URL + '/');
  const html = (await response?.text()) ?? '';
  await hydrated(page);
  await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'live');
  const support = rows(page).filter({ has: page.locator('.blocker__title', { hasText: 'Support email' }) });
  // Configured, but the proof has not run: still live, and it says why.
  await expect(support.locator('.dependency--configured')).toContainText('RESEND_API_KEY');

  // CI records a passing run; the open page follows without a reload.
  await page.evaluate(() => ((window as unknown as { marker: string }).marker = 'same document'));
  const recorded = await request.post(ONE_CONFIGURED_URL + '/api/proofs/support-status-notification/runs', {
    headers: { authorization: `Bearer ${API_TOKEN}` },
    data: { status: 'passed', actor: 'e2e: notification fixture', excerpt: `sent with ${SENTINEL}` },
  });
  expect(recorded.status()).toBe(201);
  expect(await recorded.text()).not.toContain(SENTINEL);

  await expect(page.getByTestId('live-blocker-count').locator('dd')).toHaveText('6');
  await expect(rows(page)).toHaveCount(6);
  expect(await rowTitles(page)).not.toContain('Support email');
  await expect(page.getByTestId('changes')).toContainText('Support email cleared');
  // The cleared blocker is one facet away, with its configured dependency.
  await page.locator('a[data-facet="state"][data-value="cleared"]').click();
  await expect(page.getByRole('heading', { name: 'Cleared blockers' })).toBeVisible();
  await expect(page.getByTestId('live-blockers')).toHaveAttribute('data-query', 'state=cleared');
  expect(await rowTitles(page)).toEqual(['Support email']);
  await expect(rows(page).locator('.blocker__state')).toHaveText(/cleared/);
  await expect(rows(page).locator('.dependency--configured')).toContainText('RESEND_API_KEY');
  expect(await page.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe('same document');

  expect(html).not.toContain(SENTINEL);
  expect(await page.content()).not.toContain(SENTINEL);
  const readiness = await request.get(ONE_CONFIGURED_URL + '/api/readiness');
  expect(await readiness.text()).not.toContain(SENTINEL);
  const runs = await request.get(ONE_CONFIGURED_URL + '/api/proofs/support-status-notification/runs');
  expect(await runs.text()).toContain('[redacted RESEND_API_KEY]');
  expect(await runs.text()).not.toContain(SENTINEL);
});

test('an unknown path answers 404 with a way back', async ({ page }) => {
  const response = await page.goto('/no-such-page');
  expect(response?.status()).toBe(404);
  await expect(page.getByRole('link', { name: 'Back to the launch clearance register' })).toBeVisible();
});
