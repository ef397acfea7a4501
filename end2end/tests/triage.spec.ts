import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from './fixtures';
import { API_TOKEN, ONE_CONFIGURED_URL } from '../playwright.config';

const rows = (page: Page) => page.getByTestId('blocker-row');
const titles = (page: Page) => rows(page).locator('.blocker__title').allInnerTexts();
const facet = (page: Page, name: string, value: string) =>
  page.locator(`a[data-facet="${name}"][data-value="${value}"]`);
const table = (page: Page) => page.getByTestId('live-blockers');

async function hydrated(page: Page) {
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
}

test.describe('filters after hydration', () => {
  test('each facet narrows the table, and the counts follow the other filters', async ({ page }) => {
    await page.goto('/');
    await hydrated(page);

    // Motion: the blockers standing between managed private beta and clear.
    await facet(page, 'motion', 'managed-private-beta').click();
    await expect(page).toHaveURL(/\?motion=managed-private-beta$/);
    await expect(table(page)).toHaveAttribute('data-query', 'motion=managed-private-beta');
    expect(await titles(page)).toEqual(['Authenticated smoke fixture records', 'Support email']);
    await expect(facet(page, 'motion', 'managed-private-beta')).toHaveAttribute('aria-current', 'true');
    // Scope counts now count within the motion's blockers.
    await expect(facet(page, 'scope', 'private-beta')).toHaveText('private beta (2)');
    await expect(facet(page, 'scope', 'enterprise')).toHaveText('enterprise (0)');

    // Dependency state: nothing is configured on this server.
    await facet(page, 'motion', '').click();
    await facet(page, 'dependency', 'configured').click();
    await expect(page).toHaveURL(/\?dependency=configured$/);
    await expect(rows(page)).toHaveCount(0);
    await expect(page.getByTestId('match-summary')).toHaveText('No live blockers match these filters.');
    await facet(page, 'dependency', 'missing').click();
    await expect(rows(page)).toHaveCount(7);

    // State: nothing is cleared; "live and cleared" shows all seven.
    await facet(page, 'state', 'cleared').click();
    await expect(page.getByRole('heading', { name: 'Cleared blockers' })).toBeVisible();
    await expect(rows(page)).toHaveCount(0);
    await facet(page, 'state', 'all').click();
    await expect(rows(page)).toHaveCount(7);
    await expect(page).toHaveURL(/\?state=all&dependency=missing$/);

    // Clearing is one action.
    await page.getByTestId('clear-filters').click();
    await expect(page).toHaveURL(/\/$/);
    await expect(rows(page)).toHaveCount(7);
    await expect(page.getByTestId('clear-filters')).toHaveCount(0);
  });

  test('a filter chosen while the previous one is still loading builds on it', async ({ page }) => {
    await page.goto('/?motion=managed-private-beta');
    await hydrated(page);
    // Hold back the page "any motion" asks for, so that the next click lands on
    // links rendered with the motion still chosen, as on a slow connection.
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route(
      (url) => url.pathname === '/' && url.search === '',
      async (route) => {
        await held;
        await route.continue();
      },
    );
    await facet(page, 'motion', '').click();
    // The link still points at the motion: following it as it is would bring the
    // motion back.
    await expect(facet(page, 'dependency', 'configured')).toHaveAttribute(
      'href',
      '/?motion=managed-private-beta&dependency=configured',
    );
    await facet(page, 'dependency', 'configured').click();
    release();

    // Both choices hold: any motion, and only configured dependencies.
    await expect(page).toHaveURL(/\/\?dependency=configured$/);
    await expect(table(page)).toHaveAttribute('data-query', 'dependency=configured');
    await expect(facet(page, 'motion', '')).toHaveAttribute('aria-current', 'true');
    await expect(facet(page, 'dependency', 'configured')).toHaveAttribute('aria-current', 'true');
    await expect(page.getByTestId('match-summary')).toHaveText('No live blockers match these filters.');
  });

  test('search matches titles, dependency names and proof names as you type', async ({ page }) => {
    await page.goto('/');
    await hydrated(page);
    const search = page.getByRole('searchbox', { name: 'Search titles, dependency names and proofs' });

    await search.fill('saml');
    await expect(table(page)).toHaveAttribute('data-query', 'q=saml');
    expect(await titles(page)).toEqual(['Enterprise SAML IdP config']);

    await search.fill('stripe_price'); // a dependency name
    await expect(table(page)).toHaveAttribute('data-query', 'q=stripe_price');
    expect(await titles(page)).toEqual(['Stripe self-serve billing']);

    await search.fill('SCIM'); // the proof shared by four blockers
    await expect(table(page)).toHaveAttribute('data-query', 'q=SCIM');
    await expect(rows(page)).toHaveCount(4);
    await expect(facet(page, 'scope', 'enterprise')).toHaveText('enterprise (4)');
    await expect(facet(page, 'scope', 'private-beta')).toHaveText('private beta (0)');

    // Facets keep the search, and the search keeps the facets.
    await facet(page, 'scope', 'enterprise').click();
    await expect(page).toHaveURL(/\?scope=enterprise&q=SCIM$/);
    await search.fill('scim workday');
    await expect(table(page)).toHaveAttribute('data-query', 'scope=enterprise&q=scim+workday');
    expect(await titles(page)).toEqual(['HRIS connector credentials']);
    await expect(search).toHaveValue('scim workday');
  });

  test('a filtered URL opened in a fresh page renders the same rows, on the server too', async ({ page, browser, request }) => {
    await page.goto('/');
    await hydrated(page);
    await facet(page, 'scope', 'enterprise').click();
    await page.getByRole('searchbox').fill('config');
    await facet(page, 'state', 'all').click();
    await expect(table(page)).toHaveAttribute('data-query', 'scope=enterprise&state=all&q=config');
    const url = page.url();
    const shown = await titles(page);
    expect(shown).toEqual(['Enterprise OIDC broker config', 'Enterprise SAML IdP config']);

    const fresh = await browser.newPage();
    await fresh.goto(url);
    expect(await titles(fresh)).toEqual(shown);
    await expect(fresh.getByRole('searchbox')).toHaveValue('config');
    await fresh.close();

    // The server's HTML alone holds exactly these rows.
    const html = await (await request.get(url)).text();
    expect(html.match(/data-testid="blocker-row"/g)?.length).toBe(2);
  });

  test('facets, search and the pager are reachable and usable by keyboard', async ({ page }) => {
    await page.goto('/');
    await hydrated(page);
    await page.keyboard.press('Tab');
    const skip = page.getByRole('link', { name: 'Skip to the blockers' });
    await expect(skip).toBeFocused();
    await expect(skip).toBeVisible();
    await page.keyboard.press('Enter');
    await expect(page).toHaveURL(/#blockers-heading$/);

    await facet(page, 'scope', 'paid-launch').focus();
    await page.keyboard.press('Enter');
    await expect(page).toHaveURL(/\?scope=paid-launch$/);
    await expect(table(page)).toHaveAttribute('data-query', 'scope=paid-launch');
    expect(await titles(page)).toEqual(['Stripe self-serve billing']);
    // The facets are rebuilt with the results; the keyboard user keeps their place.
    await expect(facet(page, 'scope', 'paid-launch')).toBeFocused();
    await page.keyboard.press('Tab');
    await expect(facet(page, 'scope', 'enterprise')).toBeFocused();

    const search = page.getByRole('searchbox');
    await search.focus();
    await page.keyboard.type('nothing matches this');
    await page.keyboard.press('Enter');
    await expect(rows(page)).toHaveCount(0);
    // Focus shows: the focused control has a visible outline.
    const outline = await search.evaluate((element) => getComputedStyle(element).outlineStyle);
    expect(outline).toBe('solid');
  });
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('every filter works through the query string, and the search is a plain form', async ({ page }) => {
    await page.goto('/?motion=managed-private-beta');
    expect(await titles(page)).toEqual(['Authenticated smoke fixture records', 'Support email']);

    await page.getByRole('searchbox').fill('support');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect(page).toHaveURL(/\/\?motion=managed-private-beta&q=support$/);
    expect(await titles(page)).toEqual(['Support email']);

    await facet(page, 'state', 'all').click();
    await expect(page).toHaveURL(/\?motion=managed-private-beta&state=all&q=support$/);
    expect(await titles(page)).toEqual(['Support email']);

    await page.goto('/?dependency=missing&scope=enterprise');
    await expect(rows(page)).toHaveCount(4);

    await page.getByTestId('clear-filters').click();
    await expect(rows(page)).toHaveCount(7);

    await page.goto('/?state=sideways');
    await expect(page.getByText('No blocker state called “sideways”')).toBeVisible();
    await expect(rows(page)).toHaveCount(7);
  });

  test('the drill-down and the motion view render without the WASM', async ({ page }) => {
    await page.goto('/');
    await page.getByRole('link', { name: 'Support email' }).first().click();
    await expect(page).toHaveURL(/\/blockers\/support-email$/);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Support email');
    // No copy button before the app is interactive: the command is plain selectable text.
    await expect(page.getByTestId('copy')).toBeHidden();
    await page.goto('/motions/self-serve-paid-launch');
    await expect(page.getByTestId('motion-status')).toContainText('blocked');
  });
});

test.describe('drill-down', () => {
  test('a blocker opens its own page with dependencies, the proof path, the fallback and a working copy button', async ({
    page,
    context,
  }) => {
    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
    await page.goto('/?scope=paid-launch');
    await hydrated(page);
    await page.getByRole('link', { name: 'Stripe self-serve billing' }).click();
    await expect(page).toHaveURL(/\/blockers\/stripe-self-serve-billing$/);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Stripe self-serve billing');
    await expect(page.getByTestId('blocker-state')).toContainText(
      'live: STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET, STRIPE_PRICE_REPORT, STRIPE_PRICE_MONITORING not configured',
    );
    await expect(page.getByTestId('required-for')).toHaveText(
      'Required for public self-serve checkout; invoice-only private beta can run without it.',
    );
    const dependencies = page.getByTestId('dependency');
    await expect(dependencies).toHaveCount(4);
    await expect(dependencies.first()).toContainText('STRIPE_SECRET_KEY');
    await expect(dependencies.first()).toContainText('missing');
    await expect(dependencies.first()).toContainText(/since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);

    await expect(page.getByTestId('proof-name')).toHaveText('Stripe self-serve billing proof');
    const command =
      'THESMIOS_SMOKE_URL=https://www.thesmios.com STRIPE_WEBHOOK_SECRET=<secret> npm run check:stripe-fixture';
    await expect(page.getByTestId('command')).toHaveText(command);
    await expect(page.getByTestId('command').locator('var.placeholder')).toHaveText(['<secret>']);
    await expect(page.getByTestId('fallback')).toHaveText(
      'Do not enable self-serve checkout; keep paid beta invoice-only or order-form contracted.',
    );

    await page.getByRole('button', { name: 'Copy command' }).click();
    await expect(page.getByTestId('copy-status')).toHaveText('Copied to the clipboard.');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(command);

    await page.getByRole('link', { name: 'Launch clearance' }).click();
    await expect(page).toHaveURL(/\/$/);
    await expect(rows(page)).toHaveCount(7);
  });

  test('the proof\'s recent runs appear on the blocker page once they exist', async ({ page, request }) => {
    await page.goto(ONE_CONFIGURED_URL + '/blockers/hris-connectors');
    await expect(page.getByTestId('runs')).toContainText('No run recorded yet');
    const recorded = await request.post(ONE_CONFIGURED_URL + '/api/proofs/scim-enterprise-sso/runs', {
      headers: { authorization: `Bearer ${API_TOKEN}` },
      data: { status: 'failed', actor: 'e2e: scim fixture', excerpt: 'SCIM endpoint answered 401' },
    });
    expect(recorded.status()).toBe(201);
    await page.reload();
    const run = page.getByTestId('run').first();
    await expect(run).toContainText('failed');
    await expect(run).toContainText('by e2e: scim fixture');
    await run.getByText('Output excerpt').click();
    await expect(run).toContainText('SCIM endpoint answered 401');
  });

  test('live updates reach an open page without touching the field being typed in, and swapped-in buttons work', async ({
    page,
    context,
    request,
  }) => {
    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
    const record = async (actor: string) => {
      const recorded = await request.post(ONE_CONFIGURED_URL + '/api/proofs/stripe-self-serve-billing/runs', {
        headers: { authorization: `Bearer ${API_TOKEN}` },
        data: { status: 'failed', actor, excerpt: 'card declined' },
      });
      expect(recorded.status()).toBe(201);
    };
    await page.goto(ONE_CONFIGURED_URL + '/?q=stripe');
    await hydrated(page);
    await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'live');
    await page.evaluate(() => ((window as unknown as { marker: string }).marker = 'same document'));

    // Typing in the search box while a change arrives: the rows follow, the box keeps
    // its focus and its text.
    const search = page.getByRole('searchbox');
    await search.focus();
    await page.keyboard.press('End');
    await page.keyboard.type(' self');
    await expect(table(page)).toHaveAttribute('data-query', 'q=stripe+self');
    const typing = `e2e: typing ${Date.now()}`;
    await record(typing);
    await expect(rows(page).getByTestId('last-run')).toContainText(`Last run failed`);
    await expect(rows(page).getByTestId('last-run')).toContainText(`by ${typing}`);
    await expect(search).toBeFocused();
    await expect(search).toHaveValue('stripe self');

    // The blocker page follows too, and the copy button it swapped in is hydrated.
    await page.getByRole('link', { name: 'Stripe self-serve billing' }).click();
    await expect(page).toHaveURL(/\/blockers\/stripe-self-serve-billing$/);
    await hydrated(page);
    await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'live');
    await page.evaluate(() => ((window as unknown as { marker: string }).marker = 'blocker page'));
    const drillDown = `e2e: drill-down ${Date.now()}`;
    await record(drillDown);
    await expect(page.getByTestId('runs')).toContainText(`by ${drillDown}`);
    await page.getByRole('button', { name: 'Copy command' }).click();
    await expect(page.getByTestId('copy-status')).toHaveText('Copied to the clipboard.');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toContain('npm run check:stripe-fixture');
    expect(await page.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe('blocker page');
  });

  test('an unknown blocker or motion is a 404', async ({ page }) => {
    expect((await page.goto('/blockers/no-such-blocker'))?.status()).toBe(404);
    await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
    expect((await page.goto('/motions/no-such-motion'))?.status()).toBe(404);
  });
});

test.describe('motion view', () => {
  test('a motion shows its status, rule, requirements and what would change it', async ({ page }) => {
    await page.goto('/');
    await hydrated(page);
    await page.getByRole('link', { name: 'Invoice-led paid beta' }).first().click();
    await expect(page).toHaveURL(/\/motions\/invoice-led-paid-beta$/);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Invoice-led paid beta');
    await expect(page.getByTestId('motion-status')).toHaveText(/conditional/);
    await expect(page.getByText(/^Rule: Paid beta can use invoice\/order-form billing/)).toBeVisible();

    const requirements = page.getByTestId('requirement');
    await expect(requirements.first()).toHaveText(/met\s*Public checks pass/);
    await expect(requirements.nth(1)).toContainText(
      'outstanding Every private beta blocker proven or scoped into the order form (2 live)',
    );
    await expect(requirements.nth(2)).toContainText('Every paid launch blocker proven or scoped into the order form (1 live)');
    await expect(page.getByTestId('in-the-way').getByRole('link')).toHaveText([
      'Authenticated smoke fixture records',
      'Support email',
      'Stripe self-serve billing',
    ]);
    const step = page.getByTestId('step');
    await expect(step).toHaveCount(1);
    await expect(step).toContainText(
      'configure STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET, STRIPE_PRICE_REPORT, STRIPE_PRICE_MONITORING and pass the Stripe self-serve billing proof (or scope Stripe self-serve billing into the order form)',
    );
    await expect(step).toContainText("attach the customer's evidence for Invoice or order-form billing route");
    await expect(step.locator('.steps__to')).toHaveText(/→\s*✓ clear/);

    await page.getByTestId('motion-blockers-link').click();
    await expect(page).toHaveURL(/\/\?motion=invoice-led-paid-beta$/);
    await expect(rows(page)).toHaveCount(3);
  });

  test('a blocked motion names what would unblock it', async ({ page }) => {
    await page.goto('/motions/self-serve-paid-launch');
    await expect(page.getByTestId('motion-status')).toHaveText(/blocked/);
    await expect(page.getByTestId('requirement').nth(1)).toContainText(
      'unmet Strict readiness is ready: no live blocker at all (7 live)',
    );
    await expect(page.getByTestId('step')).toContainText(
      'configure STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET, STRIPE_PRICE_REPORT, STRIPE_PRICE_MONITORING and pass the Stripe self-serve billing proof',
    );
    await expect(page.getByTestId('step').locator('.steps__to')).toHaveText(/→\s*✓ clear/);
  });
});

test.describe('accessibility', () => {
  for (const [name, path] of [
    ['register', '/'],
    ['filtered register', '/?scope=enterprise&state=all&q=config'],
    ['empty result', '/?q=nothing+matches'],
    ['motion view', '/motions/invoice-led-paid-beta'],
    ['blocker view', '/blockers/support-email'],
    ['not found', '/no-such-page'],
  ]) {
    test(`the ${name} has no serious or critical axe violations`, async ({ page }) => {
      await page.goto(path);
      await hydrated(page);
      const results = await new AxeBuilder({ page }).analyze();
      const serious = results.violations
        .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
        .map((violation) => `${violation.id}: ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`);
      expect(serious).toEqual([]);
    });
  }
});
