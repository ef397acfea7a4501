// Push benchmark: how long a readiness change takes to reach every open page.
//
//   node end2end/bench/push.mjs
//
// Expects a release server with the default register at BENCH_PUSH_URL (default
// http://127.0.0.1:3202) started with CLEARANCE_API_TOKEN=$BENCH_PUSH_TOKEN and
// RESEND_API_KEY set, so that a run of the `support-status-notification` proof
// clears (passed) or re-opens (failed) the *Support email* blocker: every trigger
// is a real readiness change. scripts/bench starts it on its own.
//
// Several servers of one set (one database, the same configuration):
// BENCH_PUSH_URLS, a comma-separated list, replaces BENCH_PUSH_URL. The clients
// and pages are spread over them round-robin (client i on server i mod n, its
// stream and its re-fetches alike) and every trigger goes to the first, so the
// others learn of the change only through PostgreSQL (LISTEN/NOTIFY on
// `clearance_changes`). Before the clock starts, every server must show the
// calibration's new count within FOLLOW_TIMEOUT_MS, or the run stops (exit 2)
// naming the server that did not follow. The figures are then also given per server.
//
// What a page does (app/src/islands/live.rs and swap.rs): it follows
// `GET /api/events`; each `live` event's id is the state's version (readiness
// digest and newest proof run id); when it differs from the version the page was
// rendered from, the page loads its own URL again (`GET /`, HTML) and swaps its
// live regions. So a page is *updated* once it has the event AND the re-fetched
// page has arrived.
//
// Clients:
//   BENCH_PUSH_CLIENTS (default 500) plain-HTTP SSE clients in this process, each
//     on its own connection, doing exactly that: event, version check, the
//     re-fetch of the page (on a shared keep-alive pool), and checking the
//     re-fetched page's live-blocker count shows the new state;
//   BENCH_PUSH_PAGES (default 8) real Chromium pages on `/`, hydrated and live,
//     whose visible live-blocker count must change (a MutationObserver notes when).
// Each of BENCH_PUSH_TRIGGERS (default 10) triggers records a proof run through
// `POST /api/proofs/support-status-notification/runs`, alternating passed and
// failed, after 2 untimed warm-up triggers. Every latency runs from just before
// the POST to the client's event, re-fetch or DOM change (same-machine clocks:
// performance.timeOrigin + performance.now() in Node and in each page).
//
// Budget: p95 over every client and trigger ≤ 1 s, for the SSE clients (event and
// re-fetch) and for the Chromium pages (DOM changed).
// Exits 1 when a budget fails, 2 when the server or page does not behave as above.

import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { chromium } from 'playwright-core';

import { banner, budget, CHROMIUM_LAUNCH, ContractError, ms, positive, quantile, record, serverSentEvents, table } from './stats.mjs';

const URLS = (process.env.BENCH_PUSH_URLS || process.env.BENCH_PUSH_URL || 'http://127.0.0.1:3202')
  .split(',')
  .map((url) => url.trim().replace(/\/$/, ''))
  .filter(Boolean);
/** Where the triggers go: the first server. */
const TRIGGER_URL = URLS[0];
/** How the final table names these figures: `push` for one server, `push over 3 servers` for a set. */
const LABEL = URLS.length === 1 ? 'push' : `push over ${URLS.length} servers`;
const TOKEN = process.env.BENCH_PUSH_TOKEN;
const CLIENTS = positive('BENCH_PUSH_CLIENTS', 500);
const PAGES = positive('BENCH_PUSH_PAGES', 8);
const TRIGGERS = positive('BENCH_PUSH_TRIGGERS', 10);
const WARMUP = 2;
const PROOF = 'support-status-notification';
const BUDGET_MS = 1000;
/** How long every client gets to update after a trigger before it counts as never updated. */
const UPDATE_TIMEOUT_MS = 15_000;
/** Quiet time between triggers, so one trigger's stragglers do not overlap the next. */
const PAUSE_MS = 500;
/** How long every server of a set gets to show a change made through the first one (calibration). */
const FOLLOW_TIMEOUT_MS = 10_000;

if (!TOKEN) {
  console.error('error: BENCH_PUSH_TOKEN must be the server\'s CLEARANCE_API_TOKEN');
  process.exit(2);
}

/** A high-resolution wall-clock time, comparable with the same expression in a page. */
const now = () => performance.timeOrigin + performance.now();

// --- The SSE clients -------------------------------------------------------------

/** The re-fetches share a keep-alive pool with no socket limit (one page, one connection or two). */
const refetchAgent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

/** GET `base` + `path` as the page does (`accept: text/html`): `{ status, text }`. */
function get(base, path, { agent = refetchAgent } = {}) {
  return send('GET', `${base}${path}`, '', { agent, headers: { accept: 'text/html' } });
}

function post(base, path, body, { agent = refetchAgent, headers = {} } = {}) {
  return send('POST', `${base}${path}`, body, { agent, headers: { 'content-length': Buffer.byteLength(body), ...headers } });
}

function send(method, url, body, { agent, headers }) {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      { method, agent, headers },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => (text += chunk));
        response.on('error', reject);
        response.on('end', () => resolve({ status: response.statusCode, text }));
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/** The live-blocker count a rendered register page shows. */
function shownCount(html) {
  const count = html.match(/data-testid="live-blocker-count"[^>]*><dt>live blockers<\/dt><dd>(\d+)<\/dd>/)?.[1];
  if (count === undefined) throw new ContractError('the re-fetched page shows no live-blocker count');
  return Number(count);
}

/**
 * One simulated page: follows the stream, and on a new version re-fetches the
 * page as the register page does. `onUpdate` gets the arrival time of the
 * event, the time the re-fetched page arrived and its live-blocker count.
 */
class SseClient {
  constructor(index, base) {
    this.index = index;
    this.base = base;
    this.version = null;
    this.onUpdate = null;
    this.closed = false;
  }

  /** Resolves once the first event (the current state) has arrived. */
  connect() {
    return new Promise((resolve, reject) => {
      const request = http.get(`${this.base}/api/events`, { agent: false, headers: { accept: 'text/event-stream' } }, (response) => {
        if (response.statusCode !== 200) {
          reject(new ContractError(`GET ${this.base}/api/events answered ${response.statusCode}`));
          return;
        }
        response.setEncoding('utf8');
        response.on(
          'data',
          serverSentEvents((event, _data, id) => {
            const arrived = now();
            if (event === 'live' && id) this.receive(id, arrived, resolve);
          }),
        );
        response.on('end', () => {
          if (!this.closed) console.error(`  warning: SSE client ${this.index}: the stream ended`);
        });
      });
      request.on('error', (error) => (this.closed ? undefined : reject(error)));
      this.request = request;
    });
  }

  receive(next, arrived, connected) {
    if (this.version === null) {
      this.version = next;
      connected();
      return;
    }
    if (next === this.version) return; // the page ignores an unchanged state too
    this.version = next;
    // The re-fetches start after this poll phase: every stream that is already
    // readable gets its arrival time first, so 500 clients sharing one thread do
    // not delay each other's event times (their re-fetches still queue, which
    // only makes the "updated" figure pessimistic).
    new Promise((resolve) => setImmediate(resolve))
      .then(() => get(this.base, '/'))
      .then((page) => {
        if (page.status !== 200) throw new ContractError(`re-fetch of ${this.base}/ answered ${page.status}`);
        this.onUpdate?.({ event: arrived, updated: now(), liveBlockers: shownCount(page.text) });
      })
      .catch((error) => this.onUpdate?.({ event: arrived, updated: NaN, error }));
  }

  close() {
    this.closed = true;
    this.request?.destroy();
  }
}

// --- The Chromium pages ------------------------------------------------------------

/** Runs in each page before its scripts: notes when the live-blocker count shows `__pushWatch.expected`. */
function watchCount() {
  window.__pushWatch = null;
  new MutationObserver(() => {
    const watch = window.__pushWatch;
    if (!watch || watch.at !== null) return;
    const count = document.querySelector('[data-testid="live-blocker-count"] dd')?.textContent?.trim();
    if (count === watch.expected) watch.at = performance.timeOrigin + performance.now();
  }).observe(document, { subtree: true, childList: true, characterData: true });
}

/**
 * A page in a browser context of its own: each live page holds an event stream
 * open, and Chromium allows 6 connections per host in a context, so a seventh
 * page sharing one would never load.
 */
async function openPage(browser, base) {
  const context = await browser.newContext();
  await context.addInitScript(watchCount);
  const page = await context.newPage();
  await page.goto(`${base}/`, { timeout: 60_000 });
  try {
    await page.waitForSelector('[data-testid="connection"][data-state="live"]', { state: 'attached', timeout: 60_000 });
  } catch {
    throw new ContractError(`a Chromium page on ${base} never showed [data-testid="connection"][data-state="live"]`);
  }
  page.base = base;
  return page;
}

// --- Triggers ----------------------------------------------------------------------

async function recordRun(status, label) {
  const body = JSON.stringify({ status, actor: `bench: push ${label}` });
  const answer = await post(TRIGGER_URL, `/api/proofs/${PROOF}/runs`, body, {
    agent: false,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
  });
  if (answer.status !== 201) throw new ContractError(`POST /api/proofs/${PROOF}/runs answered ${answer.status}: ${answer.text}`);
}

/**
 * One trigger: arms every client and page, records the run, and waits until all
 * have updated (or the timeout). Returns the latencies in ms (NaN: never updated).
 */
async function trigger(clients, pages, status, expected, label) {
  const waits = clients.map(
    (client) =>
      new Promise((resolve) => {
        const timer = setTimeout(() => resolve({ event: NaN, updated: NaN, timedOut: true }), UPDATE_TIMEOUT_MS);
        client.onUpdate = (update) => {
          clearTimeout(timer);
          client.onUpdate = null;
          resolve(update);
        };
      }),
  );
  await Promise.all(pages.map((page) => page.evaluate((count) => (window.__pushWatch = { expected: count, at: null }), String(expected))));

  const start = now();
  await recordRun(status, label);
  const pageTimes = pages.map((page) =>
    page
      .waitForFunction(() => window.__pushWatch.at !== null, null, { timeout: UPDATE_TIMEOUT_MS, polling: 50 })
      .then(() => page.evaluate(() => window.__pushWatch.at))
      .catch(() => NaN),
  );
  const updates = await Promise.all(waits);
  const domAt = await Promise.all(pageTimes);

  const problems = [];
  for (const update of updates) {
    if (update.error) problems.push(update.error.message);
    else if (update.timedOut) problems.push(`no update within ${UPDATE_TIMEOUT_MS / 1000} s`);
    else if (update.liveBlockers !== expected) problems.push(`re-fetched ${update.liveBlockers} live blockers, expected ${expected}`);
  }
  const missedPages = domAt.filter((at) => !Number.isFinite(at)).length;
  if (missedPages) problems.push(`${missedPages} Chromium page(s) never showed ${expected} live blockers`);
  await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
  const ok = (update) => !update.error && !update.timedOut && update.liveBlockers === expected;
  return {
    event: updates.map((update) => (ok(update) ? update.event - start : NaN)),
    updated: updates.map((update) => (ok(update) ? update.updated - start : NaN)),
    dom: domAt.map((at) => at - start),
    problems,
  };
}

/** Reads the live-blocker count on `base` the way a client would. */
async function currentCount(base) {
  const answer = await get(base, '/', { agent: false });
  if (answer.status !== 200) throw new ContractError(`GET ${base}/ answered ${answer.status}`);
  return shownCount(answer.text);
}

/**
 * After a calibration run recorded through the first server: waits until every
 * server shows the same count as the first, and says how long each took (from the
 * POST). A server that does not within FOLLOW_TIMEOUT_MS does not follow changes
 * made through another one: a server bug, and the benchmark cannot run.
 */
async function settledCount(start) {
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const expected = await currentCount(TRIGGER_URL);
  const followed = [];
  for (const base of URLS) {
    let count = await currentCount(base);
    while (count !== expected && now() - start < FOLLOW_TIMEOUT_MS) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      count = await currentCount(base);
    }
    if (count !== expected) {
      throw new ContractError(
        `${base} still shows ${count} live blockers ${ms(now() - start)} after a proof run through ${TRIGGER_URL} (which shows ${expected}): ` +
          'it does not follow changes made through another server (LISTEN clearance_changes)',
      );
    }
    followed.push(`${base} ${count}`);
  }
  if (URLS.length > 1) console.log(`  every server shows the same count: ${followed.join(', ')}`);
  return expected;
}

// --- Main --------------------------------------------------------------------------

banner('Push benchmark', [
  URLS.length === 1
    ? `server: ${TRIGGER_URL}   ${CLIENTS} SSE clients + ${PAGES} Chromium pages, ${TRIGGERS} triggers`
    : `${URLS.length} servers: ${URLS.join(', ')} (triggers through ${TRIGGER_URL})   ` +
      `${CLIENTS} SSE clients + ${PAGES} Chromium pages spread round-robin, ${TRIGGERS} triggers`,
]);

const clients = Array.from({ length: CLIENTS }, (_, index) => new SseClient(index, URLS[index % URLS.length]));
const browser = await chromium.launch(CHROMIUM_LAUNCH);
let exitCode = 0;
try {
  // Calibration: what the count is after a passing and after a failing run, and
  // that they differ (otherwise the trigger is no readiness change).
  let calibrated = now();
  await recordRun('passed', 'calibration');
  const afterPassed = await settledCount(calibrated);
  calibrated = now();
  await recordRun('failed', 'calibration');
  const afterFailed = await settledCount(calibrated);
  if (afterPassed === afterFailed) {
    throw new ContractError(`a ${PROOF} run changes nothing (${afterPassed} live blockers either way): is RESEND_API_KEY set on the server?`);
  }
  console.log(`\n  trigger: ${PROOF} passed → ${afterPassed} live blockers, failed → ${afterFailed}`);

  const connectStart = now();
  // Connect in batches so that the server's accept queue is not the thing measured.
  for (let i = 0; i < clients.length; i += 50) await Promise.all(clients.slice(i, i + 50).map((client) => client.connect()));
  console.log(`  ${CLIENTS} SSE clients connected in ${ms(now() - connectStart)}`);
  const pages = [];
  for (let i = 0; i < PAGES; i++) pages.push(await openPage(browser, URLS[i % URLS.length]));
  console.log(`  ${PAGES} Chromium pages hydrated and live`);

  const all = { event: [], updated: [], dom: [] };
  /** Per server (a set only): every client's and page's latencies, by the server it is on. */
  const byServer = new Map(URLS.map((base) => [base, { event: [], updated: [], dom: [] }]));
  const perTrigger = { updated: [], dom: [] };
  const rows = [['#', 'run', 'SSE event p50', 'p95', 'updated p50', 'p95', 'max', 'Chromium DOM p50', 'max']];
  const problems = [];
  for (let index = 0; index < WARMUP + TRIGGERS; index++) {
    const status = index % 2 === 0 ? 'passed' : 'failed';
    const expected = status === 'passed' ? afterPassed : afterFailed;
    const warmup = index < WARMUP;
    const label = warmup ? 'warm-up' : String(index - WARMUP + 1);
    const result = await trigger(clients, pages, status, expected, label);
    problems.push(...result.problems);
    const [event, updated, dom] = [latencies(result.event), latencies(result.updated), latencies(result.dom)];
    rows.push([label, status, ms(event.p50), ms(event.p95), ms(updated.p50), ms(updated.p95), ms(updated.max), ms(dom.p50), ms(dom.max)]);
    if (warmup) continue;
    for (const key of ['event', 'updated', 'dom']) all[key].push(...result[key]);
    for (const key of ['event', 'updated']) result[key].forEach((value, index) => byServer.get(clients[index].base)[key].push(value));
    result.dom.forEach((value, index) => byServer.get(pages[index].base).dom.push(value));
    perTrigger.updated.push(updated.p95);
    perTrigger.dom.push(dom.p95);
  }
  console.log('\nLatency from just before the POST, per trigger, over every client');
  table(rows);
  for (const [problem, count] of countBy(problems)) console.log(`  problem: ${problem} (×${count})`);

  const event = latencies(all.event);
  const updated = latencies(all.updated);
  const dom = latencies(all.dom);
  console.log(`\nOver ${TRIGGERS} triggers (a missed update counts as infinitely late):`);
  table([
    ['latency', 'samples', 'p50', 'p95', 'max', 'missed'],
    ['SSE client: event arrived', event.n, ms(event.p50), ms(event.p95), ms(event.max), event.missed],
    ['SSE client: event + re-fetch (updated)', updated.n, ms(updated.p50), ms(updated.p95), ms(updated.max), updated.missed],
    ['Chromium page: new count in the DOM', dom.n, ms(dom.p50), ms(dom.p95), ms(dom.max), dom.missed],
  ]);
  if (URLS.length > 1) {
    console.log(`\nPer server (the first records the runs; the others follow through PostgreSQL):`);
    table([
      ['server', 'SSE clients', 'event p50', 'p95', 'updated p50', 'p95', 'max', 'missed', 'Chromium pages', 'DOM p95'],
      ...[...byServer].map(([base, values]) => {
        const [e, u, d] = [latencies(values.event), latencies(values.updated), latencies(values.dom)];
        const shown = (stats, key) => (stats.n ? ms(stats[key]) : '–');
        return [
          base === TRIGGER_URL ? `${base} (triggers)` : base,
          clients.filter((client) => client.base === base).length,
          shown(e, 'p50'), shown(e, 'p95'), shown(u, 'p50'), shown(u, 'p95'), shown(u, 'max'), u.missed,
          pages.filter((page) => page.base === base).length,
          shown(d, 'p95'),
        ];
      }),
    ]);
  }

  /** The spread shown in the final table: how much the p95 varied between triggers, and p50 and max overall. */
  const variation = (overall, p95s) =>
    `p95 per trigger ${ms(Math.min(...p95s))}–${ms(Math.max(...p95s))}; p50 ${ms(overall.p50)}, max ${ms(overall.max)}`;
  record({ measure: `${LABEL}, SSE event arrival, p95 of ${event.n}`, figure: ms(event.p95), spread: `p50 ${ms(event.p50)}, max ${ms(event.max)}` });
  const sse = budget({
    measure: `${LABEL}, ${CLIENTS} SSE clients updated (event + re-fetch), p95 of ${updated.n}`,
    figure: ms(updated.p95),
    spread: variation(updated, perTrigger.updated),
    limit: `≤ ${BUDGET_MS} ms`,
    pass: updated.p95 <= BUDGET_MS,
  });
  const real = budget({
    measure: `${LABEL}, ${PAGES} Chromium pages updated (DOM), p95 of ${dom.n}`,
    figure: ms(dom.p95),
    spread: variation(dom, perTrigger.dom),
    limit: `≤ ${BUDGET_MS} ms`,
    pass: dom.p95 <= BUDGET_MS,
  });
  exitCode = sse && real ? 0 : 1;
} catch (error) {
  if (!(error instanceof ContractError)) throw error;
  console.error(`\nerror: the server or page does not follow the push contract: ${error.message}`);
  exitCode = 2;
} finally {
  for (const client of clients) client.close();
  refetchAgent.destroy();
  await browser.close();
}
process.exit(exitCode);

/** p50, p95 and max of latencies in ms, a missed update (NaN) counting as infinitely late. */
function latencies(values) {
  const late = values.map((value) => (Number.isFinite(value) ? value : Infinity));
  return {
    p50: quantile(late, 0.5),
    p95: quantile(late, 0.95),
    max: Math.max(...late),
    missed: values.length - values.filter(Number.isFinite).length,
    n: values.length,
  };
}

function countBy(items) {
  const counts = new Map();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return counts;
}
