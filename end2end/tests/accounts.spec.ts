import AxeBuilder from '@axe-core/playwright';
import { expect, test } from './fixtures';
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

test('an operator invites a buyer sponsor, who joins through the link and reaches no administration', async ({
  page,
  browser,
}) => {
  const slug = `acme-${Date.now()}`;
  await page.goto('/login?next=%2Fadmin');
  await page.getByLabel('E-mail address').fill(EMAIL);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/admin$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Administration');

  await page.getByRole('link', { name: 'Create tenants and prepare their launch rooms' }).click();
  const tenant = page.getByTestId('new-tenant');
  await tenant.getByLabel('Name').fill('Acme E2E Ltd');
  await tenant.getByLabel('Slug').fill(slug);
  await tenant.getByLabel('Launch motion').selectOption({ label: 'Managed private beta' });
  await tenant.getByRole('button', { name: 'Create tenant' }).click();
  await expect(page).toHaveURL(new RegExp(`/rooms/${slug}\\?done=`));
  await expect(page.getByTestId('form-done')).toHaveText(`Created tenant Acme E2E Ltd (${slug}).`);
  // A second tenant, whose room the sponsor must never reach.
  await page.goto('/rooms');
  await tenant.getByLabel('Name').fill('Other E2E plc');
  await tenant.getByLabel('Slug').fill(`other-${slug}`);
  await tenant.getByRole('button', { name: 'Create tenant' }).click();
  await expect(page.getByTestId('form-done')).toContainText('Created tenant Other E2E plc');
  await page.goto('/admin');

  const invite = page.getByTestId('new-invitation-form');
  await invite.getByLabel('Tenant').selectOption({ label: 'Acme E2E Ltd' });
  await invite.getByLabel("Sponsor's e-mail address").fill(`sponsor@${slug}.example`);
  await invite.getByRole('button', { name: 'Create invitation link' }).click();
  const link = (await page.getByTestId('invitation-link').textContent()) ?? '';
  expect(link).toMatch(/^http:\/\/127\.0\.0\.1:3100\/invite\/[0-9a-f]{64}$/);
  await expect(page.getByTestId('invitations')).toContainText(`sponsor@${slug}.example`);
  await expect(page.getByTestId('invitations')).toContainText('pending');
  const results = await new AxeBuilder({ page }).analyze();
  expect(results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id)).toEqual(
    [],
  );
  // Shown once.
  await page.reload();
  await expect(page.getByTestId('invitation-link')).toHaveCount(0);

  const sponsorContext = await browser.newContext();
  const sponsor = await sponsorContext.newPage();
  await sponsor.goto(link);
  await expect(sponsor.getByTestId('invitation-for')).toContainText('buyer sponsor of Acme E2E Ltd');
  await sponsor.getByLabel('Your name').fill('Sam <b>Sponsor</b>');
  await sponsor.getByLabel(/Choose a password/).fill('sponsor password, long enough');
  await sponsor.getByRole('button', { name: 'Create my account' }).click();
  await expect(sponsor).toHaveURL(/\/$/);
  // The name is text, never markup.
  await expect(sponsor.getByTestId('account-bar')).toContainText('Signed in as Sam <b>Sponsor</b> (buyer sponsor)');

  const denied = await sponsor.goto('/admin');
  expect(denied?.status()).toBe(403);
  await expect(sponsor.getByText('your account may not see this page')).toBeVisible();

  // Their own launch room, and no other.
  await sponsor.goto('/rooms');
  await expect(sponsor.getByTestId('rooms')).toContainText('Acme E2E Ltd');
  await expect(sponsor.getByTestId('rooms')).not.toContainText('Other E2E plc');
  await sponsor.getByRole('link', { name: 'Acme E2E Ltd' }).click();
  await expect(sponsor.getByRole('heading', { level: 1 })).toHaveText('Acme E2E Ltd launch room');
  const other = await sponsor.goto(`/rooms/other-${slug}`);
  expect(other?.status()).toBe(404);
  await expect(sponsor.getByText('Other E2E plc')).toHaveCount(0);

  const reused = await sponsorContext.newPage();
  await reused.goto(link);
  await expect(reused.getByTestId('invitation-unusable')).toBeVisible();
  await reused.close();

  // The password they chose is theirs: out, and back in with it.
  await sponsor.goto('/');
  await sponsor.getByRole('button', { name: 'Sign out' }).click();
  await expect(sponsor.getByTestId('account-bar').getByRole('link', { name: 'Sign in' })).toBeVisible();
  const signedOut = await sponsor.goto(`/rooms/${slug}`);
  expect(signedOut?.status()).toBe(401);
  await sponsor.goto('/login');
  await sponsor.getByLabel('E-mail address').fill(`sponsor@${slug}.example`);
  await sponsor.getByLabel('Password').fill('sponsor password, long enough');
  await sponsor.getByRole('button', { name: 'Sign in' }).click();
  await expect(sponsor).toHaveURL(/\/$/);
  await expect(sponsor.getByTestId('account-bar')).toContainText('Signed in as Sam <b>Sponsor</b> (buyer sponsor)');
  await sponsor.goto(`/rooms/${slug}`);
  await expect(sponsor.getByRole('heading', { level: 1 })).toHaveText('Acme E2E Ltd launch room');
  const stillOther = await sponsor.goto(`/rooms/other-${slug}`);
  expect(stillOther?.status()).toBe(404);
  await expect(sponsor.getByText('Other E2E plc')).toHaveCount(0);
  await sponsorContext.close();

  await page.reload();
  await expect(page.getByTestId('invitations')).toContainText('used');
  await expect(page.getByTestId('access-log')).toContainText('invitation used');
  await expect(page.getByTestId('access-log')).toContainText('access denied');
});
