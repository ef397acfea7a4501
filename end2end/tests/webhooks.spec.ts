// Webhook endpoints on /admin/webhooks: an operator creates one with the form,
// sees its signing secret once, finds it listed, and opens its page with the
// deliveries. Every page goes through the HTML checker (fixtures) and axe.
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from './fixtures';
import { execFileSync } from 'node:child_process';
import { ROOT, SERVER_BINARY, serverEnv } from '../playwright.config';

test.describe.configure({ mode: 'serial' });

const EMAIL = `webhooks-${Date.now()}@example.com`;
const PASSWORD = 'a long e2e password, not a secret';

test.beforeAll(() => {
  const output = execFileSync(
    SERVER_BINARY,
    ['account', 'create', '--email', EMAIL, '--name', 'E2E Webhooks', '--role', 'operator'],
    { cwd: ROOT, env: { ...serverEnv('127.0.0.1:0'), CLEARANCE_NEW_PASSWORD: PASSWORD }, encoding: 'utf8' },
  );
  expect(output).toContain(`created operator account E2E Webhooks <${EMAIL}>`);
});

async function signIn(page: Page, next: string) {
  await page.goto(`/login?next=${encodeURIComponent(next)}`);
  await page.getByLabel('E-mail address').fill(EMAIL);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

async function noSeriousAxeViolations(page: Page) {
  const results = await new AxeBuilder({ page }).analyze();
  const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id);
  expect(serious).toEqual([]);
}

test('the public is sent to sign in, then back to the webhooks', async ({ page }) => {
  await page.goto('/admin/webhooks');
  await expect(page).toHaveURL(/\/login\?next=%2Fadmin%2Fwebhooks$/);
  await page.getByLabel('E-mail address').fill(EMAIL);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/admin\/webhooks$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Webhooks');
});

test('an operator creates an endpoint, sees its secret once, and opens its deliveries', async ({ page }) => {
  const url = `https://hooks.example.com/e2e-${Date.now()}`;
  await signIn(page, '/admin');
  await expect(page).toHaveURL(/\/admin$/);
  await page.getByRole('link', { name: 'Manage webhook endpoints and see their deliveries' }).click();
  await expect(page).toHaveURL(/\/admin\/webhooks$/);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await noSeriousAxeViolations(page);

  const form = page.getByTestId('new-endpoint');
  await form.getByLabel('Destination URL').fill(url);
  await form.getByLabel('Description (optional)').fill('E2E launch channel');
  await form.getByLabel(/A proof run failed/).check();
  await form.getByLabel(/A launch motion's status changed/).check();
  await form.getByLabel('Payload format').selectOption('slack');
  await form.getByRole('button', { name: 'Create endpoint' }).click();

  await expect(page).toHaveURL(/\/admin\/webhooks\?done=.*#new-secret$/);
  await expect(page.getByTestId('webhook-done')).toHaveText(`Created webhook endpoint ${url}.`);
  const secret = (await page.getByTestId('webhook-secret').textContent()) ?? '';
  expect(secret).toMatch(/^whsec_[A-Za-z0-9+\/=]{20,}$/);
  await expect(page.getByTestId('new-secret')).toContainText('shown only this once');
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await expect(page.getByTestId('new-secret').getByRole('button', { name: 'Copy secret' })).toBeVisible();
  await noSeriousAxeViolations(page);

  const row = page.getByTestId('endpoints').getByRole('row').filter({ hasText: url });
  await expect(row).toContainText('E2E launch channel');
  await expect(row).toContainText('motion.status_changed, proof.failed');
  await expect(row).toContainText('enabled');

  // Shown once: gone on the next load.
  await page.reload();
  await expect(page.getByTestId('webhook-secret')).toHaveCount(0);
  await expect(page.locator('body')).not.toContainText(secret);

  await page.getByRole('link', { name: url }).click();
  await expect(page).toHaveURL(/\/admin\/webhooks\/\d+$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Webhook endpoint');
  await expect(page.getByTestId('endpoint-url')).toHaveText(url);
  await expect(page.getByRole('heading', { name: 'Newest deliveries' })).toBeVisible();
  await expect(page.getByTestId('deliveries').or(page.getByTestId('no-deliveries'))).toBeVisible();
  await expect(page.locator('body')).not.toContainText(secret);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await noSeriousAxeViolations(page);

  // Disable, then rotate: the new secret shows once, different from the first.
  await page.getByRole('button', { name: 'Disable' }).click();
  await expect(page.getByTestId('endpoint-state')).toContainText('disabled');
  await page.getByRole('button', { name: 'Rotate secret' }).click();
  const rotated = (await page.getByTestId('webhook-secret').textContent()) ?? '';
  expect(rotated).toMatch(/^whsec_/);
  expect(rotated).not.toBe(secret);
  await expect(page.getByText('Previous secret signs until')).toBeVisible();

  await page.getByRole('button', { name: 'Delete endpoint' }).click();
  await expect(page).toHaveURL(/\/admin\/webhooks\?done=Deleted/);
  await expect(page.getByTestId('webhook-done')).toHaveText(`Deleted webhook endpoint ${url}.`);
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('a refused destination is explained and nothing is created', async ({ page }) => {
    await signIn(page, '/admin/webhooks');
    await expect(page).toHaveURL(/\/admin\/webhooks$/);
    const form = page.getByTestId('new-endpoint');
    // Refused whatever CLEARANCE_WEBHOOK_ALLOW_PRIVATE says.
    await form.getByLabel('Destination URL').fill('ftp://hooks.example.com/hook');
    await form.getByRole('button', { name: 'Create endpoint' }).click();
    await expect(page).toHaveURL(/\/admin\/webhooks\?error=/);
    await expect(page.getByTestId('webhook-error')).toContainText('url: only http and https URLs can receive webhooks');
    await expect(page.getByTestId('new-secret')).toHaveCount(0);
  });
});
