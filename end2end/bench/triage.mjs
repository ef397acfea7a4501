// Triage benchmark: how fast the register serves and filters a large register.
//
//   node end2end/bench/triage.mjs [--only=ssr|browser]
//
// Expects two running release servers (scripts/bench starts them):
//   BENCH_LARGE_URL    the synthetic many-blocker register   (default http://127.0.0.1:3200)
//   BENCH_DEFAULT_URL  the default Thesmios register          (default http://127.0.0.1:3201)
// and Chromium at CHROMIUM_PATH (default /usr/bin/chromium).
//
// (a) Server render: sequential GETs over loopback with a keep-alive agent, timed
//     to the last byte, after a warm-up. Budget: median SSR of the large page < 50 ms.
// (b) Browser filter change: on the hydrated large page, each facet click or search
//     input is timed inside the page, from just before the event to the first frame
//     painted after the blocker table reports the new query (its `data-query`).
//     Budget: median < 100 ms.
//
// Exits 1 when a budget fails, 2 when the page does not follow the UI contract.

import http from 'node:http';
import { chromium } from 'playwright-core';

import {
  banner,
  CHROMIUM_LAUNCH,
  CHROMIUM_PATH,
  ContractError,
  kib,
  ms,
  onlyArgument,
  positive,
  spread,
  summary,
  table,
  verdict,
} from './stats.mjs';

const LARGE_URL = process.env.BENCH_LARGE_URL ?? 'http://127.0.0.1:3200';
const DEFAULT_URL = process.env.BENCH_DEFAULT_URL ?? 'http://127.0.0.1:3201';
const REQUESTS = positive('BENCH_REQUESTS', 40);
const REQUEST_WARMUP = positive('BENCH_REQUEST_WARMUP', 5);
const CHANGES = positive('BENCH_CHANGES', 30);
const CHANGE_WARMUP = positive('BENCH_CHANGE_WARMUP', 3);
/** How long one filter change may take before the page counts as not following the contract. */
const CHANGE_TIMEOUT_MS = 10_000;

const SSR_BUDGET_MS = 50;
const FILTER_BUDGET_MS = 100;

/** The filter parameters in the order of the canonical query (the table's `data-query`). */
const PARAMETERS = ['scope', 'motion', 'state', 'dependency', 'q', 'page'];
/** Values that are the default and so never appear in the canonical query. */
const DEFAULTS = { state: 'live', page: '1' };
/** Search terms typed in turn: single words from the generator's vocabulary, a two-word query, and clearing. */
const SEARCHES = ['billing', 'sso', 'webhook retry', 'export', '', 'audit', 'scim', ''];
/** Which control each change uses, in turn. */
const ROTATION = ['scope', 'search', 'state', 'motion', 'scope', 'search'];

const only = onlyArgument(['ssr', 'browser']);

// --- (a) Server render ------------------------------------------------------------

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

/** One GET, timed from the request to the last byte of the body. */
function timedGet(url, headers) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const request = http.get(url, { agent, headers }, (response) => {
      let bytes = 0;
      response.on('data', (chunk) => {
        bytes += chunk.length;
      });
      response.on('error', reject);
      response.on('end', () => {
        const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
        if (response.statusCode !== 200) {
          reject(new ContractError(`GET ${url} answered ${response.statusCode}`));
        } else {
          resolve({ ms: elapsed, bytes });
        }
      });
    });
    request.on('error', reject);
  });
}

async function measureRequests(url, headers = {}) {
  for (let i = 0; i < REQUEST_WARMUP; i++) await timedGet(url, headers);
  const times = [];
  let bytes = 0;
  for (let i = 0; i < REQUESTS; i++) {
    const result = await timedGet(url, headers);
    times.push(result.ms);
    bytes = result.bytes;
  }
  return { ...summary(times), bytes };
}

async function serverRender() {
  console.log(`\n(a) Server render: ${REQUESTS} sequential GETs each after ${REQUEST_WARMUP} warm-up, time to last byte`);
  const browserLike = { 'accept-encoding': 'gzip, deflate, br' };
  const cases = [
    ['large register /', `${LARGE_URL}/`, {}],
    ['large register /?q=billing&scope=enterprise', `${LARGE_URL}/?q=billing&scope=enterprise`, {}],
    ['large register / (compressed, as a browser asks)', `${LARGE_URL}/`, browserLike],
    ['default register / (baseline)', `${DEFAULT_URL}/`, {}],
    ['static /pkg/clearance.css (large server)', `${LARGE_URL}/pkg/clearance.css`, {}],
  ];
  const results = [];
  for (const [label, url, headers] of cases) results.push([label, await measureRequests(url, headers)]);
  const baseline = results[3][1].median;
  table([
    ['request', 'median', 'p10–p90', 'bytes', 'vs default page'],
    ...results.map(([label, result]) => [
      label,
      ms(result.median),
      spread(result),
      kib(result.bytes),
      `${(result.median / baseline).toFixed(1)}×`,
    ]),
  ]);
  console.log(`  ${await composition(`${LARGE_URL}/`)}`);
  return verdict('SSR of the large register page', results[0][1], SSR_BUDGET_MS);
}

/** What the large page's bytes are: inline scripts (hydration data) versus markup. */
async function composition(url) {
  const html = await (await fetch(url)).text();
  const scripts = [...html.matchAll(/<script\b[^>]*>[\s\S]*?<\/script>/g)].reduce((sum, [script]) => sum + script.length, 0);
  const rows = html.match(/data-testid="blocker-row"/g)?.length ?? 0;
  return `large register / is ${kib(html.length)} of text: ${kib(scripts)} inline scripts (hydration data), ${rows} blocker rows`;
}

// --- (b) Browser filter change ----------------------------------------------------

const encode = (value) => encodeURIComponent(value).replace(/%20/g, '+');

/** The canonical query of a filter: parameters in order, defaults and empties left out. */
function canonical(filter) {
  return PARAMETERS.filter((name) => filter[name] && filter[name] !== DEFAULTS[name])
    .map((name) => `${name}=${encode(filter[name])}`)
    .join('&');
}

/** A filter from a query string (`URLSearchParams` reads `+` as a space, as the server does). */
function parseQuery(query) {
  const params = new URLSearchParams(query);
  return Object.fromEntries(PARAMETERS.map((name) => [name, params.get(name) ?? '']));
}

/** What the page currently shows: the table's query and match count, and the facet links. */
function readState(page) {
  return page.evaluate(() => {
    const table = document.querySelector('[data-testid="live-blockers"]');
    const links = [...document.querySelectorAll('a[data-facet][data-value]')].map((link) => ({
      facet: link.getAttribute('data-facet'),
      value: link.getAttribute('data-value'),
      href: link.getAttribute('href') ?? '',
      empty: link.classList.contains('empty'),
    }));
    return {
      query: table?.getAttribute('data-query') ?? null,
      matches: table?.getAttribute('data-matches') ?? null,
      links,
    };
  });
}

/**
 * The next change to make, of the given kind, that alters the filter: a facet link
 * (its target query is its href's, made canonical) or a search term (the current
 * filter with `q` replaced; a new search starts again from the first page). Facet
 * values that would match nothing (class `empty`) are passed over, as a person
 * triaging would, so that the run does not settle on empty tables.
 */
function nextChange(kind, state, counters) {
  const current = state.query;
  if (kind === 'search') {
    for (let tries = 0; tries < SEARCHES.length; tries++) {
      const term = SEARCHES[counters.search++ % SEARCHES.length];
      const expected = canonical({ ...parseQuery(current), q: term, page: '' });
      if (expected !== current) return { kind, value: term, expected };
    }
    return null;
  }
  const links = state.links.filter((link) => link.facet === kind && !link.empty);
  for (let tries = 0; tries < links.length; tries++) {
    const link = links[(counters[kind] = (counters[kind] ?? 0) + 1) % links.length];
    const expected = canonical(parseQuery(new URL(link.href, LARGE_URL).search));
    if (expected !== current) return { kind, value: link.value, expected };
  }
  return null;
}

/**
 * Runs inside the page: dispatches one change and waits, frame by frame, until the
 * table reports the expected query, then one more frame so that it is painted.
 */
async function changeInPage({ kind, value, expected, timeoutMs }) {
  const table = () => document.querySelector('[data-testid="live-blockers"]');
  const nextFrame = () => new Promise((resolve) => requestAnimationFrame(resolve));
  let target;
  if (kind === 'search') {
    target = document.querySelector('form[data-testid="blocker-search"] input[name="q"]');
  } else {
    target = document.querySelector(`a[data-facet="${CSS.escape(kind)}"][data-value="${CSS.escape(value)}"]`);
  }
  if (!target) return { error: `no control for ${kind} ${JSON.stringify(value)}` };

  const start = performance.now();
  if (kind === 'search') {
    target.value = value;
    target.dispatchEvent(new Event('input', { bubbles: true }));
  } else {
    target.click();
  }
  while (table()?.getAttribute('data-query') !== expected) {
    if (performance.now() - start > timeoutMs) {
      return { error: `the table's data-query stayed ${JSON.stringify(table()?.getAttribute('data-query'))}` };
    }
    await nextFrame();
  }
  await nextFrame();
  const elapsed = performance.now() - start;
  return {
    ms: elapsed,
    matches: table().getAttribute('data-matches'),
    url: new URL(location.href).search.replace(/^\?/, ''),
  };
}

async function filterChanges() {
  console.log(`\n(b) Browser filter change on the large register: ${CHANGES} changes after ${CHANGE_WARMUP} warm-up, in Chromium (${CHROMIUM_PATH})`);
  const browser = await chromium.launch(CHROMIUM_LAUNCH);
  try {
    const page = await browser.newPage();
    const problems = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
    });

    const loadStart = Date.now();
    await page.goto(`${LARGE_URL}/`, { timeout: 60_000 });
    await page.waitForSelector('body[data-hydrated="true"]', { state: 'attached', timeout: 60_000 });
    console.log(`  page load to hydrated: ${Date.now() - loadStart} ms (once, for orientation)`);

    const state = await readState(page);
    if (state.query === null) throw new ContractError('no [data-testid="live-blockers"] table with a data-query attribute');
    if (!state.links.some((link) => link.facet === 'scope')) throw new ContractError('no a[data-facet="scope"][data-value] links');
    if (!(await page.$('form[data-testid="blocker-search"] input[name="q"]'))) {
      throw new ContractError('no search input form[data-testid="blocker-search"] input[name="q"]');
    }
    const kinds = ROTATION.filter((kind) => kind === 'search' || state.links.some((link) => link.facet === kind));
    console.log(`  controls: ${kinds.filter((kind, i) => kinds.indexOf(kind) === i).join(', ')}; starting query ${JSON.stringify(state.query)}, ${state.matches} rows`);

    const counters = { search: 0 };
    const samples = [];
    const rows = [['#', 'change', 'query', 'rows', 'time']];
    for (let step = 0; step < CHANGE_WARMUP + CHANGES; step++) {
      const current = await readState(page);
      let change = null;
      for (let offset = 0; offset < kinds.length && !change; offset++) {
        change = nextChange(kinds[(step + offset) % kinds.length], current, counters);
      }
      if (!change) throw new ContractError(`no control changes the filter from ${JSON.stringify(current.query)}`);

      let result;
      try {
        result = await page.evaluate(changeInPage, { ...change, timeoutMs: CHANGE_TIMEOUT_MS });
      } catch (error) {
        throw new ContractError(
          `${change.kind} ${JSON.stringify(change.value)}: ${error.message.split('\n')[0]} ` +
            '(a full page load instead of a client-side change destroys the page context)',
        );
      }
      if (result.error) throw new ContractError(`${change.kind} ${JSON.stringify(change.value)} → expected ${JSON.stringify(change.expected)}: ${result.error}`);
      if (result.url !== change.expected) {
        problems.push(`after ${change.kind} ${JSON.stringify(change.value)} the URL query is ${JSON.stringify(result.url)}, the table's ${JSON.stringify(change.expected)}`);
      }
      const warmup = step < CHANGE_WARMUP;
      if (!warmup) samples.push(result.ms);
      rows.push([
        warmup ? 'warm-up' : String(step - CHANGE_WARMUP + 1),
        `${change.kind} ${change.kind === 'search' ? JSON.stringify(change.value) : change.value || '(any)'}`,
        change.expected || '(none)',
        result.matches ?? '?',
        ms(result.ms),
      ]);
    }
    table(rows);
    const result = summary(samples);
    console.log(`  filter change: median ${ms(result.median)}, p10–p90 ${spread(result)} (frame-quantised: rAF polling)`);
    for (const problem of [...new Set(problems)]) console.log(`  warning: ${problem}`);
    return verdict('filter change on the large register', result, FILTER_BUDGET_MS);
  } finally {
    await browser.close();
  }
}

// --- Main ------------------------------------------------------------------------

banner('Triage benchmark', [`large register: ${LARGE_URL}   default register: ${DEFAULT_URL}`]);

let passed = true;
try {
  if (only !== 'browser') passed = (await serverRender()) && passed;
  if (only !== 'ssr') passed = (await filterChanges()) && passed;
} catch (error) {
  if (!(error instanceof ContractError)) throw error;
  console.error(`\nerror: the page does not follow the triage UI contract: ${error.message}`);
  process.exit(2);
} finally {
  agent.destroy();
}
console.log(passed ? '\nall budgets met' : '\nbudget failed');
process.exit(passed ? 0 : 1);
