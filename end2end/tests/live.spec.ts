import { expect, test, type Page } from './fixtures';
import { spawn, type ChildProcess } from 'node:child_process';
import { API_TOKEN, ROOT, SERVER_BINARY, serverEnv } from '../playwright.config';

// A second Clearance instance plays the watched deployment; a third watches it.
const DEPLOYMENT_ADDR = '127.0.0.1:3102';
const WATCHER_ADDR = '127.0.0.1:3103';
const WATCHER = `http://${WATCHER_ADDR}`;

async function start(addr: string, extra: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(SERVER_BINARY, [], { cwd: ROOT, env: serverEnv(addr, extra), stdio: 'ignore' });
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      const response = await fetch(`http://${addr}/api/readiness`);
      if (response.status === 200) return child;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  child.kill();
  throw new Error(`server on ${addr} did not start`);
}

async function stop(child: ChildProcess | undefined) {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

const liveCount = (page: Page) => page.getByTestId('live-blocker-count').locator('dd');

test.describe.configure({ mode: 'serial' });

// These tests stop the server under an open page: whatever the browser still asks
// of it (the event stream, a late favicon) is refused, and Chromium says so.
test.use({ expectedConsoleErrors: [/^Failed to load resource: net::ERR_CONNECTION_REFUSED$/] });

let deployment: ChildProcess | undefined;
let watcher: ChildProcess | undefined;

test.afterAll(async () => {
  await stop(deployment);
  await stop(watcher);
});

test('a watching instance follows the watched deployment live, and marks it stale when it dies', async ({
  page,
  request,
}) => {
  test.setTimeout(60_000);
  deployment = await start(DEPLOYMENT_ADDR, { CLEARANCE_SOURCE_NAME: 'e2e-deployment' });
  watcher = await start(WATCHER_ADDR, {
    CLEARANCE_READINESS_URL: `http://${DEPLOYMENT_ADDR}/api/readiness`,
    CLEARANCE_STALE_AFTER_SECS: '3',
  });

  await page.goto(WATCHER + '/');
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'live');
  await expect(page.getByTestId('source')).toHaveText(`http://${DEPLOYMENT_ADDR}/api/readiness`);
  await expect(liveCount(page)).toHaveText('7');
  await page.evaluate(() => ((window as unknown as { marker: string }).marker = 'same document'));

  // A proof run recorded through the watcher's API.
  const recorded = await request.post(WATCHER + '/api/proofs/authenticated-access-rls/runs', {
    headers: { authorization: `Bearer ${API_TOKEN}` },
    data: { status: 'passed', actor: 'e2e: watcher' },
  });
  expect(recorded.status()).toBe(201);
  const fixtures = page
    .getByTestId('blocker-row')
    .filter({ has: page.locator('.blocker__title', { hasText: 'Authenticated smoke fixture records' }) });
  await expect(fixtures.getByTestId('last-run')).toContainText('Last run passed');
  await expect(liveCount(page)).toHaveText('7'); // data_sets is still missing there

  // Configure the dependency on the deployment: the open page follows.
  await stop(deployment);
  deployment = await start(DEPLOYMENT_ADDR, {
    CLEARANCE_SOURCE_NAME: 'e2e-deployment',
    data_sets: 'seeded',
    data_set_records: 'seeded',
  });
  await expect(liveCount(page)).toHaveText('6', { timeout: 10_000 });
  await expect(page.getByTestId('changes')).toContainText('Authenticated smoke fixture records cleared');
  await expect(page.getByTestId('history-chart')).toBeVisible();

  // Kill the deployment: stale at once, unreachable once the window passes.
  await stop(deployment);
  await expect(page.getByTestId('stale')).toContainText('has not answered since', { timeout: 10_000 });
  await expect(page.getByTestId('advisory-readiness')).toContainText('not_ready', { timeout: 10_000 });
  await expect(page.getByTestId('failing-checks')).toContainText('deployment reachable');
  expect(await page.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe('same document');

  // The strict gate answers 503 with machine-readable reasons.
  const strict = await request.get(WATCHER + '/api/readiness?strict=true');
  expect(strict.status()).toBe(503);
  const body = await strict.json();
  expect(body.ready).toBe(false);
  expect(body.reasons[0]).toBe('strict readiness is not_ready');
});

test('the page says when live updates stop, and reconnects by itself', async ({ page }) => {
  test.setTimeout(60_000);
  await stop(watcher);
  watcher = await start(WATCHER_ADDR, { CLEARANCE_SOURCE_NAME: 'e2e-reconnect' });
  await page.goto(WATCHER + '/');
  await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'live');
  await stop(watcher);
  await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'reconnecting');
  watcher = await start(WATCHER_ADDR, { CLEARANCE_SOURCE_NAME: 'e2e-reconnect' });
  await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'live', { timeout: 10_000 });
});
