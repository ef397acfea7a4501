// Soak test: a long mixed load — reads, pushes, signings — against one release
// server, checking that it answers every request without a server error and that
// its memory stops growing.
//
//   node end2end/bench/soak.mjs        (scripts/soak builds, starts the server and runs it)
//
// Why: the benchmarks time single requests and single pushes; a soak finds what
// only shows over time: a leak (per request, per event-stream client, per
// signature), a pool or descriptor that runs out, a stream that dies, a chain that
// forks under concurrent appends.
//
// Expects a release server with the default register at SOAK_URL, started with
// CLEARANCE_API_TOKEN=$SOAK_API_TOKEN, RESEND_API_KEY set (so a proof run of
// `support-status-notification` clears or re-opens the Support email blocker),
// CLEARANCE_POLL_INTERVAL_SECS=1, on the empty database SOAK_DATABASE_URL; its
// process id in SOAK_SERVER_PID (memory is read from /proc/<pid>/status).
//
// Set-up, all through the product: an operator account (`server account create`),
// its sign-in (`POST /auth/login`), four tenants on the managed private beta
// (`POST /admin/tenants`), every evidence item their motion requires
// (`POST /rooms/{slug}/evidence`) so each room is ready for acceptance, a buyer
// sponsor per tenant (`POST /admin/invitations`, the link shown once on `/admin`,
// `POST /auth/invitations/accept`) and a bearer token per sponsor
// (`server token create`).
//
// The load, all at once for SOAK_SECONDS (default 600):
//   reads     SOAK_READ_RATE (default 80) requests/s in total, round-robin over the
//             public pages and documents and the operator's `/rooms` pages;
//   pushes    SOAK_SSE_CLIENTS (default 50) clients following `GET /api/events` for
//             the whole run (each on its own connection; a dropped stream is
//             counted and reconnected), and every SOAK_PUSH_EVERY_SECS (default 5)
//             a proof run alternating passed / failed: each a real readiness change;
//   signings  per tenant, every SOAK_SIGN_EVERY_MS (default 1500) ms, a signed
//             launch acceptance (`PATCH /api/platform/launch-acceptance`) bound to
//             the readiness digest last read. A 422 on `readiness_digest` alone means
//             a push changed readiness in between: expected, counted, the digest is
//             re-read and the signature retried. Any other refusal is a test bug.
//   memory    the server's VmRSS every 5 s.
//
// Pass criteria (exit 1 when one fails, 2 when the test itself cannot run):
//   1. no 5xx answer and no connection error (time-outs, resets, dropped event
//      streams) over the whole run, and no unexpected answer (a test bug);
//   2. memory stops growing: over the last third of the run (the first third is
//      warm-up: allocator pools, caches, connection pools filling), the
//      least-squares slope of RSS is at most 0.5 MiB per minute. A steady state
//      wobbles around a level; anything that keeps a little per request, per
//      client or per record climbs, however slowly, and fails;
//   3. every event-stream client saw at least 90 % of the pushes (each push is a new
//      state version; a client that misses more was starved or dropped);
//   4. signatures were stored (at least one per tenant), and `server audit verify`
//      reports every chain intact, with as many acceptance records as were signed.

import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  CookieJar,
  FORM,
  ROOT,
  SetupError,
  every,
  expect,
  formBody,
  number,
  required as requiredBy,
  serverCommand as runServer,
  sleep,
} from '../lib/load.mjs';
import { serverSentEvents } from './stats.mjs';

// --- Configuration -----------------------------------------------------------------

const positive = (name, fallback) => number(name, fallback, { positive: true });
const required = (name) => requiredBy(name, 'scripts/soak');

const SERVER_BIN = path.join(ROOT, 'target/release/server');
const URL_BASE = process.env.SOAK_URL ?? 'http://127.0.0.1:3210';
const API_TOKEN = required('SOAK_API_TOKEN');
const DATABASE_URL = required('SOAK_DATABASE_URL');
const SERVER_PID = Number(required('SOAK_SERVER_PID'));
const SECONDS = positive('SOAK_SECONDS', 600);
const READ_RATE = positive('SOAK_READ_RATE', 80);
const SSE_CLIENTS = Math.round(positive('SOAK_SSE_CLIENTS', 50));
const PUSH_EVERY_MS = positive('SOAK_PUSH_EVERY_SECS', 5) * 1000;
const SIGN_EVERY_MS = positive('SOAK_SIGN_EVERY_MS', 1500);

const TENANTS = 4;
const MOTION = 'managed-private-beta';
const PROOF = 'support-status-notification';
const BLOCKER = 'support-email';
const READ_LOOPS = 8;
const MEMORY_EVERY_MS = 5000;
const REQUEST_TIMEOUT_MS = 30_000;
/** How long the event-stream clients get after the last push to show it. */
const SETTLE_MS = 10_000;
const SSE_SHARE = 0.9;
const MEMORY_SLOPE_LIMIT = 0.5 * 1024 * 1024; // bytes per minute
const PASSWORD = 'soak-passphrase-long-enough';
const OPERATOR = 'soak-operator@example.com';

const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const started = Date.now();
const elapsed = () => (Date.now() - started) / 1000;
const log = (message) => console.log(`  [${elapsed().toFixed(0).padStart(4)} s] ${message}`);

// --- HTTP, with every answer counted by kind and status -----------------------------

/** kind → status (number, or `error: CODE`) → count. */
const answers = new Map();
/** Unexpected answers (test bugs and server errors), the first few of each kind kept. */
const problems = [];

/** kind → [{ t, ms }]: when each answer arrived (s since the start) and how long it took. */
const latencies = new Map();

function count(kind, status) {
  const byStatus = answers.get(kind) ?? new Map();
  byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
  answers.set(kind, byStatus);
}

/** `type`: `server` (a 5xx), `connection` (an error or a dropped stream) or `bug` (any other surprise). */
let bugCount = 0;
function problem(kind, what, type = 'bug') {
  if (type === 'bug') bugCount += 1;
  if (problems.filter((entry) => entry.kind === kind).length < 5) problems.push({ kind, what, type, at: elapsed() });
}

const readAgent = new http.Agent({ keepAlive: true, maxSockets: READ_LOOPS });
const writeAgent = new http.Agent({ keepAlive: true, maxSockets: TENANTS + 2 });

/**
 * One request; resolves with `{ status, headers, text }`, or with `{ error }` on a
 * connection error or time-out (counted as `error: CODE`). Never rejects.
 */
function request(kind, method, url, { headers = {}, body, agent = writeAgent } = {}) {
  return new Promise((resolve) => {
    const sent = performance.now();
    const options = { method, agent, headers: { ...headers } };
    if (body !== undefined) options.headers['content-length'] = Buffer.byteLength(body);
    const req = http.request(`${URL_BASE}${url}`, options, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('error', (error) => done({ error }));
      response.on('end', () =>
        done({ status: response.statusCode, headers: response.headers, text: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    let settled = false;
    const done = (result) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (result.error) {
        const code = `error: ${result.error.code ?? result.error.message}`;
        count(kind, code);
        problem(kind, `${method} ${url}: ${code}`, 'connection');
      } else {
        count(kind, result.status);
        const samples = latencies.get(kind) ?? [];
        samples.push({ t: elapsed(), ms: performance.now() - sent });
        latencies.set(kind, samples);
        if (result.status >= 500) problem(kind, `${method} ${url}: ${result.status} ${result.text.slice(0, 200)}`, 'server');
      }
      resolve(result);
    };
    const timer = setTimeout(() => {
      req.destroy(Object.assign(new Error('timed out'), { code: 'TIMEOUT' }));
    }, REQUEST_TIMEOUT_MS);
    req.on('error', (error) => done({ error }));
    req.end(body);
  });
}

/** The operator's session: the cookie from the sign-in, renewed whenever the server sets it. */
const jar = new CookieJar();

/** A request as the signed-in operator. */
async function asOperator(kind, method, url, options = {}) {
  const response = await request(kind, method, url, { ...options, headers: { ...options.headers, cookie: jar.header() } });
  if (!response.error) jar.keep(response);
  return response;
}

/** Runs the server binary as a command, with a clean environment on the soak database. */
const serverCommand = (args, extraEnv) => runServer(SERVER_BIN, DATABASE_URL, args, extraEnv);

// --- Set-up --------------------------------------------------------------------------

async function setUp() {
  console.log('Set-up through the product');
  serverCommand(['account', 'create', '--email', OPERATOR, '--name', 'Soak Operator', '--role', 'operator'], {
    CLEARANCE_NEW_PASSWORD: PASSWORD,
  });
  const signIn = expect(
    await request('setup', 'POST', '/auth/login', {
      headers: FORM,
      body: formBody({ email: OPERATOR, password: PASSWORD, next: '/rooms' }),
    }),
    303,
    'operator sign-in',
  );
  jar.keep(signIn);
  if (signIn.headers.location !== '/rooms' || !jar.has('clearance_session')) {
    throw new SetupError(`operator sign-in: redirected to ${signIn.headers.location}, cookies ${jar.names()}`);
  }
  log(`operator ${OPERATOR} signed in`);

  const tenants = [];
  for (let index = 1; index <= TENANTS; index += 1) {
    const slug = `soak-${index}`;
    const created = expect(
      await asOperator('setup', 'POST', '/admin/tenants', {
        headers: FORM,
        body: formBody({ name: `Soak Tenant ${index}`, slug, motion: MOTION, billing_route: 'invoice_only' }),
      }),
      303,
      `create tenant ${slug}`,
    );
    if (!created.headers.location.startsWith(`/rooms/${slug}?done=`)) {
      throw new SetupError(`create tenant ${slug}: redirected to ${created.headers.location}`);
    }
    const room = JSON.parse(
      expect(await asOperator('setup', 'GET', `/api/platform/launch-room?tenant=${slug}`), 200, `launch room ${slug}`).text,
    );
    let attached = 0;
    for (const gate of room.gates.filter((gate) => gate.required && !gate.by_acceptance)) {
      for (const { item } of gate.items) {
        const answer = expect(
          await asOperator('setup', 'POST', '/api/rooms/evidence', {
            headers: FORM,
            body: formBody({
              slug,
              action: 'attach',
              gate_id: gate.gate_id,
              item,
              reference: `SOAK-${index}-${gate.gate_id}-${attached + 1}`,
              note: 'Attached by the soak test.',
            }),
          }),
          303,
          `attach evidence to ${slug} / ${gate.gate_id}`,
        );
        if (!answer.headers.location.includes('done=')) {
          throw new SetupError(`attach evidence to ${slug}: redirected to ${answer.headers.location}`);
        }
        attached += 1;
      }
    }
    const ready = JSON.parse(
      expect(await asOperator('setup', 'GET', `/api/platform/launch-room?tenant=${slug}`), 200, `launch room ${slug}`).text,
    );
    if (ready.state !== 'ready_for_acceptance') {
      throw new SetupError(`room ${slug} is ${ready.state}, not ready for acceptance: ${ready.outstanding.join('; ')}`);
    }
    tenants.push({ index, slug, id: room.tenant.id, sponsor: `sponsor-${index}@soak.example.com` });
    log(`tenant ${slug}: ${attached} evidence items attached, ready for acceptance`);
  }

  for (const tenant of tenants) {
    const invited = expect(
      await asOperator('setup', 'POST', '/admin/invitations', {
        headers: FORM,
        body: formBody({ tenant: String(tenant.id), email: tenant.sponsor, days: '7' }),
      }),
      303,
      `invite ${tenant.sponsor}`,
    );
    if (invited.headers.location !== '/admin#new-invitation') {
      throw new SetupError(`invite ${tenant.sponsor}: redirected to ${invited.headers.location}`);
    }
    // The link is shown once, on the next administration page.
    const admin = expect(await asOperator('setup', 'GET', '/admin'), 200, 'administration page');
    const token = admin.text.match(/\/invite\/([0-9a-f]{64})/)?.[1];
    if (!token) throw new SetupError(`no invitation link on /admin after inviting ${tenant.sponsor}`);
    const accepted = expect(
      await request('setup', 'POST', '/auth/invitations/accept', {
        headers: FORM,
        body: formBody({ token, name: `Sponsor ${tenant.index}`, password: PASSWORD }),
      }),
      303,
      `accept the invitation of ${tenant.sponsor}`,
    );
    if (accepted.headers.location !== '/') {
      throw new SetupError(`accept the invitation of ${tenant.sponsor}: redirected to ${accepted.headers.location}`);
    }
    // `token … for E; shown once, only its hash is kept:` then the token alone.
    const printed = serverCommand(['token', 'create', '--email', tenant.sponsor, '--label', 'soak']).trim().split('\n');
    tenant.bearer = printed.at(-1).trim();
    if (!/^\S{20,}$/.test(tenant.bearer)) throw new SetupError(`token create printed ${JSON.stringify(printed)}`);
    tenant.digest = await readDigest(tenant, 'setup');
    log(`sponsor ${tenant.sponsor}: invited, joined, API token created`);
  }
  return tenants;
}

/** The readiness digest a new signature of this tenant binds to. */
async function readDigest(tenant, kind = 'sign: GET digest') {
  const response = await request(kind, 'GET', `/api/platform/launch-acceptance?tenant=${tenant.slug}`, {
    headers: { authorization: `Bearer ${tenant.bearer}` },
  });
  if (response.error || response.status !== 200) {
    if (!response.error && response.status < 500) problem(kind, `GET launch-acceptance ${tenant.slug}: ${response.status} ${response.text.slice(0, 200)}`);
    return null;
  }
  return JSON.parse(response.text).readiness_digest;
}

// --- Memory --------------------------------------------------------------------------

const memory = []; // { t, rss } — t in seconds since the load started

function rss() {
  let status;
  try {
    status = readFileSync(`/proc/${SERVER_PID}/status`, 'utf8');
  } catch (error) {
    throw new SetupError(`the server (pid ${SERVER_PID}) is gone: ${error.message}`);
  }
  const kib = Number(status.match(/^VmRSS:\s+(\d+)\s+kB$/m)?.[1]);
  if (!Number.isFinite(kib)) throw new SetupError(`no VmRSS in /proc/${SERVER_PID}/status`);
  return kib * 1024;
}

// --- Event-stream clients ------------------------------------------------------------

/** What a page shows of a live state (LiveState::version in app/src/live_state.rs). */
function version(live) {
  const runIds = Object.values(live.latest_runs ?? {}).map((run) => run.id);
  return `${live.readiness.digest}:${Math.max(0, ...runIds)}`;
}

class SseClient {
  constructor(index) {
    this.index = index;
    this.events = 0;
    this.changes = 0; // events whose version differs from the previous one seen
    this.drops = 0;
    this.version = null;
    this.closed = false;
    this.connected = null;
  }

  /** Connects (and reconnects after a drop, a second later, as a browser would). */
  connect() {
    this.connected = new Promise((resolve) => {
      // One drop per connection, however many of error / end / close report it.
      let over = false;
      const drop = (how) => {
        if (over) return;
        over = true;
        this.dropped(how, resolve);
      };
      const req = http.get(`${URL_BASE}/api/events`, { agent: false, headers: { accept: 'text/event-stream' } }, (response) => {
        count('push: GET /api/events', response.statusCode);
        if (response.statusCode !== 200) {
          problem('push: GET /api/events', `client ${this.index}: ${response.statusCode}`, response.statusCode >= 500 ? 'server' : 'bug');
          response.resume();
          response.on('end', () => drop('status'));
          return;
        }
        response.setEncoding('utf8');
        response.on(
          'data',
          serverSentEvents((event, data) => {
            if (event === 'live' && data) this.receive(JSON.parse(data), resolve);
          }),
        );
        response.on('error', (error) => drop(`error: ${error.code ?? error.message}`));
        response.on('end', () => drop('end'));
        response.on('close', () => drop('close'));
      });
      req.on('error', (error) => {
        if (this.closed || over) return;
        count('push: GET /api/events', `error: ${error.code ?? error.message}`);
        drop(error.code ?? 'error');
      });
      this.request = req;
    });
    return this.connected;
  }

  receive(live, connected) {
    this.events += 1;
    const next = version(live);
    if (this.version !== null && next !== this.version) this.changes += 1;
    this.version = next;
    connected();
  }

  dropped(how, resolve) {
    if (this.closed) return;
    this.drops += 1;
    problem('push: GET /api/events', `client ${this.index}: stream dropped (${how})`, 'connection');
    resolve();
    setTimeout(() => this.closed || this.connect(), 1000);
  }

  close() {
    this.closed = true;
    this.request?.destroy();
  }
}

// --- The load ------------------------------------------------------------------------

const READS = (tenants) => [
  ['GET /', '/'],
  ['GET /?scope=enterprise', '/?scope=enterprise'],
  [`GET /motions/${MOTION}`, `/motions/${MOTION}`],
  [`GET /blockers/${BLOCKER}`, `/blockers/${BLOCKER}`],
  ['GET /api/readiness', '/api/readiness'],
  ['GET /api/product/production-proof', '/api/product/production-proof'],
  ['GET /badge/strict.svg', '/badge/strict.svg'],
  ['GET /rooms (operator)', '/rooms', true],
  ...tenants.map((tenant) => ['GET /rooms/{slug} (operator)', `/rooms/${tenant.slug}`, true]),
];

async function main() {
  console.log(`Soak: ${SECONDS} s against ${URL_BASE} (server pid ${SERVER_PID})`);
  console.log(
    `  reads ${READ_RATE}/s, ${SSE_CLIENTS} event-stream clients, a push every ${PUSH_EVERY_MS / 1000} s, ` +
      `a signature per tenant every ${SIGN_EVERY_MS} ms (${TENANTS} tenants)`,
  );
  const tenants = await setUp();

  // Every client connected and holding the current state before the clock starts.
  const clients = Array.from({ length: SSE_CLIENTS }, (_, index) => new SseClient(index));
  await Promise.all(clients.map((client) => client.connect()));
  log(`${SSE_CLIENTS} event-stream clients connected`);

  const loadStart = Date.now();
  const loadEnd = loadStart + SECONDS * 1000;
  const until = () => loadEnd;
  const at = () => (Date.now() - loadStart) / 1000;
  memory.push({ t: 0, rss: rss() });
  log(`load started; RSS ${mib(memory[0].rss)}`);

  let minuteLogged = 0;
  const memoryLoop = every(MEMORY_EVERY_MS, until, async () => {
    const sample = { t: at(), rss: rss() };
    memory.push(sample);
    const minute = Math.floor(sample.t / 60);
    if (minute > minuteLogged) {
      minuteLogged = minute;
      log(`minute ${minute}: RSS ${mib(sample.rss)}`);
    }
  }, MEMORY_EVERY_MS);

  // Reads: READ_LOOPS loops share the rate and walk one list in turn (the rooms
  // once per tenant, so about a third of the reads are signed-in room pages).
  const reads = READS(tenants);
  let readIndex = 0;
  const readLoops = Array.from({ length: READ_LOOPS }, (_, loop) =>
    every((READ_LOOPS * 1000) / READ_RATE, until, async () => {
      const [kind, url, operator] = reads[readIndex++ % reads.length];
      const response = operator
        ? await asOperator(`read: ${kind}`, 'GET', url, { agent: readAgent })
        : await request(`read: ${kind}`, 'GET', url, { agent: readAgent });
      if (!response.error && response.status !== 200 && response.status < 500) {
        problem(`read: ${kind}`, `GET ${url}: ${response.status} ${response.text.slice(0, 200)}`);
      }
    }, (loop * 1000) / READ_RATE),
  );

  // Pushes: alternate passed / failed, so each run flips the Support email blocker.
  const pushes = { stored: 0, passed: 0, failed: 0 };
  const pushLoop = every(PUSH_EVERY_MS, until, async () => {
    const status = pushes.stored % 2 === 0 ? 'passed' : 'failed';
    const response = await request(`push: POST /api/proofs/${PROOF}/runs`, 'POST', `/api/proofs/${PROOF}/runs`, {
      headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ status, actor: 'soak', excerpt: `soak push ${pushes.stored + 1}: ${status}` }),
    });
    if (response.error || response.status >= 500) return;
    if (response.status !== 201) {
      problem(`push: POST /api/proofs/${PROOF}/runs`, `${response.status} ${response.text.slice(0, 200)}`);
      return;
    }
    pushes.stored += 1;
    pushes[status] += 1;
  }, PUSH_EVERY_MS);

  // Signings: one loop per tenant, offset so they do not all arrive together.
  const signing = { signed: 0, stale: 0, perTenant: new Map(tenants.map((tenant) => [tenant.slug, 0])) };
  const signLoops = tenants.map((tenant, index) =>
    every(SIGN_EVERY_MS, until, async () => {
      for (let attempt = 0; attempt < 3; attempt += 1) {
        tenant.digest ??= await readDigest(tenant);
        if (!tenant.digest) return;
        const response = await request('sign: PATCH launch-acceptance', 'PATCH', `/api/platform/launch-acceptance?tenant=${tenant.slug}`, {
          headers: { authorization: `Bearer ${tenant.bearer}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            signer_name: `Sponsor ${tenant.index}`,
            signer_role: 'Head of operations',
            approval_reference: `SOAK-PO-${tenant.index}-${signing.perTenant.get(tenant.slug) + 1}`,
            readiness_digest: tenant.digest,
            exclusions: [],
            residual_risks: '',
          }),
        });
        if (response.error || response.status >= 500) return;
        if (response.status === 200) {
          signing.signed += 1;
          signing.perTenant.set(tenant.slug, signing.perTenant.get(tenant.slug) + 1);
          return;
        }
        const fields = response.status === 422 ? (JSON.parse(response.text).fields ?? []).map((field) => field.field) : [];
        if (fields.length > 0 && fields.every((field) => field === 'readiness_digest')) {
          signing.stale += 1; // readiness changed between reading the digest and signing
          tenant.digest = null;
          continue;
        }
        problem('sign: PATCH launch-acceptance', `${tenant.slug}: ${response.status} ${response.text.slice(0, 300)}`);
        return;
      }
    }, (index * SIGN_EVERY_MS) / TENANTS),
  );

  await Promise.all([memoryLoop, pushLoop, ...readLoops, ...signLoops]);
  memory.push({ t: at(), rss: rss() });
  log(`load stopped; RSS ${mib(memory.at(-1).rss)}`);

  // Give the streams time to deliver the last push, then close them.
  const finalVersion = await currentVersion();
  const settleUntil = Date.now() + SETTLE_MS;
  while (Date.now() < settleUntil && clients.some((client) => client.version !== finalVersion)) await sleep(200);
  for (const client of clients) client.close();
  const lastRss = rss();

  // Every chain, checked by the product's own verifier.
  let verify = { ok: false, output: '' };
  try {
    verify = { ok: true, output: serverCommand(['audit', 'verify']) };
  } catch (error) {
    verify = { ok: false, output: `${error.stdout ?? ''}${error.stderr ?? error.message}` };
  }

  return report({ clients, pushes, signing, verify, lastRss, loadStarted: (loadStart - started) / 1000 });
}

/** The state version the server publishes now: one short-lived stream's first event. */
function currentVersion() {
  return new Promise((resolve) => {
    const req = http.get(`${URL_BASE}/api/events`, { agent: false }, (response) => {
      let buffer = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => {
        buffer += chunk;
        const end = buffer.indexOf('\n\n');
        if (end === -1) return;
        const data = [...buffer.slice(0, end).matchAll(/^data: ?(.*)$/gm)].map((match) => match[1]).join('\n');
        req.destroy();
        resolve(version(JSON.parse(data)));
      });
    });
    req.on('error', () => resolve(null));
  });
}

// --- The report ----------------------------------------------------------------------

/** Least-squares slope of RSS over time, in bytes per minute. */
function slopePerMinute(samples) {
  if (samples.length < 2) return 0;
  const n = samples.length;
  const meanT = samples.reduce((sum, sample) => sum + sample.t, 0) / n;
  const meanR = samples.reduce((sum, sample) => sum + sample.rss, 0) / n;
  const covariance = samples.reduce((sum, sample) => sum + (sample.t - meanT) * (sample.rss - meanR), 0);
  const variance = samples.reduce((sum, sample) => sum + (sample.t - meanT) ** 2, 0);
  return variance === 0 ? 0 : (covariance / variance) * 60;
}

function report({ clients, pushes, signing, verify, lastRss, loadStarted }) {
  const failures = [];
  const check = (ok, label, detail) => {
    console.log(`  ${ok ? '\x1b[1;32mPASS\x1b[0m' : '\x1b[1;31mFAIL\x1b[0m'} ${label}: ${detail}`);
    if (!ok) failures.push(label);
  };

  console.log('\nAnswers by kind of request (status → count)');
  let serverErrors = 0;
  let connectionErrors = 0;
  let total = 0;
  const width = Math.max(...[...answers.keys()].map((kind) => kind.length));
  for (const [kind, byStatus] of [...answers].sort(([a], [b]) => a.localeCompare(b))) {
    const cells = [...byStatus].sort(([a], [b]) => String(a).localeCompare(String(b)));
    for (const [status, n] of cells) {
      total += n;
      if (typeof status === 'number' && status >= 500) serverErrors += n;
      if (typeof status === 'string') connectionErrors += n;
    }
    console.log(`  ${kind.padEnd(width)}  ${cells.map(([status, n]) => `${status}: ${n}`).join(', ')}`);
  }
  const drops = clients.reduce((sum, client) => sum + client.drops, 0);
  const loadSeconds = memory.at(-1).t;
  const readCount = [...answers].filter(([kind]) => kind.startsWith('read:')).reduce((sum, [, byStatus]) => sum + [...byStatus.values()].reduce((a, b) => a + b, 0), 0);
  console.log(`  ${total} requests in all; reads ${(readCount / loadSeconds).toFixed(1)}/s over ${loadSeconds.toFixed(0)} s`);

  // Not a criterion, but a server that slows down over the run shows here first.
  console.log('\nLatency (ms; median and p95 over the run, median of the first and last third of the load)');
  const quantile = (values, q) => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  };
  const fmt = (value) => (Number.isNaN(value) ? '–' : value.toFixed(1)).padStart(7);
  console.log(`  ${''.padEnd(width)}  ${'median'.padStart(7)} ${'p95'.padStart(7)} ${'first'.padStart(7)} ${'last'.padStart(7)}`);
  for (const [kind, samples] of [...latencies].sort(([a], [b]) => a.localeCompare(b))) {
    if (kind === 'setup') continue;
    const ms = samples.map((sample) => sample.ms);
    const first = samples.filter((sample) => sample.t < loadStarted + loadSeconds / 3).map((sample) => sample.ms);
    const last = samples.filter((sample) => sample.t >= loadStarted + (2 * loadSeconds) / 3).map((sample) => sample.ms);
    console.log(`  ${kind.padEnd(width)}  ${fmt(quantile(ms, 0.5))} ${fmt(quantile(ms, 0.95))} ${fmt(quantile(first, 0.5))} ${fmt(quantile(last, 0.5))}`);
  }
  if (problems.length > 0) {
    console.log('\nUnexpected answers (first few of each kind)');
    for (const entry of problems) console.log(`  [${entry.at.toFixed(0)} s] (${entry.type}) ${entry.kind}: ${entry.what}`);
  }

  console.log('\nMemory (server VmRSS)');
  const third = loadSeconds / 3;
  const inRange = (from, to) => memory.filter((sample) => sample.t >= from && sample.t <= to);
  const max = (samples) => Math.max(...samples.map((sample) => sample.rss));
  const min = (samples) => Math.min(...samples.map((sample) => sample.rss));
  const warm = memory.find((sample) => sample.t >= third) ?? memory.at(-1);
  const row = (label, bytes) => console.log(`  ${label.padEnd(34)} ${mib(bytes).padStart(10)}`);
  row('start (before the load)', memory[0].rss);
  row(`after warm-up (t=${warm.t.toFixed(0)} s)`, warm.rss);
  for (let minute = 1; minute * 60 <= loadSeconds + 2.5; minute += 1) {
    const sample = memory.reduce((best, s) => (Math.abs(s.t - minute * 60) < Math.abs(best.t - minute * 60) ? s : best));
    row(`minute ${minute} (t=${sample.t.toFixed(0)} s)`, sample.rss);
  }
  row(`end of the load (t=${loadSeconds.toFixed(0)} s)`, memory.at(-1).rss);
  row('after the streams closed', lastRss);
  const thirds = [inRange(0, third), inRange(third, 2 * third), inRange(2 * third, loadSeconds)];
  thirds.forEach((samples, index) => {
    const label = ['first third (warm-up)', 'middle third', 'last third'][index];
    console.log(`  ${label.padEnd(34)} ${mib(min(samples)).padStart(10)} – ${mib(max(samples))} (${samples.length} samples)`);
  });
  // Not a criterion: the least-squares slope after warm-up, so a slow steady climb
  // that stays inside the criterion's margin is still visible.
  const slope = slopePerMinute(memory.filter((sample) => sample.t >= third));
  console.log(`  ${'trend after warm-up'.padEnd(34)} ${`${slope >= 0 ? '+' : ''}${mib(slope)}`.padStart(10)} per minute`);
  console.log(
    '  rule: the first third is warm-up; memory has stopped growing when the RSS slope over the\n' +
      '  last third is at most 0.5 MiB per minute.',
  );

  console.log('\nPushes and event streams');
  const changes = clients.map((client) => client.changes);
  const events = clients.reduce((sum, client) => sum + client.events, 0);
  const fewest = Math.min(...changes);
  console.log(`  ${pushes.stored} readiness changes pushed (${pushes.passed} passed, ${pushes.failed} failed runs)`);
  console.log(`  ${events} events received by ${clients.length} clients; changes seen per client: min ${fewest}, max ${Math.max(...changes)}`);
  console.log(`  dropped streams: ${drops} (reconnected after 1 s)`);

  console.log('\nSignatures');
  console.log(`  ${signing.signed} signed (${[...signing.perTenant].map(([slug, n]) => `${slug}: ${n}`).join(', ')}), ${(signing.signed / loadSeconds).toFixed(2)}/s`);
  console.log(`  ${signing.stale} refused with 422 because readiness changed since the digest was read (expected; re-read and retried)`);
  console.log('  audit verify:');
  for (const line of verify.output.trim().split('\n')) console.log(`    ${line}`);
  const recorded = [...verify.output.matchAll(/acceptance: (\d+) records?/g)].reduce((sum, match) => sum + Number(match[1]), 0);

  console.log('\nCriteria');
  check(
    serverErrors === 0 && connectionErrors === 0 && drops === 0,
    '1. no server error',
    `${serverErrors} 5xx, ${connectionErrors} connection errors, ${drops} dropped event streams in ${total} requests`,
  );
  check(bugCount === 0, '   no unexpected answer', bugCount === 0 ? 'every request answered as expected' : `${bugCount} (see above): a test bug or a changed contract`);
  const lastSlope = slopePerMinute(thirds[2]);
  check(
    thirds[2].length > 2 && lastSlope <= MEMORY_SLOPE_LIMIT,
    '2. memory stops growing',
    `RSS slope over the last third ${lastSlope >= 0 ? '+' : ''}${mib(lastSlope)} per minute ` +
      `(${mib(min(thirds[2]))} – ${mib(max(thirds[2]))}); allowed +${mib(MEMORY_SLOPE_LIMIT)} per minute`,
  );
  check(
    pushes.stored > 0 && fewest >= SSE_SHARE * pushes.stored,
    '3. every stream got the pushes',
    `the worst client saw ${fewest} of ${pushes.stored} changes (${pushes.stored ? ((100 * fewest) / pushes.stored).toFixed(0) : 0} %; needs ≥ ${SSE_SHARE * 100} %)`,
  );
  const everyTenant = [...signing.perTenant.values()].every((n) => n > 0);
  check(
    signing.signed > 0 && everyTenant && verify.ok && recorded === signing.signed,
    '4. signatures stored, chains intact',
    `${signing.signed} signatures, ${recorded} acceptance records verified, audit verify ${verify.ok ? 'exit 0' : 'FAILED'}`,
  );
  console.log(failures.length === 0 ? '\nSoak passed.' : `\nSoak FAILED: ${failures.join(', ')}`);
  return failures.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`\nerror: ${error instanceof SetupError ? error.message : error.stack}`);
    process.exit(2);
  },
);
