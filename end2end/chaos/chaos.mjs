// The chaos test's load and its verdict (scripts/chaos starts the cluster, kills
// and restarts servers, and runs this beside it).
//
//   node end2end/chaos/chaos.mjs      (scripts/chaos sets every variable below)
//
// Through HAProxy (CHAOS_URL), in front of three servers on one database, while
// scripts/chaos SIGKILLs one server, starts it again, then SIGTERMs another and
// starts it again (the long form repeats that in rounds), this keeps up a mixed
// load:
//   reads       public pages and documents, and an operator's room pages;
//   streams     CHAOS_SSE_CLIENTS (200) clients following GET /api/events, each as a
//               different client address (X-Forwarded-For 10.66.x.y, which the
//               servers believe from HAProxy: they trust 127.0.0.1); a dropped
//               stream reconnects after the server's retry hint with Last-Event-ID,
//               as a browser does;
//   pages       CHAOS_PAGES (4) real Chromium pages on `/`, hydrated and live;
//   signatures  each of CHAOS_TENANTS (4) sponsors signs its tenant's launch
//               acceptance (PATCH /api/platform/launch-acceptance, a bearer token),
//               every approval reference unique;
//   proof runs  POST /api/proofs/support-status-notification/runs with the CI
//               token, alternating passed and failed: each a readiness change that
//               every open page must follow;
//   evidence    the operator attaches evidence again (POST /api/rooms/evidence, a
//               session), every reference unique;
//   throttle    5 wrong passwords for one account, spread over the chaos (each
//               through HAProxy, so over several servers, one of them restarted
//               between attempts), then the right password: refused.
// Every request is recorded with its start, end, answer and the server that
// answered (HAProxy's X-Clearance-Server header).
//
// Afterwards it checks, and prints the counts of:
//   1. every acknowledged write (2xx, or the 303 with ?done=) is stored exactly once
//      (psql as the owner), no write is stored twice, and none that was refused;
//      a write whose answer was lost while its server died may be stored once or not;
//   2. `server audit verify` exits 0 for every chain, and with the checkpoints
//      collected during the run (GET /api/log/checkpoint, from every server) and
//      the log's key, for the log; every signature's receipt passes
//      `server receipt verify`;
//   3. a 5xx or a connection error only for a request in flight while its server was
//      dying (from the kill or SIGTERM until HAProxy marked it down, or the process
//      exited, plus CHAOS_MARGIN_MS), and none for a client after it had recovered;
//      no event stream dropped outside those windows;
//   4. every open page shows the final state: every stream client's last event id
//      is the final version (the first event of a new stream after the load), and
//      every Chromium page shows the final live-blocker count and is live, without
//      having reloaded;
//   5. the throttle held: the sixth attempt, with the right password, is refused as
//      throttled.
// Exit 0 when all hold, 1 when one fails, 2 when the test itself cannot run.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
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

// --- Configuration -----------------------------------------------------------------

const required = (name) => requiredBy(name, 'scripts/chaos');

const URL_BASE = required('CHAOS_URL');
const API_TOKEN = required('CHAOS_API_TOKEN');
const OWNER_DATABASE_URL = required('CHAOS_OWNER_DATABASE_URL');
const SERVING_DATABASE_URL = required('CHAOS_SERVING_DATABASE_URL');
const SERVER_BIN = process.env.CHAOS_SERVER_BIN ?? path.join(ROOT, 'target/release/server');
const CONTROL = required('CHAOS_DIR'); // load-started, chaos-done, timeline
const SSE_CLIENTS = number('CHAOS_SSE_CLIENTS', 200);
const PAGES = number('CHAOS_PAGES', 4);
const TENANTS = Math.max(1, number('CHAOS_TENANTS', 4));
const READ_RATE = number('CHAOS_READ_RATE', 30);
const SIGN_EVERY_MS = number('CHAOS_SIGN_EVERY_MS', 1500);
const PROOF_EVERY_MS = number('CHAOS_PROOF_EVERY_MS', 3000);
const EVIDENCE_EVERY_MS = number('CHAOS_EVIDENCE_EVERY_MS', 2000);
const AFTER_MS = number('CHAOS_AFTER_SECONDS', 8) * 1000;
const MARGIN_MS = number('CHAOS_MARGIN_MS', 1000);
const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_FLAGS = JSON.parse(readFileSync(path.join(ROOT, 'end2end/chromium-flags.json'), 'utf8'));

const MOTION = 'managed-private-beta';
const PROOF = 'support-status-notification';
const READ_LOOPS = 6;
const REQUEST_TIMEOUT_MS = 30_000;
/** How long the streams and pages get after the load to show the final state. */
const SETTLE_MS = 15_000;
/** The account limit: a burst of 5, then one every 30 s (server/src/auth/throttle.rs). */
const THROTTLE_BURST = 5;
const THROTTLE_PERIOD_MS = 30_000;
const PASSWORD = 'chaos-passphrase-long-enough';
const OPERATOR = 'chaos-operator@example.com';
const THROTTLED = 'chaos-throttled@example.com';

const now = () => Date.now();
const started = now();
const log = (message) => console.log(`  [${((now() - started) / 1000).toFixed(1).padStart(6)} s] ${message}`);

// --- HTTP, every request recorded ----------------------------------------------------

/** Every request: { kind, client, start, end, status | undefined, error | undefined, server }. */
const requests = [];

/**
 * One request through HAProxy. Resolves with `{ status, headers, text }` or
 * `{ error }`, never rejects; records it under `kind` for `client` (who sent it:
 * one loop, one sponsor, one stream client).
 */
function request(kind, client, method, url, { headers = {}, body, agent, record = true } = {}) {
  return new Promise((resolve) => {
    const entry = { kind, client, start: now(), end: null, status: undefined, error: undefined, server: null };
    const options = { method, agent: agent ?? false, headers: { ...headers } };
    if (body !== undefined) options.headers['content-length'] = Buffer.byteLength(body);
    let settled = false;
    const done = (result) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      entry.end = now();
      if (result.error) entry.error = result.error.code ?? result.error.message;
      else {
        entry.status = result.status;
        entry.server = result.headers['x-clearance-server'] ?? null;
      }
      if (record) requests.push(entry);
      resolve(result);
    };
    const req = http.request(`${URL_BASE}${url}`, options, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('error', (error) => done({ error }));
      response.on('aborted', () => done({ error: Object.assign(new Error('aborted'), { code: 'ABORTED' }) }));
      response.on('end', () =>
        done({ status: response.statusCode, headers: response.headers, text: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    const timer = setTimeout(() => req.destroy(Object.assign(new Error('timed out'), { code: 'TIMEOUT' })), REQUEST_TIMEOUT_MS);
    req.on('error', (error) => done({ error }));
    req.end(body);
  });
}

const failed = (result) => Boolean(result.error) || result.status >= 500;
/** The operator's session. */
const jar = new CookieJar();
async function asOperator(kind, client, method, url, options = {}) {
  const response = await request(kind, client, method, url, { ...options, headers: { ...options.headers, cookie: jar.header() } });
  if (!response.error) jar.keep(response);
  return response;
}

/** The server binary as a command, as the serving role, with a clean environment. */
const serverCommand = (args, extraEnv) => runServer(SERVER_BIN, SERVING_DATABASE_URL, args, extraEnv);

/** One query as the owner, seeing every tenant (`clearance.role` = system); rows of tab-separated fields. */
function psql(sql) {
  const output = execFileSync('psql', [OWNER_DATABASE_URL, '-qAtX', '-F', '\t', '-v', 'ON_ERROR_STOP=1', '-c', "SET clearance.role = 'system'", '-c', sql], {
    encoding: 'utf8',
  });
  return output
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.split('\t'));
}

// --- Set-up, through the product ---------------------------------------------------------

async function setUp() {
  console.log('Set-up through HAProxy');
  serverCommand(['account', 'create', '--email', OPERATOR, '--name', 'Chaos Operator', '--role', 'operator'], {
    CLEARANCE_NEW_PASSWORD: PASSWORD,
  });
  serverCommand(['account', 'create', '--email', THROTTLED, '--name', 'Throttled Operator', '--role', 'commercial-owner'], {
    CLEARANCE_NEW_PASSWORD: PASSWORD,
  });
  const signIn = expect(
    await request('setup', 'setup', 'POST', '/auth/login', { headers: FORM, body: formBody({ email: OPERATOR, password: PASSWORD, next: '/rooms' }) }),
    303,
    'operator sign-in',
  );
  jar.keep(signIn);
  if (signIn.headers.location !== '/rooms' || jar.names().length === 0) {
    throw new SetupError(`operator sign-in: redirected to ${signIn.headers.location}`);
  }

  const tenants = [];
  for (let index = 1; index <= TENANTS; index += 1) {
    const slug = `chaos-${index}`;
    const created = expect(
      await asOperator('setup', 'setup', 'POST', '/admin/tenants', {
        headers: FORM,
        body: formBody({ name: `Chaos Tenant ${index}`, slug, motion: MOTION, billing_route: 'invoice_only' }),
      }),
      303,
      `create tenant ${slug}`,
    );
    if (!created.headers.location.startsWith(`/rooms/${slug}?done=`)) {
      throw new SetupError(`create tenant ${slug}: redirected to ${created.headers.location}`);
    }
    const room = JSON.parse(expect(await asOperator('setup', 'setup', 'GET', `/api/platform/launch-room?tenant=${slug}`), 200, `room ${slug}`).text);
    const items = [];
    for (const gate of room.gates.filter((gate) => gate.required && !gate.by_acceptance)) {
      for (const { item } of gate.items) {
        items.push({ gate: gate.gate_id, item });
        await attachEvidence({ slug }, { gate: gate.gate_id, item }, `CHAOS-SETUP-${index}-${items.length}`, 'setup');
      }
    }
    const ready = JSON.parse(expect(await asOperator('setup', 'setup', 'GET', `/api/platform/launch-room?tenant=${slug}`), 200, `room ${slug}`).text);
    if (ready.state !== 'ready_for_acceptance') {
      throw new SetupError(`room ${slug} is ${ready.state}, not ready for acceptance: ${ready.outstanding.join('; ')}`);
    }
    tenants.push({ index, slug, id: room.tenant.id, items, sponsor: `sponsor-${index}@chaos.example.com`, digest: null });
  }

  for (const tenant of tenants) {
    expect(
      await asOperator('setup', 'setup', 'POST', '/admin/invitations', {
        headers: FORM,
        body: formBody({ tenant: String(tenant.id), email: tenant.sponsor, days: '7' }),
      }),
      303,
      `invite ${tenant.sponsor}`,
    );
    const admin = expect(await asOperator('setup', 'setup', 'GET', '/admin'), 200, 'administration page');
    const token = admin.text.match(/\/invite\/([0-9a-f]{64})/)?.[1];
    if (!token) throw new SetupError(`no invitation link on /admin after inviting ${tenant.sponsor}`);
    const accepted = expect(
      await request('setup', 'setup', 'POST', '/auth/invitations/accept', {
        headers: FORM,
        body: formBody({ token, name: `Sponsor ${tenant.index}`, password: PASSWORD }),
      }),
      303,
      `accept the invitation of ${tenant.sponsor}`,
    );
    if (accepted.headers.location !== '/') throw new SetupError(`accept invitation: redirected to ${accepted.headers.location}`);
    tenant.bearer = serverCommand(['token', 'create', '--email', tenant.sponsor, '--label', 'chaos']).trim().split('\n').at(-1).trim();
    if (!/^\S{20,}$/.test(tenant.bearer)) throw new SetupError('token create printed no token');
  }
  log(`${TENANTS} tenants ready for acceptance, each with a sponsor and a bearer token; operator signed in`);
  return tenants;
}

// --- Writes, each with a unique marker ----------------------------------------------------

/** Every write sent: { kind, marker, acked, refused, failed, answer, start, end }. */
const writes = [];

async function attachEvidence(tenant, { gate, item }, reference, kind = 'write: evidence') {
  const record = { kind: 'evidence', marker: reference, acked: false, refused: false, failed: false, start: now() };
  if (kind !== 'setup') writes.push(record);
  const response = await asOperator(kind, `operator:${tenant.slug}`, 'POST', '/api/rooms/evidence', {
    headers: FORM,
    body: formBody({ slug: tenant.slug, action: 'attach', gate_id: gate, item, reference, note: 'Attached by the chaos test.' }),
  });
  record.end = now();
  if (failed(response)) {
    record.failed = true;
  } else if (response.status === 303 && (response.headers.location ?? '').includes('done=')) {
    record.acked = true;
  } else {
    record.refused = true;
    record.answer = `${response.status} ${response.headers.location ?? ''} ${response.text.slice(0, 200)}`;
    if (kind === 'setup') throw new SetupError(`attach evidence ${reference}: ${record.answer}`);
  }
  return record;
}

async function readDigest(tenant) {
  const response = await request('read: GET launch-acceptance', `sponsor:${tenant.slug}`, 'GET', `/api/platform/launch-acceptance?tenant=${tenant.slug}`, {
    headers: { authorization: `Bearer ${tenant.bearer}` },
  });
  if (response.error || response.status !== 200) return null;
  return JSON.parse(response.text).readiness_digest;
}

const signing = { stale: 0, receipts: [] };
async function sign(tenant, number) {
  for (let attempt = 0; attempt < 3; attempt += 1) {
    tenant.digest ??= await readDigest(tenant);
    if (!tenant.digest) return;
    const marker = `CHAOS-${tenant.index}-${number}-${attempt}`;
    const record = { kind: 'signature', marker, acked: false, refused: false, failed: false, start: now() };
    writes.push(record);
    const response = await request('write: signature', `sponsor:${tenant.slug}`, 'PATCH', `/api/platform/launch-acceptance?tenant=${tenant.slug}`, {
      headers: { authorization: `Bearer ${tenant.bearer}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        signer_name: `Sponsor ${tenant.index}`,
        signer_role: 'Head of operations',
        approval_reference: marker,
        readiness_digest: tenant.digest,
        exclusions: [],
        residual_risks: '',
      }),
    });
    record.end = now();
    if (failed(response)) {
      record.failed = true;
      tenant.digest = null;
      return;
    }
    if (response.status === 200) {
      record.acked = true;
      const answer = JSON.parse(response.text);
      record.seq = answer.record?.seq;
      if (answer.receipt) signing.receipts.push({ marker, receipt: answer.receipt });
      return;
    }
    record.refused = true;
    record.answer = `${response.status} ${response.text.slice(0, 300)}`;
    const fields = response.status === 422 ? (JSON.parse(response.text).fields ?? []).map((field) => field.field) : [];
    if (fields.length > 0 && fields.every((field) => field === 'readiness_digest')) {
      signing.stale += 1; // a proof run changed readiness since the digest was read
      record.expected = true;
      tenant.digest = null;
      continue;
    }
    return;
  }
}

async function recordRun(number) {
  const status = number % 2 === 0 ? 'passed' : 'failed';
  const marker = `chaos run ${number}`;
  const record = { kind: 'proof run', marker, acked: false, refused: false, failed: false, start: now(), status };
  writes.push(record);
  const response = await request('write: proof run', 'ci', 'POST', `/api/proofs/${PROOF}/runs`, {
    headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ status, actor: marker, excerpt: `chaos: ${status}` }),
  });
  record.end = now();
  if (failed(response)) record.failed = true;
  else if (response.status === 201) {
    record.acked = true;
    record.id = JSON.parse(response.text).id;
  } else {
    record.refused = true;
    record.answer = `${response.status} ${response.text.slice(0, 300)}`;
  }
}

// --- Event-stream clients --------------------------------------------------------------

/** Splits an event stream into events: `onEvent({ event, data, id, retry })`. */
function eventParser(onEvent) {
  let buffer = '';
  return (chunk) => {
    buffer += chunk;
    let end;
    while ((end = buffer.search(/\r?\n\r?\n/)) !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
      const field = (name) => block.match(new RegExp(`^${name}: ?(.*)$`, 'm'))?.[1];
      onEvent({ event: field('event'), id: field('id'), retry: field('retry'), data: [...block.matchAll(/^data: ?(.*)$/gm)].map((m) => m[1]).join('\n') });
    }
  };
}

/** Stream drops: { client, at, how, server }. */
const drops = [];

class StreamClient {
  constructor(index) {
    this.index = index;
    this.name = `stream:${index}`;
    this.address = `10.66.${Math.floor(index / 250)}.${(index % 250) + 1}`;
    this.version = null;
    this.events = 0;
    this.connects = 0;
    this.reconnects = 0;
    this.retryMs = 1000;
    this.closed = false;
  }

  /** Resolves once the first event has arrived (the first connection only). */
  connect() {
    return new Promise((resolve, reject) => {
      this.firstEvent = resolve;
      this.firstError = reject;
      this.open();
    });
  }

  open() {
    if (this.closed) return;
    const entry = { kind: 'stream: connect', client: this.name, start: now(), end: null, status: undefined, error: undefined, server: null };
    let over = false;
    const finish = (how) => {
      if (over) return;
      over = true;
      if (entry.end === null) {
        entry.end = now();
        entry.error = how;
        requests.push(entry);
      } else if (!this.closed) {
        drops.push({ client: this.name, at: now(), how, server: entry.server });
      }
      if (this.closed) return;
      this.reconnects += 1;
      setTimeout(() => this.open(), this.retryMs);
    };
    const headers = { accept: 'text/event-stream', 'x-forwarded-for': this.address };
    if (this.version) headers['last-event-id'] = this.version;
    const req = http.get(`${URL_BASE}/api/events`, { agent: false, headers }, (response) => {
      entry.end = now();
      entry.status = response.statusCode;
      entry.server = response.headers['x-clearance-server'] ?? null;
      requests.push(entry);
      this.connects += 1;
      if (response.statusCode !== 200) {
        response.resume();
        response.on('end', () => finish(`status ${response.statusCode}`));
        if (this.version === null) this.firstError?.(new SetupError(`GET /api/events answered ${response.statusCode}`));
        return;
      }
      response.setEncoding('utf8');
      response.on(
        'data',
        eventParser(({ event, id, retry }) => {
          if (retry && Number.isFinite(Number(retry))) this.retryMs = Number(retry);
          if (event === 'live' && id) {
            this.events += 1;
            this.version = id;
            this.firstEvent?.();
            this.firstEvent = null;
          }
        }),
      );
      response.on('error', (error) => finish(`error: ${error.code ?? error.message}`));
      response.on('aborted', () => finish('aborted'));
      response.on('end', () => finish('end'));
      response.on('close', () => finish('close'));
    });
    req.on('error', (error) => finish(error.code ?? error.message));
    this.request = req;
  }

  close() {
    this.closed = true;
    this.request?.destroy();
  }
}

/** The version published now: the first event of a new stream. */
async function currentVersion() {
  return new Promise((resolve) => {
    const req = http.get(`${URL_BASE}/api/events`, { agent: false, headers: { accept: 'text/event-stream' } }, (response) => {
      response.setEncoding('utf8');
      response.on(
        'data',
        eventParser(({ event, id }) => {
          if (event === 'live' && id) {
            req.destroy();
            resolve(id);
          }
        }),
      );
    });
    req.on('error', () => resolve(null));
    setTimeout(() => {
      req.destroy();
      resolve(null);
    }, 10_000);
  });
}

/** The live-blocker count `/` shows now. */
async function currentCount() {
  const page = await request('final', 'final', 'GET', '/', { headers: { accept: 'text/html' }, record: false });
  const count = page.text?.match(/data-testid="live-blocker-count"[^>]*>.*?<dd>(\d+)<\/dd>/s)?.[1];
  if (count === undefined) throw new SetupError(`GET / shows no live-blocker count (${page.status ?? page.error?.message})`);
  return Number(count);
}

// --- Chromium pages ----------------------------------------------------------------------

async function openPage(browser, index) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const consoleErrors = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  await page.goto(`${URL_BASE}/`, { timeout: 60_000 });
  await page.waitForSelector('[data-testid="connection"][data-state="live"]', { state: 'attached', timeout: 60_000 });
  // A reload would lose this: the page must follow the changes by itself.
  await page.evaluate((mark) => (window.__chaosMark = mark), `page-${index}`);
  return { page, index, consoleErrors };
}

async function pageState({ page, index }) {
  return page.evaluate((mark) => ({
    mark: window.__chaosMark === mark,
    count: Number(document.querySelector('[data-testid="live-blocker-count"] dd')?.textContent?.trim()),
    connection: document.querySelector('[data-testid="connection"]')?.getAttribute('data-state'),
  }), `page-${index}`);
}

// --- The chaos timeline (written by scripts/chaos) ----------------------------------

/** [{ at, event, server }], e.g. kill 1, down 1, start 1, up 1, term 2, exited 2. */
function timeline() {
  const file = path.join(CONTROL, 'timeline');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [at, event, server] = line.split(' ');
      return { at: Number(at), event, server: Number(server) };
    });
}

/** The windows in which a server was dying: from kill/term until it was down (HAProxy) and gone, plus the margin. */
function dyingWindows(events) {
  const windows = [];
  for (const [i, begin] of events.entries()) {
    if (begin.event !== 'kill' && begin.event !== 'term') continue;
    const later = events.slice(i + 1).filter((e) => e.server === begin.server);
    const startAgain = later.find((e) => e.event === 'start');
    const ends = later.filter((e) => (e.event === 'down' || e.event === 'exited') && (!startAgain || e.at <= startAgain.at));
    const end = Math.max(begin.at, ...ends.map((e) => e.at)) + MARGIN_MS;
    windows.push({ server: begin.server, how: begin.event === 'kill' ? 'SIGKILL' : 'SIGTERM', from: begin.at, to: end });
  }
  return windows;
}

// --- The load ---------------------------------------------------------------------------

const READS = (tenants) => [
  ['/', false],
  [`/motions/${MOTION}`, false],
  ['/blockers/support-email', false],
  ['/api/readiness', false],
  ['/badge/strict.svg', false],
  ['/api/log/checkpoint', false],
  ['/rooms', true],
  ...tenants.map((tenant) => [`/rooms/${tenant.slug}`, true]),
];

const throttle = { attempts: [], collected: null };
async function signInAttempt(password, label) {
  const response = await request('throttle: POST /auth/login', 'throttle', 'POST', '/auth/login', {
    headers: FORM,
    body: formBody({ email: THROTTLED, password, next: '/' }),
  });
  const location = response.headers?.location ?? '';
  const outcome = failed(response)
    ? `failed (${response.error?.code ?? response.status})`
    : location.startsWith('/login?error=throttled')
      ? 'throttled'
      : location.startsWith('/login?error=')
        ? `refused (${new URLSearchParams(location.split('?')[1]).get('error')})`
        : location === '/'
          ? 'signed in'
          : `${response.status} ${location}`;
  throttle.attempts.push({ label, at: now(), server: response.headers?.['x-clearance-server'] ?? '?', outcome, password: password === PASSWORD ? 'right' : 'wrong' });
  log(`throttle: ${label}: ${password === PASSWORD ? 'right' : 'wrong'} password → ${outcome} (server ${response.headers?.['x-clearance-server'] ?? '?'})`);
  return outcome;
}

/**
 * The 5 wrong passwords, spread over the first round of chaos: at the kill, once the
 * killed server is down, once it is up again, at the SIGTERM and once that
 * server is down; then the right password, which must be refused.
 */
async function throttleDuringChaos(until) {
  const cues = [
    ['kill', 'while a server is being killed'],
    ['down', 'with the killed server down'],
    ['up', 'with the killed server back'],
    ['term', 'while another server drains'],
    ['exited', 'with that server gone'],
  ];
  let seen = 0;
  for (const [event, label] of cues) {
    while (now() < until()) {
      const events = timeline();
      const hit = events.slice(seen).findIndex((e) => e.event === event);
      if (hit !== -1) {
        seen += hit + 1;
        break;
      }
      await sleep(100);
    }
    if (now() >= until()) return;
    // Each wrong attempt is answered after the failure delay (0.4 s); never retried.
    const outcome = await signInAttempt('a wrong password, certainly', `wrong #${throttle.attempts.length + 1}, ${label}`);
    if (outcome.startsWith('failed')) await signInAttempt('a wrong password, certainly', `wrong #${throttle.attempts.length + 1}, again after a failure`);
  }
  await signInAttempt(PASSWORD, 'the right password, sixth attempt');
}

async function main() {
  console.log(`Chaos: load through ${URL_BASE}`);
  console.log(
    `  ${SSE_CLIENTS} event streams, ${PAGES} Chromium pages, reads ${READ_RATE}/s, ${TENANTS} sponsors signing every ${SIGN_EVERY_MS} ms, ` +
      `a proof run every ${PROOF_EVERY_MS} ms, evidence every ${EVIDENCE_EVERY_MS} ms`,
  );
  const tenants = await setUp();

  const clients = Array.from({ length: SSE_CLIENTS }, (_, index) => new StreamClient(index));
  for (let i = 0; i < clients.length; i += 50) await Promise.all(clients.slice(i, i + 50).map((client) => client.connect()));
  log(`${SSE_CLIENTS} event streams open`);
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--headless', ...CHROMIUM_FLAGS] });
  const pages = [];
  try {
    for (let index = 0; index < PAGES; index += 1) pages.push(await openPage(browser, index));
    log(`${PAGES} Chromium pages on / hydrated and live`);

    // Checkpoints kept during the run, from whichever server answers: the log must
    // stay consistent with every one of them.
    const checkpoints = [];
    const keepCheckpoint = async () => {
      const answer = await request('read: GET /api/log/checkpoint', 'checkpoints', 'GET', '/api/log/checkpoint', { record: false });
      if (!failed(answer) && answer.status === 200 && !checkpoints.includes(answer.text)) checkpoints.push(answer.text);
    };

    let stopAt = Infinity;
    const until = () => stopAt;
    const loadStart = now();
    writeFileSync(path.join(CONTROL, 'load-started'), `${loadStart}\n`);
    log('load started; scripts/chaos now kills and restarts servers');

    const reads = READS(tenants);
    let readIndex = 0;
    const readLoops = Array.from({ length: READ_LOOPS }, (_, loop) => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      return every((READ_LOOPS * 1000) / Math.max(READ_RATE, 0.1), until, async () => {
        const [url, operator] = reads[readIndex++ % reads.length];
        const kind = `read: GET ${url.replace(/chaos-\d+/, '{slug}')}`;
        if (operator) await asOperator(kind, `reader:${loop}`, 'GET', url, { agent });
        else await request(kind, `reader:${loop}`, 'GET', url, { agent, headers: { accept: 'text/html' } });
      }, (loop * 1000) / Math.max(READ_RATE, 0.1));
    });
    const signLoops = tenants.map((tenant, index) => {
      let number = 0;
      return every(SIGN_EVERY_MS, until, () => sign(tenant, ++number), (index * SIGN_EVERY_MS) / TENANTS);
    });
    let runs = 0;
    const proofLoop = every(PROOF_EVERY_MS, until, () => recordRun(++runs), PROOF_EVERY_MS / 2);
    let evidence = 0;
    const evidenceLoop = every(EVIDENCE_EVERY_MS, until, async () => {
      evidence += 1;
      const tenant = tenants[evidence % tenants.length];
      const item = tenant.items[evidence % tenant.items.length];
      await attachEvidence(tenant, item, `CHAOS-EV-${evidence}`);
    });
    const checkpointLoop = every(1000, until, keepCheckpoint);
    const throttleRun = throttleDuringChaos(until);

    // The load goes on until scripts/chaos is done, then AFTER_MS longer.
    while (!existsSync(path.join(CONTROL, 'chaos-done'))) await sleep(200);
    log(`scripts/chaos is done; ${AFTER_MS / 1000} s more load`);
    await sleep(AFTER_MS);
    stopAt = now();
    await Promise.all([...readLoops, ...signLoops, proofLoop, evidenceLoop, checkpointLoop, throttleRun]);
    const loadEnd = now();
    log(`load stopped after ${((loadEnd - loadStart) / 1000).toFixed(0)} s`);
    await keepCheckpoint();

    // The final state: what a new stream and a new page show once the writes stopped.
    await sleep(1500);
    const finalVersion = await currentVersion();
    const finalCount = await currentCount();
    const settleUntil = now() + SETTLE_MS;
    let states = [];
    while (now() < settleUntil) {
      states = await Promise.all(pages.map(pageState));
      const streamsDone = clients.every((client) => client.version === finalVersion);
      const pagesDone = states.every((state) => state.count === finalCount && state.connection === 'live');
      if (streamsDone && pagesDone) break;
      await sleep(250);
    }
    states = await Promise.all(pages.map(pageState));
    for (const client of clients) client.close();
    log(`final state: version ${finalVersion}, ${finalCount} live blockers`);

    return verdict({ tenants, clients, pages, states, finalVersion, finalCount, checkpoints, loadStart, loadEnd, runs, evidence });
  } finally {
    for (const client of clients) client.close();
    await browser.close();
  }
}

// --- The verdict ---------------------------------------------------------------------------

function verdict({ clients, pages, states, finalVersion, finalCount, checkpoints, loadStart, loadEnd }) {
  const failures = [];
  const check = (ok, label, detail) => {
    console.log(`  ${ok ? '\x1b[1;32mPASS\x1b[0m' : '\x1b[1;31mFAIL\x1b[0m'} ${label}: ${detail}`);
    if (!ok) failures.push(label);
  };
  const events = timeline();
  const windows = dyingWindows(events);
  const inWindow = (entry) => windows.find((w) => entry.start <= w.to && (entry.end ?? entry.start) >= w.from);

  console.log('\nWhat scripts/chaos did (ms after the load started)');
  for (const e of events) console.log(`  ${String(e.at - loadStart).padStart(7)}  ${e.event} server ${e.server}`);
  for (const w of windows) console.log(`  dying window: server ${w.server} (${w.how}) ${w.from - loadStart}–${w.to - loadStart} ms`);

  // --- Requests by kind --------------------------------------------------------------
  console.log('\nRequests by kind (status → count; "!" = 5xx or connection error)');
  const byKind = new Map();
  for (const entry of requests) {
    if (entry.kind === 'setup') continue;
    const key = entry.error ? `error ${entry.error}` : String(entry.status);
    const counts = byKind.get(entry.kind) ?? new Map();
    counts.set(key, (counts.get(key) ?? 0) + 1);
    byKind.set(entry.kind, counts);
  }
  const width = Math.max(...[...byKind.keys()].map((kind) => kind.length));
  for (const [kind, counts] of [...byKind].sort(([a], [b]) => a.localeCompare(b))) {
    const cells = [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([key, n]) => `${/^(5|error)/.test(key) ? '!' : ''}${key}: ${n}`);
    console.log(`  ${kind.padEnd(width)}  ${cells.join(', ')}`);
  }
  const servers = new Map();
  for (const entry of requests) if (entry.server) servers.set(entry.server, (servers.get(entry.server) ?? 0) + 1);
  console.log(`  answered by: ${[...servers].sort().map(([s, n]) => `${s} ${n}`).join(', ')}`);

  // --- 3. server errors only while a server was dying ---------------------------------
  const bad = requests.filter((entry) => entry.kind !== 'setup' && (entry.error || entry.status >= 500));
  const inside = bad.filter(inWindow);
  const outside = bad.filter((entry) => !inWindow(entry));
  // A client that failed inside a window must not fail again in that window once it
  // has recovered (a later answer came after the failure). Failures outside every
  // window are counted above.
  const afterRecovery = [];
  const byClient = new Map();
  for (const entry of requests) {
    if (entry.kind === 'setup') continue;
    const list = byClient.get(entry.client) ?? [];
    list.push(entry);
    byClient.set(entry.client, list);
  }
  for (const list of byClient.values()) {
    list.sort((a, b) => a.start - b.start);
    for (const w of windows) {
      let failedAt = null;
      let recovered = false;
      for (const entry of list.filter((e) => inWindow(e) === w)) {
        const wrong = entry.error || entry.status >= 500;
        if (wrong && recovered) afterRecovery.push(entry);
        if (wrong && !recovered) failedAt = entry.end;
        if (!wrong && failedAt !== null && entry.start > failedAt) recovered = true;
      }
    }
  }
  const dropsInside = drops.filter((drop) => windows.some((w) => drop.at >= w.from && drop.at <= w.to));
  const dropsOutside = drops.filter((drop) => !windows.some((w) => drop.at >= w.from && drop.at <= w.to));
  console.log('\nServer errors and dropped streams');
  for (const w of windows) {
    const n = inside.filter((entry) => inWindow(entry) === w).length;
    const d = dropsInside.filter((drop) => drop.at >= w.from && drop.at <= w.to).length;
    console.log(`  server ${w.server} ${w.how}: ${n} requests failed (5xx or connection error) in flight, ${d} streams dropped`);
  }
  for (const entry of [...outside, ...afterRecovery].slice(0, 12)) {
    console.log(`  outside a window or after recovery: ${entry.kind} (${entry.client}) at ${entry.start - loadStart} ms: ${entry.error ?? entry.status} from ${entry.server ?? '?'}`);
  }
  for (const drop of dropsOutside.slice(0, 12)) console.log(`  stream dropped outside a window: ${drop.client} at ${drop.at - loadStart} ms (${drop.how}, server ${drop.server})`);
  const reconnects = clients.reduce((sum, client) => sum + client.reconnects, 0);
  console.log(`  streams: ${clients.length} clients, ${clients.reduce((s, c) => s + c.connects, 0)} connections, ${reconnects} reconnects, ${clients.reduce((s, c) => s + c.events, 0)} live events`);

  // --- 1. every acknowledged write stored exactly once ---------------------------------
  console.log('\nWrites (sent / acknowledged / refused / failed in flight) and what the database holds');
  const stored = {
    signature: new Map(psql("SELECT approval_reference, count(*), min(seq) FROM acceptance_records WHERE approval_reference LIKE 'CHAOS-%' GROUP BY 1").map(([m, n, seq]) => [m, { n: Number(n), seq: Number(seq) }])),
    'proof run': new Map(psql("SELECT actor, count(*), min(id) FROM proof_runs WHERE actor LIKE 'chaos run %' GROUP BY 1").map(([m, n, id]) => [m, { n: Number(n), id: Number(id) }])),
    evidence: new Map(psql("SELECT reference, count(*) FROM evidence_changes WHERE reference LIKE 'CHAOS-EV-%' GROUP BY 1").map(([m, n]) => [m, { n: Number(n) }])),
  };
  const writeProblems = [];
  for (const kind of ['signature', 'proof run', 'evidence']) {
    const sent = writes.filter((w) => w.kind === kind);
    const acked = sent.filter((w) => w.acked);
    const refused = sent.filter((w) => w.refused);
    const lost = sent.filter((w) => w.failed);
    const rows = [...stored[kind].values()].reduce((sum, row) => sum + row.n, 0);
    const lostStored = lost.filter((w) => stored[kind].has(w.marker)).length;
    for (const w of acked) {
      const row = stored[kind].get(w.marker);
      if (!row) writeProblems.push(`${kind} ${w.marker} acknowledged but not stored`);
      else if (row.n !== 1) writeProblems.push(`${kind} ${w.marker} stored ${row.n} times`);
      else if (kind === 'signature' && w.seq !== undefined && row.seq !== w.seq) writeProblems.push(`${kind} ${w.marker} acknowledged as seq ${w.seq}, stored as ${row.seq}`);
      else if (kind === 'proof run' && w.id !== undefined && row.id !== w.id) writeProblems.push(`${kind} ${w.marker} acknowledged as id ${w.id}, stored as ${row.id}`);
    }
    for (const w of [...refused, ...lost]) {
      const row = stored[kind].get(w.marker);
      if (row && row.n > 1) writeProblems.push(`${kind} ${w.marker} (not acknowledged) stored ${row.n} times`);
      if (row && w.refused) writeProblems.push(`${kind} ${w.marker} refused (${w.answer}) but stored`);
    }
    const markers = new Set(sent.map((w) => w.marker));
    for (const marker of stored[kind].keys()) if (!markers.has(marker)) writeProblems.push(`${kind} ${marker} stored but never sent`);
    const unexpected = refused.filter((w) => !w.expected);
    for (const w of unexpected.slice(0, 5)) writeProblems.push(`${kind} ${w.marker} refused: ${w.answer}`);
    console.log(
      `  ${kind.padEnd(10)} ${sent.length} sent, ${acked.length} acknowledged, ${refused.length} refused` +
        `${kind === 'signature' ? ` (${signing.stale} because a proof run changed readiness: expected, retried)` : ''}, ` +
        `${lost.length} failed in flight (${lostStored} of them stored anyway); database: ${rows} rows, ${stored[kind].size} distinct`,
    );
  }
  for (const problem of writeProblems.slice(0, 12)) console.log(`  problem: ${problem}`);
  const everyKindWritten = ['signature', 'proof run', 'evidence'].every((kind) => writes.some((w) => w.kind === kind && w.acked));

  // --- 2. chains and the log verify ------------------------------------------------------
  console.log('\nChains, the log and the receipts');
  const work = mkdtempSync(path.join(os.tmpdir(), 'clearance-chaos-'));
  const run = (args) => {
    try {
      return { ok: true, output: serverCommand(args) };
    } catch (error) {
      return { ok: false, output: `${error.stdout ?? ''}${error.stderr ?? error.message}` };
    }
  };
  const chains = run(['audit', 'verify']);
  for (const line of chains.output.trim().split('\n')) console.log(`    ${line}`);
  const keyAnswer = execFileSync('curl', ['-fsS', `${URL_BASE}/api/log/key`], { encoding: 'utf8' }).trim();
  writeFileSync(path.join(work, 'log.pub'), `${keyAnswer}\n`);
  writeFileSync(path.join(work, 'checkpoints.txt'), checkpoints.join(''));
  const logCheck = run(['audit', 'verify', '--checkpoints', path.join(work, 'checkpoints.txt'), '--key', path.join(work, 'log.pub')]);
  const logSummary = logCheck.output.trim().split('\n').filter((line) => /^log |BROKEN|consistent/.test(line));
  for (const line of logSummary.slice(-4)) console.log(`    ${line}`);
  let receiptsOk = 0;
  const receiptProblems = [];
  for (const [index, { marker, receipt }] of signing.receipts.entries()) {
    const file = path.join(work, `receipt-${index}.json`);
    writeFileSync(file, JSON.stringify(receipt));
    const result = run(['receipt', 'verify', file, '--key', path.join(work, 'log.pub')]);
    if (result.ok) receiptsOk += 1;
    else receiptProblems.push(`${marker}: ${result.output.trim().split('\n').at(-1)}`);
  }
  for (const problem of receiptProblems.slice(0, 5)) console.log(`    receipt ${problem}`);
  rmSync(work, { recursive: true, force: true });
  const acceptanceRecords = [...chains.output.matchAll(/acceptance: (\d+) records?/g)].reduce((sum, match) => sum + Number(match[1]), 0);

  // --- 4. every open page shows the final state ------------------------------------------
  const behind = clients.filter((client) => client.version !== finalVersion);
  console.log('\nOpen pages');
  console.log(`  final version ${finalVersion}; ${clients.length - behind.length} of ${clients.length} stream clients hold it`);
  for (const client of behind.slice(0, 5)) console.log(`    ${client.name} holds ${client.version} (${client.reconnects} reconnects)`);
  for (const [i, state] of states.entries()) {
    console.log(`  Chromium page ${i}: ${state.count} live blockers (final ${finalCount}), connection ${state.connection}, ${state.mark ? 'never reloaded' : 'RELOADED'}`);
  }
  const consoleErrors = pages.flatMap((page) => page.consoleErrors);
  if (consoleErrors.length) {
    console.log(`  console errors in the pages (not a criterion: a page whose stream breaks logs it): ${consoleErrors.length}`);
    for (const text of [...new Set(consoleErrors)].slice(0, 3)) console.log(`    ${text.slice(0, 200)}`);
  }

  // --- 5. the throttle ---------------------------------------------------------------
  console.log('\nThrottle (one account, through HAProxy)');
  for (const attempt of throttle.attempts) console.log(`  ${((attempt.at - loadStart) / 1000).toFixed(1).padStart(6)} s  ${attempt.label}: ${attempt.outcome}, server ${attempt.server}`);
  // A wrong attempt whose answer was lost (its server died) may or may not have
  // counted: the one sent again after it may then already be throttled.
  const wrongAttempts = throttle.attempts.filter((a) => a.password === 'wrong');
  const refusedWrong = wrongAttempts.filter((a) => a.outcome.startsWith('refused')).length;
  const lostWrong = wrongAttempts.filter((a) => a.outcome.startsWith('failed')).length;
  const wrongAsExpected = wrongAttempts.every(
    (a, i) => a.outcome.startsWith('refused') || a.outcome.startsWith('failed') || (a.outcome === 'throttled' && wrongAttempts.slice(0, i).some((b) => b.outcome.startsWith('failed'))),
  );
  const sixth = throttle.attempts.find((a) => a.password === 'right');
  const throttleServers = new Set(throttle.attempts.filter((a) => a.server !== '?').map((a) => a.server));
  const span = throttle.attempts.length ? throttle.attempts.at(-1).at - throttle.attempts[0].at : Infinity;

  // --- Criteria -------------------------------------------------------------------
  console.log('\nCriteria');
  check(
    writeProblems.length === 0 && everyKindWritten,
    '1. every acknowledged write stored exactly once',
    `${writes.filter((w) => w.acked).length} acknowledged writes checked against the database; ${writeProblems.length} problems` +
      (everyKindWritten ? '' : '; some kind of write was never acknowledged'),
  );
  check(
    chains.ok && logCheck.ok && receiptsOk === signing.receipts.length && checkpoints.length > 1,
    '2. every chain and the log verify',
    `audit verify ${chains.ok ? 'exit 0' : 'FAILED'} (${acceptanceRecords} acceptance records); log against ${checkpoints.length} kept checkpoints ${logCheck.ok ? 'exit 0' : 'FAILED'}; ` +
      `${receiptsOk} of ${signing.receipts.length} receipts verify`,
  );
  check(
    outside.length === 0 && afterRecovery.length === 0 && dropsOutside.length === 0 && windows.length >= 2,
    '3. server errors only while a server was dying',
    `${inside.length} inside the ${windows.length} dying windows, ${outside.length} outside, ${afterRecovery.length} after a client had recovered; ` +
      `${dropsInside.length} streams dropped inside, ${dropsOutside.length} outside`,
  );
  check(
    finalVersion !== null && behind.length === 0 && states.length === PAGES && states.every((s) => s.count === finalCount && s.connection === 'live' && s.mark),
    '4. every open page shows the final state',
    `${clients.length - behind.length}/${clients.length} streams at the final version, ` +
      `${states.filter((s) => s.count === finalCount && s.connection === 'live' && s.mark).length}/${PAGES} Chromium pages show ${finalCount} live blockers, live, not reloaded`,
  );
  check(
    wrongAsExpected && refusedWrong + lostWrong >= THROTTLE_BURST && refusedWrong <= THROTTLE_BURST && sixth?.outcome === 'throttled' && span < THROTTLE_PERIOD_MS,
    '5. the throttle held',
    `${refusedWrong} wrong passwords refused${lostWrong ? ` (${lostWrong} more lost with a dying server)` : ''}, then the right one ${sixth?.outcome ?? 'never sent'}; ` +
      `over ${throttleServers.size} servers (${[...throttleServers].sort().join(', ')}) within ${(span / 1000).toFixed(1)} s` +
      (throttleServers.size < 2 ? ' (all on one server this run: the cross-server part is not shown)' : ''),
  );
  console.log(failures.length === 0 ? '\nChaos test passed.' : `\nChaos test FAILED: ${failures.join('; ')}`);
  console.log(`  load ${((loadEnd - loadStart) / 1000).toFixed(0)} s, ${requests.length} requests`);
  return failures.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`\nerror: ${error instanceof SetupError ? error.message : error.stack}`);
    process.exit(2);
  },
);
