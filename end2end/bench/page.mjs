// Page benchmark: server rendering of the default register page `/` under load,
// against the same bytes served as a static file by the same server.
//
//   node end2end/bench/page.mjs
//
// Expects a release server with the default register at BENCH_DEFAULT_URL (default
// http://127.0.0.1:3201) that serves a byte-for-byte copy of `/` at
// BENCH_STATIC_PATH (default /bench-copy.html; scripts/bench writes it into the
// server's site root and checks the bytes), and the load generator oha (OHA, default
// `oha` on PATH). oha sends no cookie (the public page) and, with
// --disable-compression, no Accept-Encoding: both answers go through the same
// router and middleware uncompressed, so the difference is the rendering alone
// (on-the-fly compression would add the same large cost to both).
//
// Each of BENCH_PAGE_ROUNDS rounds (default 5) runs, for `/` and for the copy in
// turn (which goes first alternates between rounds, so drift hits both alike):
//   saturation   oha -z BENCH_PAGE_SECONDS (default 10) -c 32: requests per second;
//   fixed rate   oha -z BENCH_PAGE_SECONDS -c 32 -q 200 --latency-correction: p50
//                and p99 latency at 200 requests/s, below saturation (latency
//                counts from when each request was due, not when it was sent).
// The server keeps public pages rendered per live state in memory
// (server/src/page_cache.rs); the run prints its `x-clearance-cache` header, so
// the SSR figures say whether they are cache hits.
// Ratios are taken within a round; every figure is the median over the rounds
// with the min–max range. oha shares the 2 cores with the server, alike for both.
//
// Budgets: SSR throughput ≥ 0.5 × static throughput; SSR p99 at 200/s ≤ 5 ms.
// Exits 1 when a budget fails, 2 when oha or the server misbehave.

import { banner, budget, ContractError, ms, positive, record, summary, table } from './stats.mjs';
import { oha as runOha, ohaVersion } from './oha.mjs';

const DEFAULT_URL = process.env.BENCH_DEFAULT_URL ?? 'http://127.0.0.1:3201';
const STATIC_PATH = process.env.BENCH_STATIC_PATH ?? '/bench-copy.html';
const ROUNDS = positive('BENCH_PAGE_ROUNDS', 5);
const SECONDS = positive('BENCH_PAGE_SECONDS', 10);
const CONCURRENCY = 32;
const RATE = 200;
const RATIO_BUDGET = 0.5;
const P99_BUDGET_MS = 5;

const TARGETS = [
  { key: 'ssr', label: 'SSR /', url: `${DEFAULT_URL}/` },
  { key: 'static', label: `static ${STATIC_PATH}`, url: `${DEFAULT_URL}${STATIC_PATH}` },
];

/** One oha run on CONCURRENCY connections (end2end/bench/oha.mjs). */
const oha = (url, { seconds = SECONDS, rate } = {}) => runOha(url, { seconds, concurrency: CONCURRENCY, rate });

/** The server's page-cache header (server/src/page_cache.rs) on a request like oha's, to say what was measured. */
async function cacheStatus(url) {
  const response = await fetch(url, { headers: { 'accept-encoding': 'identity' } });
  await response.arrayBuffer();
  return response.headers.get('x-clearance-cache') ?? '(none)';
}

banner('Page benchmark', [`SSR ${TARGETS[0].url} against static ${TARGETS[1].url}, load by ${ohaVersion()}`]);
console.log(`\n${ROUNDS} rounds; each: saturation (-c ${CONCURRENCY}, ${SECONDS} s) and ${RATE} requests/s (${SECONDS} s) on both, alternating which goes first`);

let rounds;
try {
  // Warm-up: connections, caches, CPU frequency.
  for (const target of TARGETS) await oha(target.url, { seconds: 2 });
  const cache = await Promise.all(TARGETS.map(async ({ label, url }) => `${label}: ${await cacheStatus(url)}`));
  console.log(`  after the warm-up, x-clearance-cache on ${cache.join(', ')}`);
  rounds = [];
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? TARGETS : [...TARGETS].reverse();
    const result = {};
    for (const target of order) result[target.key] = { saturated: await oha(target.url) };
    for (const target of order) result[target.key].fixed = await oha(target.url, { rate: RATE });
    rounds.push(result);
    console.log(
      `  round ${round + 1}: SSR ${result.ssr.saturated.rps.toFixed(0)}/s, static ${result.static.saturated.rps.toFixed(0)}/s; ` +
        `p99 at ${RATE}/s SSR ${ms(result.ssr.fixed.p99)}, static ${ms(result.static.fixed.p99)}`,
    );
  }
} catch (error) {
  if (!(error instanceof ContractError)) throw error;
  console.error(`\nerror: ${error.message}`);
  process.exit(2);
}

const figure = (key, pick) => summary(rounds.map((round) => pick(round[key])));
const rps = (key) => figure(key, (result) => result.saturated.rps);
const p50 = (key) => figure(key, (result) => result.fixed.p50);
const p99 = (key) => figure(key, (result) => result.fixed.p99);
const ratio = summary(rounds.map((round) => round.ssr.saturated.rps / round.static.saturated.rps));
const range = ({ min, max }, format) => `${format(min)}–${format(max)}`;
const perSecond = (value) => `${value.toFixed(0)}/s`;

console.log(`\nMedians over ${ROUNDS} rounds (min–max in brackets)`);
table([
  ['target', 'bytes', 'throughput at saturation', `p50 at ${RATE}/s`, `p99 at ${RATE}/s`],
  ...TARGETS.map(({ key, label }) => [
    label,
    String(rounds[0][key].saturated.bytes),
    `${perSecond(rps(key).median)} (${range(rps(key), perSecond)})`,
    `${ms(p50(key).median)} (${range(p50(key), ms)})`,
    `${ms(p99(key).median)} (${range(p99(key), ms)})`,
  ]),
]);
console.log(`  SSR / static throughput: ${ratio.median.toFixed(2)} (${range(ratio, (value) => value.toFixed(2))})`);

record({ measure: `page: static copy of / throughput at saturation, median of ${ROUNDS}`, figure: perSecond(rps('static').median), spread: `min–max ${range(rps('static'), perSecond)}` });
record({ measure: `page: SSR / throughput at saturation, median of ${ROUNDS}`, figure: perSecond(rps('ssr').median), spread: `min–max ${range(rps('ssr'), perSecond)}` });
const throughput = budget({
  measure: `page: SSR / static throughput, median of ${ROUNDS} in-round ratios`,
  figure: ratio.median.toFixed(2),
  spread: `min–max ${range(ratio, (value) => value.toFixed(2))}`,
  limit: `≥ ${RATIO_BUDGET}`,
  pass: ratio.median >= RATIO_BUDGET,
});
record({ measure: `page: static p99 at ${RATE}/s, median of ${ROUNDS}`, figure: ms(p99('static').median), spread: `min–max ${range(p99('static'), ms)}` });
record({ measure: `page: SSR p50 at ${RATE}/s, median of ${ROUNDS}`, figure: ms(p50('ssr').median), spread: `min–max ${range(p50('ssr'), ms)}` });
const latency = budget({
  measure: `page: SSR p99 at ${RATE}/s, median of ${ROUNDS}`,
  figure: ms(p99('ssr').median),
  spread: `min–max ${range(p99('ssr'), ms)}`,
  limit: `≤ ${P99_BUDGET_MS} ms`,
  pass: p99('ssr').median <= P99_BUDGET_MS,
});
process.exit(throughput && latency ? 0 : 1);
