import AxeBuilder from '@axe-core/playwright';
import { expect, test } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { ROOT, SERVER_BINARY, serverEnv } from '../playwright.config';

test.describe.configure({ mode: 'serial' });

const EMAIL = `operator-${Date.now()}@example.com`;
const PASSWORD = 'a long e2e password, not a secret';

test.beforeAll(() => {
  // The first operator is bootstrapped from the command line, as the README says.
  const output = execFileSync(
    SERVER_BINARY,
    ['account', 'create', '--email', EMAIL, '--name', 'E2E Operator', '--role', 'operator'],
    { cwd: ROOT, env: { ...serverEnv('127.0.0.1:0'), CLEARANCE_NEW_PASSWORD: PASSWORD }, encoding: 'utf8' },
  );
  expect(output).toContain(`created operator account E2E Operator <${EMAIL}>`);
});

test('an operator signs in with the form, sees who they are, and signs out', async ({ page }) => {
  await page.goto('/');
  await page.getByTestId('account-bar').getByRole('link', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/login$/);

  await page.getByLabel('E-mail address').fill(EMAIL);
  await page.getByLabel('Password').fill('not the password at all');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('sign-in-error')).toHaveText(
    'That e-mail address and password do not match an account.',
  );
  await expect(page.getByLabel('E-mail address')).toHaveValue(EMAIL);

  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId('account-bar')).toContainText('Signed in as E2E Operator (operator)');
  const cookies = await page.context().cookies();
  const session = cookies.find((cookie) => cookie.name === 'clearance_session');
  expect(session?.httpOnly).toBe(true);
  expect(session?.sameSite).toBe('Lax');

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByTestId('account-bar').getByRole('link', { name: 'Sign in' })).toBeVisible();
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('signing in is a plain form post', async ({ page }) => {
    await page.goto('/login');
    await page.getByLabel('E-mail address').fill(EMAIL);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByTestId('account-bar')).toContainText('Signed in as E2E Operator');
  });
});

test('the sign-in page has no serious or critical axe violations', async ({ page }) => {
  await page.goto('/login?error=invalid&email=someone%40example.com');
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  const results = await new AxeBuilder({ page }).analyze();
  const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id);
  expect(serious).toEqual([]);
});
