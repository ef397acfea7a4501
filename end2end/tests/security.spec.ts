import { expect, test, type Page } from './fixtures';
import { execFileSync } from 'node:child_process';
import { DEFAULT_URL, ONE_CONFIGURED_URL, ROOT, SERVER_BINARY, serverEnv } from '../playwright.config';

// The security headers and the Content Security Policy as the browser meets
// them, and `next` after signing in as Chromium's own URL parser reads it.
// (Every other spec also fails on any policy violation: see fixtures.ts.)

const STAMP = Date.now();
const PASSWORD = 'a long e2e password, not a secret';
// Each hostile sign-in spends one attempt of its account's allowance: one
// account per few attempts, on the second server (its own throttle), so the
// rest of the suite is never slowed by this file.
const ACCOUNTS = [0, 1, 2].map((n) => `redirect-${n}-${STAMP}@example.com`);

// Spellings of another site that browsers read as one (tabs and newlines
// dropped, `\` read as `/`, a scheme resolved against the page), raw and
// percent-encoded once and twice.
const HOSTILE_NEXT = ['/\t/evil.example', '/%09/evil.example', '/\n/x', '//x', '/\\x', 'https:x', '/%2F/evil.example', '/%5C/evil.example', '/%2509/evil.example'];

test.describe.configure({ mode: 'serial' });

test.beforeAll(() => {
  for (const email of ACCOUNTS) {
    execFileSync(SERVER_BINARY, ['account', 'create', '--email', email, '--name', 'Redirect Tester', '--role', 'operator'], {
      cwd: ROOT,
      env: { ...serverEnv('127.0.0.1:0'), CLEARANCE_NEW_PASSWORD: PASSWORD },
      encoding: 'utf8',
    });
  }
});

async function hydrated(page: Page) {
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
}

test('every answer carries the security headers, and each page its own nonce', async ({ page, request }) => {
  const nonces = new Set<string>();
  for (const path of ['/', '/', '/login', '/motions/managed-private-beta', '/no/such/page']) {
    const response = await request.get(path);
    const policy = response.headers()['content-security-policy'] ?? '';
    for (const directive of ["frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'", "object-src 'none'"]) {
      expect(policy, path).toContain(directive);
    }
    expect(policy, path).not.toContain('unsafe-inline');
    const nonce = /'nonce-([^']+)'/.exec(policy)?.[1] ?? '';
    expect(nonce, path).not.toBe('');
    const html = await response.text();
    const scripts = html.match(/<script\b[^>]*>/g) ?? [];
    expect(scripts.length, path).toBeGreaterThan(1);
    for (const script of scripts) expect(script, path).toContain(`nonce="${nonce}"`);
    expect(html, `${path}: no inline event handler`).not.toMatch(/<[^>]+\son[a-z]+=/i);
    nonces.add(nonce);
    expect(response.headers()['x-content-type-options'], path).toBe('nosniff');
    expect(response.headers()['referrer-policy'], path).toBe('strict-origin-when-cross-origin');
    expect(response.headers()['strict-transport-security'], `${path}: plain http`).toBeUndefined();
  }
  expect(nonces.size, 'a nonce is never reused, not even for a page from memory').toBe(5);

  const api = await request.get('/api/readiness');
  expect(api.headers()['x-content-type-options']).toBe('nosniff');
  expect(api.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
  const invitation = await request.get('/invite/0000000000000000000000000000000000000000000000000000000000000000');
  expect(invitation.headers()['referrer-policy']).toBe('no-referrer');

  // The browser gets the same, and the page hydrates under it.
  const response = await page.goto('/');
  expect(response?.headers()['content-security-policy']).toContain("script-src 'self' 'nonce-");
  await hydrated(page);
});

test.describe('the policy itself', () => {
  // This test breaks the policy on purpose, to show it holds and is heard.
  test.use({
    expectedCspViolations: [/script-src-(elem|attr) refused/],
    expectedConsoleErrors: [/^Executing inline (script|event handler) violates the following Content Security Policy directive/],
  });

  test('blocks a script and an event handler injected without the nonce, and the suite hears it', async ({
    page,
    htmlChecks,
  }) => {
    await page.goto('/');
    await hydrated(page);
    await page.evaluate(() => {
      const script = document.createElement('script');
      script.textContent = 'window.__injected = "script";';
      document.body.append(script);
      const button = document.createElement('button');
      button.id = 'injected';
      button.setAttribute('onclick', 'window.__injected = "handler"');
      button.textContent = 'injected';
      document.body.append(button);
    });
    await page.locator('#injected').click();
    expect(await page.evaluate(() => (window as unknown as { __injected?: string }).__injected)).toBeUndefined();
    await expect.poll(() => htmlChecks.cspViolations.length).toBeGreaterThanOrEqual(2);
    expect(htmlChecks.cspViolations.join('\n')).toContain('script-src-elem');
    expect(htmlChecks.cspViolations.join('\n')).toContain('script-src-attr');
  });
});

test('the sign-in page echoes only a path on this site', async ({ page }) => {
  for (const next of HOSTILE_NEXT) {
    await page.goto(`/login?next=${encodeURIComponent(next)}`);
    await expect(page.locator('input[name="next"]'), JSON.stringify(next)).toHaveValue('/');
  }
  await page.goto(`/login?next=${encodeURIComponent('/rooms?x=1')}`);
  await expect(page.locator('input[name="next"]')).toHaveValue('/rooms?x=1');
});

test('signing in with a next that leaves the site lands on the site’s own home page', async ({ page }) => {
  for (const [index, next] of HOSTILE_NEXT.entries()) {
    const email = ACCOUNTS[Math.floor(index / 3)];
    await page.context().clearCookies();
    await page.goto(`${ONE_CONFIGURED_URL}/login`);
    // The form posts `next` as the page was asked for it, bypassing the page's
    // own cleaning: the server must refuse it by itself.
    await page.locator('input[name="next"]').evaluate((input: HTMLInputElement, value) => {
      input.value = value;
    }, next);
    await page.getByLabel('E-mail address').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => url.pathname === '/' || url.origin !== ONE_CONFIGURED_URL);
    expect(page.url(), JSON.stringify(next)).toBe(`${ONE_CONFIGURED_URL}/`);
    await expect(page.getByTestId('account-bar')).toContainText('Signed in as Redirect Tester');
  }
  expect(DEFAULT_URL).not.toBe(ONE_CONFIGURED_URL);
});
