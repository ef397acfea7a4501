// Cluster benchmark: `GET /` and signatures through HAProxy with one server and
// with three, against one of them directly (the baseline of the same run).
//
//   node end2end/bench/cluster.mjs        (scripts/bench --only=cluster sets it all up)
//
// Expects three release servers of one set (one database, one log key, the same
// configuration, CLEARANCE_TRUSTED_PROXIES=127.0.0.1) and HAProxy in front of them:
//   BENCH_CLUSTER_DIRECT_URL    the baseline server, directly: the one that
//                               sequences the transparency log, as a server alone
//                               does (scripts/bench finds it)
//   BENCH_CLUSTER_ONE_URL       HAProxy, with that server alone behind it
//   BENCH_CLUSTER_THREE_URL     HAProxy, with all three behind it
//   BENCH_CLUSTER_SERVER_URLS   the three servers, comma-separated, the baseline
//                               first, and BENCH_CLUSTER_METRICS_TOKEN their
//                               CLEARANCE_METRICS_TOKEN: their /metrics say who answered
//   BENCH_CLUSTER_DATABASE_URL  the set's database, and BENCH_CLUSTER_SERVER the
//                               server binary, for its own commands (`account
//                               create`, `token create`, `receipt verify`, `audit verify`)
//
// Set-up, through the product as the soak test does it: an operator (`server
// account create`, `POST /auth/login`), BENCH_CLUSTER_SIGNERS (default 8) tenants on
// the managed private beta (`POST /admin/tenants`), every evidence item their motion
// requires (`POST /api/rooms/evidence`), a buyer sponsor per tenant (an invitation
// from `/admin`, `POST /auth/invitations/accept`) with a bearer token (`server
// token create`).
//
// Each of BENCH_CLUSTER_ROUNDS rounds (default 5) measures the three targets in
// turn (which goes first rotates from round to round, so drift hits all alike):
//   GET /        oha as the page benchmark runs it (end2end/bench/oha.mjs): at
//                saturation (-z BENCH_CLUSTER_SECONDS (default 10) -c 32), then at
//                a fixed 200 requests/s with latency counted from when each
//                request was due; no cookie, no compression;
//   signatures   BENCH_CLUSTER_SIGNERS sponsors, one per tenant, each signing its
//                tenant's launch acceptance (`PATCH /api/platform/launch-acceptance`
//                with its bearer token) in a closed loop for BENCH_CLUSTER_SECONDS.
//                A signature counts when it is answered 200 with its record and its
//                receipt (`receipt.format` clearance-receipt/1, a checkpoint and an
//                inclusion proof); a 422 naming only `readiness_digest` re-reads the
//                digest and is counted apart; anything else is an error.
// Each server's request counter is read before and after every run, so the output
// says which servers answered (HAProxy with three must have used all three).
// Afterwards the first receipt of every signing run is checked offline (`server
// receipt verify` with the log's public key), and `server audit verify` must find
// every chain intact with exactly as many acceptance records as were answered 200.
//
// Ratios are taken within a round; every figure is the median over the rounds with
// the min–max range. No budget: on two cores three servers have no more CPU than
// one, so the figures show what the set costs, not a speed-up.
// Exits 2 when the set, HAProxy or oha do not behave as above, 0 otherwise.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

import { oha, ohaVersion } from './oha.mjs';
import { banner, ContractError, ms, positive, quantile, record, summary, table } from './stats.mjs';

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`error: ${name} must be set (scripts/bench --only=cluster sets it)`);
    process.exit(2);
  }
  return value.replace(/\/$/, '');
}

const DIRECT_URL = required('BENCH_CLUSTER_DIRECT_URL');
const ONE_URL = required('BENCH_CLUSTER_ONE_URL');
const THREE_URL = required('BENCH_CLUSTER_THREE_URL');
const SERVER_URLS = required('BENCH_CLUSTER_SERVER_URLS').split(',').map((url) => url.trim().replace(/\/$/, ''));
const METRICS_TOKEN = required('BENCH_CLUSTER_METRICS_TOKEN');
const DATABASE_URL = required('BENCH_CLUSTER_DATABASE_URL');
const SERVER_BIN = required('BENCH_CLUSTER_SERVER');
const ROUNDS = positive('BENCH_CLUSTER_ROUNDS', 5);
const SECONDS = positive('BENCH_CLUSTER_SECONDS', 10);
const SIGNERS = positive('BENCH_CLUSTER_SIGNERS', 8);
/** The page benchmark's settings, for comparability. */
const CONCURRENCY = 32;
const RATE = 200;

const MOTION = 'managed-private-beta';
const PASSWORD = 'bench-cluster-passphrase';
const OPERATOR = 'bench-cluster-operator@example.com';
const REQUEST_TIMEOUT_MS = 30_000;

const TARGETS = [
  { key: 'direct', label: 'one server, directly (baseline)', url: DIRECT_URL, servers: 1 },
  { key: 'one', label: 'HAProxy, one server', url: ONE_URL, servers: 1 },
  { key: 'three', label: 'HAProxy, three servers', url: THREE_URL, servers: 3 },
];

// --- HTTP ----------------------------------------------------------------------------

/** One request; resolves `{ status, headers, text, ms }`; rejects on a connection error or time-out. */
function request(method, url, { headers = {}, body, agent = false } = {}) {
  return new Promise((resolve, reject) => {
    const sent = performance.now();
    const options = { method, agent, headers: { ...headers } };
    if (body !== undefined) options.headers['content-length'] = Buffer.byteLength(body);
    const req = http.request(url, options, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () =>
        resolve({
          status: response.statusCode,
          headers: response.headers,
          text: Buffer.concat(chunks).toString('utf8'),
          ms: performance.now() - sent,
        }),
      );
    });
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(Object.assign(new Error('timed out'), { code: 'TIMEOUT' })));
    req.on('error', reject);
    req.end(body);
  });
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' };
const formBody = (fields) => new URLSearchParams(fields).toString();

/** A browser's cookie jar, enough for one signed-in operator. */
class Session {
  constructor(base) {
    this.base = base;
    this.jar = new Map();
  }

  async send(method, url, options = {}) {
    const cookie = [...this.jar].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await request(method, `${this.base}${url}`, { ...options, headers: { ...options.headers, cookie } });
    for (const line of response.headers['set-cookie'] ?? []) {
      const [pair] = line.split(';');
      const at = pair.indexOf('=');
      this.jar.set(pair.slice(0, at).trim(), pair.slice(at + 1).trim());
    }
    return response;
  }
}

/** The answer, or a ContractError naming what was expected. */
function expect(response, status, what) {
  if (response.status !== status) {
    throw new ContractError(`${what}: expected ${status}, got ${response.status} ${response.headers.location ?? ''} ${response.text.slice(0, 300)}`);
  }
  return response;
}

/** The server binary as a command, on the set's database, with a clean environment. */
function serverCommand(args, extraEnv = {}) {
  return execFileSync(SERVER_BIN, args, {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL, RUST_LOG: 'warn', CLEARANCE_DEV_ALLOW_OWNER_ROLE: '1', ...extraEnv },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

// --- Set-up --------------------------------------------------------------------------

async function setUp() {
  serverCommand(['account', 'create', '--email', OPERATOR, '--name', 'Bench Operator', '--role', 'operator'], {
    CLEARANCE_NEW_PASSWORD: PASSWORD,
  });
  const operator = new Session(DIRECT_URL);
  const signIn = expect(
    await operator.send('POST', '/auth/login', { headers: FORM, body: formBody({ email: OPERATOR, password: PASSWORD, next: '/rooms' }) }),
    303,
    'operator sign-in',
  );
  if (signIn.headers.location !== '/rooms') throw new ContractError(`operator sign-in: redirected to ${signIn.headers.location}`);

  const sponsors = [];
  for (let index = 1; index <= SIGNERS; index += 1) {
    const slug = `bench-${index}`;
    const created = expect(
      await operator.send('POST', '/admin/tenants', {
        headers: FORM,
        body: formBody({ name: `Bench Tenant ${index}`, slug, motion: MOTION, billing_route: 'invoice_only' }),
      }),
      303,
      `create tenant ${slug}`,
    );
    if (!created.headers.location.startsWith(`/rooms/${slug}?done=`)) {
      throw new ContractError(`create tenant ${slug}: redirected to ${created.headers.location}`);
    }
    const room = JSON.parse(expect(await operator.send('GET', `/api/platform/launch-room?tenant=${slug}`), 200, `launch room ${slug}`).text);
    for (const gate of room.gates.filter((gate) => gate.required && !gate.by_acceptance)) {
      for (const { item } of gate.items) {
        const answer = await operator.send('POST', '/api/rooms/evidence', {
          headers: FORM,
          body: formBody({ slug, action: 'attach', gate_id: gate.gate_id, item, reference: `BENCH-${index}-${gate.gate_id}`, note: 'Attached by the cluster benchmark.' }),
        });
        if (answer.status >= 400) throw new ContractError(`attach evidence to ${slug} / ${gate.gate_id}: ${answer.status} ${answer.text.slice(0, 300)}`);
      }
    }
    const ready = JSON.parse(expect(await operator.send('GET', `/api/platform/launch-room?tenant=${slug}`), 200, `launch room ${slug}`).text);
    if (ready.state !== 'ready_for_acceptance') {
      throw new ContractError(`room ${slug} is ${ready.state}, not ready for acceptance: ${(ready.outstanding ?? []).join('; ')}`);
    }

    const email = `sponsor-${index}@bench.example.com`;
    const invited = expect(
      await operator.send('POST', '/admin/invitations', { headers: FORM, body: formBody({ tenant: String(room.tenant.id), email, days: '7' }) }),
      303,
      `invite ${email}`,
    );
    if (invited.headers.location !== '/admin#new-invitation') throw new ContractError(`invite ${email}: redirected to ${invited.headers.location}`);
    // The link is shown once, on the next administration page.
    const admin = expect(await operator.send('GET', '/admin'), 200, 'administration page');
    const link = admin.text.match(/\/invite\/([0-9a-f]{64})/)?.[1];
    if (!link) throw new ContractError(`no invitation link on /admin after inviting ${email}`);
    const accepted = expect(
      await request('POST', `${DIRECT_URL}/auth/invitations/accept`, { headers: FORM, body: formBody({ token: link, name: `Sponsor ${index}`, password: PASSWORD }) }),
      303,
      `accept the invitation of ${email}`,
    );
    if (accepted.headers.location !== '/') throw new ContractError(`accept the invitation of ${email}: redirected to ${accepted.headers.location}`);
    // `token … shown once, only its hash is kept:` and then the token alone.
    const bearer = serverCommand(['token', 'create', '--email', email, '--label', 'bench-cluster']).trim().split('\n').at(-1).trim();
    if (!/^\S{20,}$/.test(bearer)) throw new ContractError(`token create printed ${JSON.stringify(bearer)}`);
    sponsors.push({ index, slug, bearer, digest: null, signed: 0 });
  }
  return sponsors;
}

// --- Which server answered -----------------------------------------------------------

/** Every server's count of HTTP requests answered (clearance_http_requests_total, all labels). */
async function answeredCounts() {
  return Promise.all(
    SERVER_URLS.map(async (base) => {
      const response = await request('GET', `${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
      if (response.status !== 200) throw new ContractError(`GET ${base}/metrics answered ${response.status}`);
      return [...response.text.matchAll(/^clearance_http_requests_total\{[^}]*\} (\d+(?:\.\d+)?(?:e\+?\d+)?)$/gm)].reduce((sum, match) => sum + Number(match[1]), 0);
    }),
  );
}

/** Runs `work` and returns its result with `shares`: each server's share of the requests answered meanwhile. */
async function observed(target, work) {
  const before = await answeredCounts();
  const result = await work();
  const after = await answeredCounts();
  // The counters include the two scrapes themselves: one request per server, each.
  const answered = after.map((count, index) => Math.max(0, count - before[index] - 1));
  const total = answered.reduce((a, b) => a + b, 0) || 1;
  const shares = answered.map((count) => count / total);
  const used = shares.filter((share) => share > 0.05).length;
  if (used !== target.servers) {
    throw new ContractError(
      `${target.label} (${target.url}): the requests were answered by ${used} server(s), not ${target.servers} (shares ${shares.map((share) => `${(100 * share).toFixed(0)} %`).join(', ')})`,
    );
  }
  if (target.servers === 1 && shares[0] < 0.95) {
    throw new ContractError(`${target.label} (${target.url}): the baseline server answered only ${(100 * shares[0]).toFixed(0)} % of the requests`);
  }
  return { ...result, shares };
}

// --- Signatures ----------------------------------------------------------------------

/** The readiness digest a sponsor's next signature binds to. */
async function readDigest(base, sponsor, agent) {
  const response = await request('GET', `${base}/api/platform/launch-acceptance?tenant=${sponsor.slug}`, {
    agent,
    headers: { authorization: `Bearer ${sponsor.bearer}` },
  });
  if (response.status !== 200) throw new ContractError(`GET launch-acceptance for ${sponsor.slug}: ${response.status} ${response.text.slice(0, 200)}`);
  return JSON.parse(response.text).readiness_digest;
}

/** True when a 200 answer carries the record and its receipt. */
function hasReceipt(answer) {
  const receipt = answer?.receipt;
  return Boolean(
    answer?.record?.seq && receipt?.format === 'clearance-receipt/1' && receipt.checkpoint && Array.isArray(receipt.inclusion_proof) && receipt.leaf,
  );
}

/**
 * Every sponsor signs in a closed loop against `base` for SECONDS. Returns
 * signatures per second (answered 200 with a receipt), every latency of those, the
 * stale-digest retries, the errors by kind and the first receipt.
 */
async function signFor(base, sponsors) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: SIGNERS });
  const latencies = [];
  const errors = new Map();
  const error = (what) => errors.set(what, (errors.get(what) ?? 0) + 1);
  let stale = 0;
  let firstReceipt = null;
  for (const sponsor of sponsors) sponsor.digest = await readDigest(base, sponsor, agent);
  const start = performance.now();
  const end = start + SECONDS * 1000;
  await Promise.all(
    sponsors.map(async (sponsor) => {
      while (performance.now() < end) {
        if (!sponsor.digest) {
          try {
            sponsor.digest = await readDigest(base, sponsor, agent);
          } catch (failure) {
            error(`GET digest: ${failure.code ?? failure.message}`);
            continue;
          }
        }
        const body = JSON.stringify({
          signer_name: `Sponsor ${sponsor.index}`,
          signer_role: 'Head of operations',
          approval_reference: `BENCH-PO-${sponsor.index}-${sponsor.signed + 1}`,
          readiness_digest: sponsor.digest,
          exclusions: [],
          residual_risks: '',
        });
        let response;
        try {
          response = await request('PATCH', `${base}/api/platform/launch-acceptance?tenant=${sponsor.slug}`, {
            agent,
            headers: { authorization: `Bearer ${sponsor.bearer}`, 'content-type': 'application/json' },
            body,
          });
        } catch (failure) {
          error(`connection: ${failure.code ?? failure.message}`);
          continue;
        }
        if (response.status === 200) {
          const answer = JSON.parse(response.text);
          if (!hasReceipt(answer)) {
            error('200 without a receipt');
            continue;
          }
          sponsor.signed += 1;
          latencies.push(response.ms);
          firstReceipt ??= answer.receipt;
          continue;
        }
        const fields = response.status === 422 ? (JSON.parse(response.text).fields ?? []).map((field) => field.field) : [];
        if (fields.length > 0 && fields.every((field) => field === 'readiness_digest')) {
          stale += 1; // readiness changed between reading the digest and signing
          sponsor.digest = null;
          continue;
        }
        error(`${response.status} ${response.text.slice(0, 120)}`);
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  agent.destroy();
  return { rps: latencies.length / seconds, signed: latencies.length, latencies, stale, errors, firstReceipt };
}

// --- Main ----------------------------------------------------------------------------

banner('Cluster benchmark', [
  `baseline ${DIRECT_URL} (the server that sequences the log, directly); HAProxy with it alone ${ONE_URL}; HAProxy with three ${THREE_URL}`,
  `GET / by ${ohaVersion()} as the page benchmark runs it; signatures by ${SIGNERS} sponsors of ${SIGNERS} tenants in a closed loop`,
]);
console.log(`\n${ROUNDS} rounds; each: GET / at saturation (-c ${CONCURRENCY}, ${SECONDS} s), at ${RATE} requests/s (${SECONDS} s), and signatures (${SECONDS} s), on every target, rotating which goes first`);

let rounds;
const signingTotals = { signed: 0, stale: 0, errors: new Map(), receipts: [] };
try {
  const setUpStart = performance.now();
  const sponsors = await setUp();
  console.log(`  set-up through the product: an operator, ${SIGNERS} tenants ready for acceptance, ${SIGNERS} sponsors with API tokens (${ms(performance.now() - setUpStart)})`);

  // Warm-up: connections, page caches on every server, CPU frequency.
  for (const target of TARGETS) await oha(`${target.url}/`, { seconds: 2, concurrency: CONCURRENCY });

  rounds = [];
  for (let round = 0; round < ROUNDS; round++) {
    const order = [...TARGETS.slice(round % TARGETS.length), ...TARGETS.slice(0, round % TARGETS.length)];
    const result = Object.fromEntries(TARGETS.map((target) => [target.key, {}]));
    for (const target of order) result[target.key].saturated = await observed(target, () => oha(`${target.url}/`, { seconds: SECONDS, concurrency: CONCURRENCY }));
    for (const target of order) result[target.key].fixed = await oha(`${target.url}/`, { seconds: SECONDS, concurrency: CONCURRENCY, rate: RATE });
    for (const target of order) {
      const signing = await observed(target, () => signFor(target.url, sponsors));
      result[target.key].signing = { ...signing, p50: quantile(signing.latencies, 0.5), p99: quantile(signing.latencies, 0.99) };
      signingTotals.signed += signing.signed;
      signingTotals.stale += signing.stale;
      for (const [what, count] of signing.errors) signingTotals.errors.set(`${target.key}: ${what}`, (signingTotals.errors.get(`${target.key}: ${what}`) ?? 0) + count);
      if (signing.firstReceipt) signingTotals.receipts.push({ target: target.key, receipt: signing.firstReceipt });
    }
    rounds.push(result);
    const line = (key) => {
      const r = result[key];
      const shares = r.saturated.shares.map((share) => `${(100 * share).toFixed(0)}`).join('/');
      return `${key} GET / ${r.saturated.rps.toFixed(0)}/s (p99 at ${RATE}/s ${ms(r.fixed.p99)}; % per server ${shares}), signing ${r.signing.rps.toFixed(0)}/s (p99 ${ms(r.signing.p99)})`;
    };
    console.log(`  round ${round + 1}: ${TARGETS.map((target) => line(target.key)).join('; ')}`);
  }
} catch (error) {
  if (!(error instanceof ContractError)) throw error;
  console.error(`\nerror: ${error.message}`);
  process.exit(2);
}

// --- Afterwards: receipts offline, every chain ---------------------------------------

let checked;
try {
  const key = (await request('GET', `${DIRECT_URL}/api/log/key`)).text.trim();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'clearance-cluster-receipts-'));
  let ok = 0;
  for (const [index, { target, receipt }] of signingTotals.receipts.entries()) {
    const file = path.join(dir, `receipt-${index}.json`);
    writeFileSync(file, JSON.stringify(receipt));
    try {
      serverCommand(['receipt', 'verify', file, '--key', key]);
      ok += 1;
    } catch (failure) {
      console.error(`  receipt of a signature through ${target} does not check: ${failure.stdout ?? ''}${failure.stderr ?? failure.message}`);
    }
  }
  rmSync(dir, { recursive: true, force: true });
  const audit = serverCommand(['audit', 'verify']);
  const recorded = [...audit.matchAll(/acceptance: (\d+) records?/g)].reduce((sum, match) => sum + Number(match[1]), 0);
  checked = { receipts: ok, of: signingTotals.receipts.length, recorded };
} catch (failure) {
  console.error(`\nerror: checking the receipts and chains afterwards failed: ${failure.stdout ?? ''}${failure.stderr ?? failure.message}`);
  process.exit(2);
}

// --- Figures -------------------------------------------------------------------------

const figure = (key, pick) => summary(rounds.map((round) => pick(round[key])));
const inRound = (key, pick, base = 'direct') => summary(rounds.map((round) => pick(round[key]) / pick(round[base])));
const range = ({ min, max }, format) => `${format(min)}–${format(max)}`;
const perSecond = (value) => `${value.toFixed(0)}/s`;
const ratio = (value) => value.toFixed(2);
const pageRps = (result) => result.saturated.rps;
const pageP99 = (result) => result.fixed.p99;
const pageP99Saturated = (result) => result.saturated.p99;
const signRps = (result) => result.signing.rps;
const signP99 = (result) => result.signing.p99;
const signP50 = (result) => result.signing.p50;

console.log(`\nMedians over ${ROUNDS} rounds (min–max in brackets); ratios against the baseline within each round`);
table([
  ['target', 'GET / at saturation', 'ratio', `GET / p99 at ${RATE}/s`, 'p99 at saturation', 'signatures', 'ratio', 'signature p50', 'p99'],
  ...TARGETS.map(({ key, label }) => [
    label,
    `${perSecond(figure(key, pageRps).median)} (${range(figure(key, pageRps), perSecond)})`,
    key === 'direct' ? '' : ratio(inRound(key, pageRps).median),
    `${ms(figure(key, pageP99).median)} (${range(figure(key, pageP99), ms)})`,
    ms(figure(key, pageP99Saturated).median),
    `${perSecond(figure(key, signRps).median)} (${range(figure(key, signRps), perSecond)})`,
    key === 'direct' ? '' : ratio(inRound(key, signRps).median),
    ms(figure(key, signP50).median),
    `${ms(figure(key, signP99).median)} (${range(figure(key, signP99), ms)})`,
  ]),
]);
console.log(
  `  HAProxy with three: share of GET / per server, per round: ${rounds.map((round) => round.three.saturated.shares.map((share) => `${(100 * share).toFixed(0)} %`).join('/')).join('; ')}`,
);
const setCost = (pick) => inRound('three', pick, 'one');
console.log(
  `  HAProxy with three / HAProxy with one, in-round: GET / ${ratio(setCost(pageRps).median)} (${range(setCost(pageRps), ratio)}), ` +
    `signatures ${ratio(setCost(signRps).median)} (${range(setCost(signRps), ratio)})`,
);
const errorCount = [...signingTotals.errors.values()].reduce((a, b) => a + b, 0);
console.log(`  signatures answered 200 with a receipt: ${signingTotals.signed}; re-read after a changed readiness digest (422): ${signingTotals.stale}; errors: ${errorCount}`);
for (const [what, count] of signingTotals.errors) console.log(`    error: ${what} (×${count})`);
console.log(`  receipts checked offline (the first of each signing run): ${checked.receipts} of ${checked.of}`);
console.log(`  audit verify: every chain intact, ${checked.recorded} acceptance records (answered 200: ${signingTotals.signed})`);

for (const { key, label } of TARGETS) {
  const suffix = key === 'direct' ? '' : ` (in-round ratio to the baseline ${ratio(inRound(key, pageRps).median)}, min–max ${range(inRound(key, pageRps), ratio)})`;
  record({ measure: `cluster: GET / throughput at saturation, ${label}, median of ${ROUNDS}${suffix}`, figure: perSecond(figure(key, pageRps).median), spread: `min–max ${range(figure(key, pageRps), perSecond)}` });
}
record({
  measure: `cluster: GET / throughput, HAProxy with three servers / with one, median of ${ROUNDS} in-round ratios`,
  figure: ratio(setCost(pageRps).median),
  spread: `min–max ${range(setCost(pageRps), ratio)}`,
});
for (const { key, label } of TARGETS) {
  record({ measure: `cluster: GET / p99 at ${RATE}/s, ${label}, median of ${ROUNDS}`, figure: ms(figure(key, pageP99).median), spread: `min–max ${range(figure(key, pageP99), ms)}` });
}
for (const { key, label } of TARGETS) {
  const suffix = key === 'direct' ? '' : ` (in-round ratio to the baseline ${ratio(inRound(key, signRps).median)}, min–max ${range(inRound(key, signRps), ratio)})`;
  record({ measure: `cluster: signatures with their receipt per second, ${SIGNERS} sponsors, ${label}, median of ${ROUNDS}${suffix}`, figure: perSecond(figure(key, signRps).median), spread: `min–max ${range(figure(key, signRps), perSecond)}` });
}
record({
  measure: `cluster: signatures per second, HAProxy with three servers / with one, median of ${ROUNDS} in-round ratios`,
  figure: ratio(setCost(signRps).median),
  spread: `min–max ${range(setCost(signRps), ratio)}`,
});
for (const { key, label } of TARGETS) {
  record({ measure: `cluster: signature p99, ${label}, median of ${ROUNDS}`, figure: ms(figure(key, signP99).median), spread: `min–max ${range(figure(key, signP99), ms)}` });
}
record({
  measure: 'cluster: signatures answered 200 with a receipt; errors; receipts checked offline; acceptance records in the verified chains',
  figure: String(signingTotals.signed),
  spread: `${errorCount} errors, ${signingTotals.stale} stale digests re-read; ${checked.receipts}/${checked.of} receipts check; ${checked.recorded} records`,
});

const consistent = errorCount === 0 && checked.receipts === checked.of && checked.recorded === signingTotals.signed;
if (!consistent) {
  console.error('\nerror: a signature failed, a receipt did not check, or the chains do not hold exactly the signatures answered 200');
  process.exit(2);
}
process.exit(0);
