import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from './fixtures';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, SERVER_BINARY, serverEnv } from '../playwright.config';

// A launch room from an operator's preparation to a sponsor's signature in the
// browser, then a readiness change that makes it stale. Its own server instance
// on its own database, so that restarting it with a dependency configured (and
// proof runs recorded by other test files) change readiness for this file alone.
const ADDR = '127.0.0.1:3104';
const BASE = `http://${ADDR}`;
const STAMP = Date.now();
const OPERATOR = `room-operator-${STAMP}@example.com`;
const SPONSOR = `room-sponsor-${STAMP}@example.com`;
const PASSWORD = 'a long e2e password, not a secret';
const SLUG = `room-${STAMP}`;
const MAIN_DB = process.env.DATABASE_URL ?? '';
const ROOM_DB = MAIN_DB.replace(/\/[^/]*$/, '/clearance_e2e_rooms');
const env = (extra: Record<string, string> = {}) => serverEnv(ADDR, { DATABASE_URL: ROOM_DB, ...extra });
const REQUIRED_GATES = ['order-form-scope', 'authenticated-tenant-access', 'support-incident-fallback'];

test.describe.configure({ mode: 'serial' });

// The last test restarts the server under an open page: whatever the browser
// still asks of it (the event stream, a late favicon) is refused, and Chromium
// says so.
test.use({ expectedConsoleErrors: [/^Failed to load resource: net::ERR_CONNECTION_REFUSED$/] });

let server: ChildProcess | undefined;

async function start(extra: Record<string, string> = {}): Promise<ChildProcess> {
  const child = spawn(SERVER_BINARY, [], { cwd: ROOT, env: env(extra), stdio: 'ignore' });
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      if ((await fetch(`${BASE}/api/readiness`)).status === 200) return child;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  child.kill();
  throw new Error('the room server did not start');
}

async function stop(child: ChildProcess | undefined) {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

// Reads as the server's `system` role would: row-level security hides tenant rows
// from a session that names no role.
function psql(sql: string, url = ROOM_DB): string {
  return execFileSync('psql', [url, '-qtAX', '-c', "SET clearance.role = 'system'", '-c', sql], {
    encoding: 'utf8',
  }).trim();
}

async function signIn(page: Page, email: string, password: string, next: string) {
  await page.goto(`${BASE}/login?next=${encodeURIComponent(next)}`);
  await page.getByLabel('E-mail address').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

test.beforeAll(async () => {
  psql('DROP DATABASE IF EXISTS clearance_e2e_rooms', MAIN_DB);
  psql('CREATE DATABASE clearance_e2e_rooms', MAIN_DB);
  execFileSync(
    SERVER_BINARY,
    ['account', 'create', '--email', OPERATOR, '--name', 'Room Operator', '--role', 'operator'],
    { cwd: ROOT, env: env({ CLEARANCE_NEW_PASSWORD: PASSWORD }), encoding: 'utf8' },
  );
  server = await start();
});

test.afterAll(async () => {
  await stop(server);
});

let invitation = '';

test('an operator prepares a launch room: tenant, evidence, invitation', async ({ page }) => {
  test.setTimeout(90_000);
  await signIn(page, OPERATOR, PASSWORD, '/rooms');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Launch rooms');
  const form = page.getByTestId('new-tenant');
  await form.getByLabel('Name').fill('Globex <i>Design</i> Partner');
  await form.getByLabel('Slug').fill(SLUG);
  await form.getByLabel('Launch motion').selectOption({ label: 'Managed private beta' });
  await form.getByLabel('Billing route').selectOption({ label: 'invoice-only' });
  await form.getByRole('button', { name: 'Create tenant' }).click();

  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Globex <i>Design</i> Partner launch room');
  await expect(page.getByTestId('room-state')).toContainText('setup');
  await expect(page.getByTestId('tenant-status')).toContainText('conditional');
  await expect(page.getByTestId('outstanding')).toContainText('Customer order-form scope: 3 evidence items outstanding');
  // Every gate of the seed, each with its consequence while missing.
  await expect(page.getByTestId('room-gate')).toHaveCount(6);
  await expect(page.locator('[data-gate="billing-route"]')).toContainText(
    'Run a no-charge private beta only; do not call the tenant a paid beta.',
  );

  // A missing reference is refused with its field named.
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  const roomUrl = page.url();
  const firstForm = page.locator('[data-gate="order-form-scope"]').getByTestId('attach-form').first();
  await firstForm.getByLabel('Reference or link').evaluate((input) => input.removeAttribute('required'));
  await firstForm.getByRole('button', { name: 'Attach' }).click();
  await expect(page.getByTestId('form-error')).toContainText('reference: enter a reference or link for the evidence');
  // Hydrated, the form called its server function: the typed error shows beside
  // the field, in the same page.
  await expect(firstForm.getByTestId('form-error')).toContainText('enter a reference or link');
  expect(page.url()).toBe(roomUrl);

  for (const gate of REQUIRED_GATES) {
    const forms = page.locator(`[data-gate="${gate}"]`).getByTestId('attach-form');
    for (let outstanding = await forms.count(); outstanding > 0; outstanding--) {
      const attach = forms.first();
      await attach.getByLabel('Reference or link').fill(`https://evidence.example/${gate}`);
      await attach.getByLabel('Note').fill('checked by the operator');
      await attach.getByRole('button', { name: 'Attach' }).click();
      await expect(forms).toHaveCount(outstanding - 1);
    }
    await expect(page.locator(`[data-gate="${gate}"]`)).toHaveAttribute('data-satisfied', 'true');
  }
  await expect(page.getByTestId('room-state')).toContainText('ready for acceptance');
  await expect(page.getByTestId('evidence-log').locator('tbody tr')).toHaveCount(11);

  // On paper: the room without its forms, every gate kept whole.
  await page.emulateMedia({ media: 'print' });
  await expect(page.getByTestId('attach-form').first()).toBeHidden();
  await expect(page.getByTestId('profile-form')).toBeHidden();
  await expect(page.getByTestId('room-gate').first()).toBeVisible();
  const pdf = await page.pdf({ format: 'A4' });
  expect(pdf.byteLength).toBeGreaterThan(10_000);
  await page.emulateMedia({ media: 'screen' });

  await page.goto(`${BASE}/admin`);
  const invite = page.getByTestId('new-invitation-form');
  await invite.getByLabel('Tenant').selectOption({ label: 'Globex <i>Design</i> Partner' });
  await invite.getByLabel("Sponsor's e-mail address").fill(SPONSOR);
  await invite.getByRole('button', { name: 'Create invitation link' }).click();
  invitation = (await page.getByTestId('invitation-link').textContent()) ?? '';
  expect(invitation).toContain('/invite/');
});

test('the sponsor signs launch acceptance in the browser; it is in PostgreSQL and the room is accepted', async ({
  page,
}) => {
  test.setTimeout(60_000);
  await page.goto(invitation);
  await page.getByLabel('Your name').fill('Ada Sponsor');
  await page.getByLabel(/Choose a password/).fill(PASSWORD);
  await page.getByRole('button', { name: 'Create my account' }).click();
  await page.goto(`${BASE}/rooms/${SLUG}`);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await expect(page.getByTestId('room-state')).toContainText('ready for acceptance');

  // Inline validation once hydrated: the field is named before anything is sent.
  const form = page.getByTestId('acceptance-form');
  const name = form.getByLabel('Signer name');
  await name.fill('x');
  await name.fill('');
  await expect(page.getByTestId('signer_name-error')).toHaveText('enter the signer name');
  await expect(name).toHaveAttribute('aria-invalid', 'true');
  await name.fill('Ada <script>window.pwned=1</script> Sponsor');
  await expect(page.getByTestId('signer_name-error')).toBeHidden();

  await form.getByLabel('Signer role').fill('Chief Operating Officer');
  await form.getByLabel('Approval reference').fill('PO-2026-0042');
  await form.getByLabel('Support email').check();
  await form.getByLabel('Residual risks').fill('Support e-mail stays manual during the beta.');
  const axe = await new AxeBuilder({ page }).analyze();
  expect(axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id)).toEqual([]);
  await page.getByRole('button', { name: 'Review acceptance' }).click();

  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Review launch acceptance');
  await expect(page.getByTestId('review-motion')).toHaveText('Managed private beta');
  await expect(page.getByTestId('review-digest')).toHaveText(/^[0-9a-f]{64}$/);
  await expect(page.getByTestId('review-open-blockers')).toContainText('Authenticated smoke fixture records');
  await expect(page.getByTestId('review-exclusions')).toHaveText('Support email');
  const digest = (await page.getByTestId('review-digest').textContent()) ?? '';
  await page.getByRole('button', { name: 'Sign launch acceptance' }).click();

  await expect(page.getByTestId('form-done')).toHaveText(
    'Launch acceptance signed by Ada <script>window.pwned=1</script> Sponsor.',
  );
  await expect(page.getByTestId('room-state')).toContainText('accepted');
  await expect(page.getByTestId('room-live')).toHaveText('✓ live');
  await expect(page.getByTestId('exclusions')).toHaveText('support-email');
  expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();

  const stored = psql(
    `SELECT r.signer_name || '|' || r.readiness_digest || '|' || array_to_string(r.exclusions, ',')
       FROM acceptance_records r JOIN tenants t ON t.id = r.tenant_id WHERE t.slug = '${SLUG}'`,
  );
  expect(stored).toBe(`Ada <script>window.pwned=1</script> Sponsor|${digest}|support-email`);
  const verified = execFileSync(SERVER_BINARY, ['audit', 'verify'], { cwd: ROOT, env: env(), encoding: 'utf8' });
  expect(verified).toContain(`ok      ${SLUG} acceptance: 1 record`);
  expect(verified).toContain(`ok      ${SLUG} evidence: 11 records`);

  // The sponsor keeps the signature's receipt from the room and checks it as on
  // another machine: no database, no server, only the log's public key.
  const key = (await (await fetch(`${BASE}/api/log/key`)).text()).trim();
  expect(key).toMatch(/^[^+\s]+\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+$/);
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByTestId('receipt-link').first().click(),
  ]);
  const file = path.join(os.tmpdir(), `clearance-receipt-${STAMP}.json`);
  await download.saveAs(file);
  const offline = { PATH: process.env.PATH ?? '' };
  const checked = execFileSync(SERVER_BINARY, ['receipt', 'verify', file, '--key', key], {
    cwd: os.tmpdir(),
    env: offline,
    encoding: 'utf8',
  });
  expect(checked).toMatch(/^ok: acceptance record 1 of tenant \d+ \(digest [0-9a-f]{64}\) is leaf \d+ of \d+ in the log /);
  // One changed byte in the record, and the command says so (exit 1).
  const receipt = JSON.parse(readFileSync(file, 'utf8'));
  receipt.record.approval_reference = 'PO-2026-0043';
  writeFileSync(file, JSON.stringify(receipt));
  let refused = '';
  try {
    execFileSync(SERVER_BINARY, ['receipt', 'verify', file, '--key', key], { cwd: os.tmpdir(), env: offline, encoding: 'utf8' });
  } catch (error) {
    const failed = error as { status?: number; stdout?: string };
    expect(failed.status).toBe(1);
    refused = failed.stdout ?? '';
  }
  expect(refused).toContain('FAILED: the record was altered');
});

test('a readiness change makes the acceptance stale on the open page; signing again without JavaScript makes it live', async ({
  page,
  browser,
}) => {
  test.setTimeout(90_000);
  await signIn(page, SPONSOR, PASSWORD, `/rooms/${SLUG}`);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await expect(page.getByTestId('room-state')).toContainText('accepted');
  await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'live');

  // The deployment changes: RESEND_API_KEY is configured now.
  await stop(server);
  server = await start({ RESEND_API_KEY: 'configured-for-the-room-test' });
  await expect(page.getByTestId('room-state')).toContainText('changed since acceptance', { timeout: 20_000 });
  await expect(page.getByTestId('changed-since')).toContainText('RESEND_API_KEY: missing → configured');
  await expect(page.getByTestId('room-live')).toHaveText('not live');
  await page.goto(`${BASE}/rooms`);
  await expect(page.getByTestId('room-row').filter({ hasText: 'Globex' })).toContainText('not live');

  // Re-signing with plain HTML forms only.
  const context = await browser.newContext({ javaScriptEnabled: false });
  const plain = await context.newPage();
  await signIn(plain, SPONSOR, PASSWORD, `/rooms/${SLUG}`);
  await expect(plain.getByTestId('room-state')).toContainText('changed since acceptance');
  const again = plain.getByTestId('acceptance-form');
  await again.getByLabel('Signer name').fill('Ada Sponsor');
  await again.getByLabel('Signer role').fill('');
  await again.getByLabel('Approval reference').fill('PO-2026-0043');
  await plain.getByRole('button', { name: 'Review acceptance' }).click();
  // Refused by the server, field named, entries kept.
  await expect(plain.getByTestId('signer_role-error')).toHaveText('enter the signer role');
  await expect(again.getByLabel('Approval reference')).toHaveValue('PO-2026-0043');
  await again.getByLabel('Signer role').fill('COO');
  await plain.getByRole('button', { name: 'Review acceptance' }).click();
  await plain.getByRole('button', { name: 'Sign launch acceptance' }).click();
  await expect(plain.getByTestId('room-state')).toContainText('accepted');
  await expect(plain.getByTestId('acceptance-records').locator('tbody tr')).toHaveCount(2);
  await context.close();
  expect(psql(`SELECT count(*) FROM acceptance_records r JOIN tenants t ON t.id = r.tenant_id WHERE t.slug = '${SLUG}'`)).toBe(
    '2',
  );
});
