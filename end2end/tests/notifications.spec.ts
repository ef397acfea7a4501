import { expect, test, type Page } from './fixtures';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { API_TOKEN, ROOT, SERVER_BINARY, serverEnv } from '../playwright.config';

// Changes reaching people where they are, through real receivers: a real SMTP
// server (smtp-server + mailparser, end2end/receivers/smtp-sink.mjs) reads the
// mails, and a webhook receiver verifies each delivery with the
// `standardwebhooks` library (end2end/receivers/webhook-receiver.mjs). Its own
// server and database, so the proof runs it records change nothing elsewhere.
const ADDR = '127.0.0.1:3106';
const BASE = `http://${ADDR}`;
const STAMP = Date.now();
const OPERATOR = `notify-operator-${STAMP}@example.com`;
const OWNER = `notify-owner-${STAMP}@example.com`;
const SPONSOR = `notify-sponsor-${STAMP}@example.com`;
const PASSWORD = 'a long e2e password, not a secret';
const MAIN_DB = process.env.DATABASE_URL ?? '';
const DB = MAIN_DB.replace(/\/[^/]*$/, '/clearance_e2e_notify');
const DIR = mkdtempSync(path.join(tmpdir(), 'clearance-notify-'));
const MAILS = path.join(DIR, 'mails.jsonl');
const PROOF = 'stripe-self-serve-billing';

test.describe.configure({ mode: 'serial' });

let sink: ChildProcess | undefined;
let server: ChildProcess | undefined;
let receiver: ChildProcess | undefined;

type Mail = { to: string[]; subject: string; text: string; html: string | null; headers: Record<string, string> };

function psql(sql: string, url = MAIN_DB): void {
  execFileSync('psql', [url, '-qtAX', '-c', sql], { encoding: 'utf8' });
}

/** Starts a node script that prints one JSON or text line once listening. */
async function startReceiver(args: string[]): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn('node', args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (chunk: Buffer) => resolve(chunk.toString('utf8').trim()));
    child.once('exit', (code) => reject(new Error(`${args[0]} exited with ${code}`)));
  });
  return { child, line };
}

function mailsTo(address: string): Mail[] {
  if (!existsSync(MAILS)) return [];
  return readFileSync(MAILS, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Mail)
    .filter((mail) => mail.to.includes(address));
}

async function recordFailedRun(actor: string) {
  const recorded = await fetch(`${BASE}/api/proofs/${PROOF}/runs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ status: 'failed', actor }),
  });
  expect(recorded.status).toBe(201);
}

async function signIn(page: Page, email: string, next: string) {
  await page.goto(`${BASE}/login?next=${encodeURIComponent(next)}`);
  await page.getByLabel('E-mail address').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

test.beforeAll(async () => {
  psql('DROP DATABASE IF EXISTS clearance_e2e_notify');
  psql('CREATE DATABASE clearance_e2e_notify');
  const started = await startReceiver(['end2end/receivers/smtp-sink.mjs', MAILS]);
  sink = started.child;
  const smtpPort = JSON.parse(started.line).port as number;
  const env = serverEnv(ADDR, {
    DATABASE_URL: DB,
    CLEARANCE_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
    CLEARANCE_MAIL_FROM: 'Clearance <clearance@example.com>',
    CLEARANCE_WEBHOOK_ALLOW_PRIVATE: 'true',
  });
  for (const [email, role] of [
    [OPERATOR, 'operator'],
    [OWNER, 'commercial-owner'],
  ]) {
    execFileSync(SERVER_BINARY, ['account', 'create', '--email', email, '--name', `E2E ${role}`, '--role', role], {
      cwd: ROOT,
      env: { ...env, CLEARANCE_NEW_PASSWORD: PASSWORD },
      encoding: 'utf8',
    });
  }
  server = spawn(SERVER_BINARY, [], { cwd: ROOT, env, stdio: 'ignore' });
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      if ((await fetch(`${BASE}/api/readiness`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('the notifications server did not start');
});

test.afterAll(async () => {
  for (const child of [receiver, server, sink]) child?.kill('SIGTERM');
});

test('a commercial owner subscribes by e-mail, gets the mail from a real SMTP server, and unsubscribes from it', async ({
  page,
}) => {
  test.setTimeout(60_000);
  await signIn(page, OWNER, '/');
  await page.getByRole('link', { name: 'E-mail notifications' }).click();
  await expect(page).toHaveURL(`${BASE}/account/notifications`);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('E-mail notifications');
  await expect(page.getByTestId('notifications-email')).toHaveText(OWNER);
  await expect(page.getByTestId('no-subscriptions')).toBeVisible();
  const form = page.getByTestId('new-subscription');
  await form.getByLabel('A proof run failed').check();
  await form.getByRole('button', { name: 'Subscribe' }).click();
  await expect(page.getByTestId('subscriptions')).toContainText('A proof run failed');

  await recordFailedRun('e2e: card declined');
  await expect.poll(() => mailsTo(OWNER).length, { timeout: 20_000 }).toBe(1);
  const [mail] = mailsTo(OWNER);
  expect(mail.subject).toBe('[Clearance] Proof failed: Stripe self-serve billing proof');
  expect(mail.text).toContain(`Open in Clearance: ${BASE}/`);
  expect(mail.html).toContain('Open in Clearance');
  const unsubscribe = /Unsubscribe: (\S+)/.exec(mail.text)?.[1] ?? '';
  expect(unsubscribe).toMatch(new RegExp(`^${BASE}/unsubscribe/`));
  expect(mail.html).toContain(unsubscribe);
  expect(mail.headers['list-unsubscribe']).toBe(`<${unsubscribe}>`);

  // The link from the mail, in the browser: confirm, and no more mail.
  await page.goto(unsubscribe);
  await page.getByRole('button', { name: 'Unsubscribe' }).click();
  await expect(page.getByTestId('unsubscribed')).toHaveText('You are unsubscribed: this mail will not come again.');
  await page.goto(`${BASE}/account/notifications`);
  await expect(page.getByTestId('no-subscriptions')).toBeVisible();
  await recordFailedRun('e2e: declined again');
  await page.waitForTimeout(3_000);
  expect(mailsTo(OWNER)).toHaveLength(1);
});

test('an operator points a webhook at a receiver that verifies it with standardwebhooks, and sees it delivered', async ({
  page,
}) => {
  test.setTimeout(60_000);
  await signIn(page, OPERATOR, '/admin/webhooks');
  await expect(page).toHaveURL(`${BASE}/admin/webhooks`);
  const port = 3107;
  const form = page.getByTestId('new-endpoint');
  await form.getByLabel('Destination URL').fill(`http://127.0.0.1:${port}/hook`);
  await form.getByLabel('Description (optional)').fill('E2E receiver');
  await form.getByLabel(/A proof run failed/).check();
  await form.getByRole('button', { name: 'Create endpoint' }).click();
  const secret = (await page.getByTestId('webhook-secret').textContent()) ?? '';
  expect(secret).toMatch(/^whsec_/);

  const received = path.join(DIR, 'webhooks.jsonl');
  receiver = (
    await startReceiver(['end2end/receivers/webhook-receiver.mjs', String(port), secret, received])
  ).child;
  await recordFailedRun('e2e: webhook');
  const lines = () =>
    existsSync(received)
      ? readFileSync(received, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line))
      : [];
  await expect.poll(() => lines().length, { timeout: 20_000 }).toBe(1);
  const [delivery] = lines();
  expect(delivery.rejected).toBeUndefined();
  expect(delivery.type).toBe('proof.failed');
  expect(delivery.payload.data.proof).toBe(PROOF);
  expect(delivery.payload.data.url).toBe(`${BASE}/`);

  await page.getByRole('link', { name: `http://127.0.0.1:${port}/hook` }).click();
  const row = page.getByTestId('deliveries').getByRole('row').filter({ hasText: delivery.id });
  await expect(row).toContainText('proof.failed');
  await expect(row).toContainText('delivered');
  await expect(row).toContainText('204');
});

test('an invitation is mailed to the invited address with the link the operator sees once', async ({ page }) => {
  test.setTimeout(60_000);
  await signIn(page, OPERATOR, '/rooms');
  const tenant = page.getByTestId('new-tenant');
  await tenant.getByLabel('Name').fill('Initech');
  await tenant.getByLabel('Slug').fill(`initech-${STAMP}`);
  await tenant.getByLabel('Launch motion').selectOption({ label: 'Managed private beta' });
  await tenant.getByLabel('Billing route').selectOption({ label: 'invoice-only' });
  await tenant.getByRole('button', { name: 'Create tenant' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Initech launch room');

  await page.goto(`${BASE}/admin`);
  const invite = page.getByTestId('new-invitation-form');
  await invite.getByLabel('Tenant').selectOption({ label: 'Initech' });
  await invite.getByLabel("Sponsor's e-mail address").fill(SPONSOR);
  await invite.getByRole('button', { name: 'Create invitation link' }).click();
  const shown = (await page.getByTestId('invitation-link').textContent()) ?? '';
  expect(shown).toContain(`${BASE}/invite/`);

  await expect.poll(() => mailsTo(SPONSOR).length, { timeout: 20_000 }).toBe(1);
  const [mail] = mailsTo(SPONSOR);
  expect(mail.subject).toBe("[Clearance] Invitation to Initech's launch room");
  expect(mail.text).toContain(shown);
  await page.context().clearCookies();
  await page.goto(shown);
  await expect(page.getByLabel('Your name')).toBeVisible();
});
