import { expect, test } from './fixtures';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { API_TOKEN, ROOT, SERVER_BINARY, serverEnv } from '../playwright.config';

// The seed's first boundary, enforced: with every declared dependency set to its
// own unique sentinel value, nothing the product answers, pages, server functions,
// API, packs, dossier, badges, event stream, command output or the server's own
// log, carries any of them. The server runs on its own database, logging at debug.
const ADDR = '127.0.0.1:3105';
const BASE = `http://${ADDR}`;
const MAIN_DB = process.env.DATABASE_URL ?? '';
const DB = MAIN_DB.replace(/\/[^/]*$/, '/clearance_e2e_boundaries');
const PASSWORD = 'a long e2e password, not a secret';
// Tenant values unique to this run, so finding one in a public answer means a leak.
const EVIDENCE_REF = `EVIDENCEREF${Date.now()}`;
const APPROVAL = `PO-${Date.now()}`;

const register = readFileSync(path.join(ROOT, 'registers/thesmios.toml'), 'utf8');
const declared = [
  ...new Set(
    [...register.matchAll(/^dependencies = \[(.*)\]$/gm)].flatMap((m) =>
      m[1].split(',').map((name) => name.trim().replace(/"/g, '')),
    ),
  ),
];
const stamp = `${Date.now()}`;
const sentinels = Object.fromEntries(declared.map((name, i) => [name, `sntnl${i}x${stamp}q`]));
const env = (extra: Record<string, string> = {}) =>
  serverEnv(ADDR, { ...sentinels, DATABASE_URL: DB, RUST_LOG: 'debug,sqlx=debug', ...extra });

test.describe.configure({ mode: 'serial' });

let server: ChildProcess | undefined;
let log = '';
const seen: string[] = [];
// The HTML pages among the answers, for the HTML checker (./fixtures.ts).
const pagesSeen: { url: string; status: number; html: string }[] = [];

function psql(sql: string) {
  execFileSync('psql', [MAIN_DB, '-qtAX', '-c', sql], { encoding: 'utf8' });
}

function command(args: string[], extra: Record<string, string> = {}): string {
  let out: string;
  try {
    out = execFileSync(SERVER_BINARY, args, { cwd: ROOT, env: env(extra), encoding: 'utf8', stdio: 'pipe' });
  } catch (error) {
    // `check` exits 1 when not ready; its output counts all the same.
    const failed = error as { stdout?: string; stderr?: string };
    out = `${failed.stdout ?? ''}${failed.stderr ?? ''}`;
  }
  seen.push(`$ server ${args.join(' ')}\n${out}`);
  return out;
}

async function fetchText(url: string, init: RequestInit = {}): Promise<{ status: number; text: string; response: Response }> {
  const response = await fetch(url.startsWith('http') ? url : BASE + url, { redirect: 'manual', ...init });
  const text = await response.text();
  seen.push(`${init.method ?? 'GET'} ${url} → ${response.status}\n${[...response.headers].join('\n')}\n${text}`);
  if ((response.headers.get('content-type') ?? '').startsWith('text/html')) {
    pagesSeen.push({ url, status: response.status, html: text });
  }
  return { status: response.status, text, response };
}

function form(fields: Record<string, string | string[]>): string {
  const body = new URLSearchParams();
  for (const [key, value] of Object.entries(fields)) {
    for (const one of Array.isArray(value) ? value : [value]) body.append(key, one);
  }
  return body.toString();
}

async function signIn(email: string): Promise<string> {
  const { response } = await fetchText('/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
    body: form({ email, password: PASSWORD, next: '/' }),
  });
  const cookie = (response.headers.get('set-cookie') ?? '').split(';')[0];
  expect(cookie).toContain('clearance_session=');
  return cookie;
}

function post(url: string, cookie: string, fields: Record<string, string | string[]>) {
  return fetchText(url, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
    body: form(fields),
  });
}

test.beforeAll(async () => {
  psql('DROP DATABASE IF EXISTS clearance_e2e_boundaries');
  psql('CREATE DATABASE clearance_e2e_boundaries');
  command(['account', 'create', '--email', 'ops@boundaries.example', '--name', 'Ops', '--role', 'operator'], {
    CLEARANCE_NEW_PASSWORD: PASSWORD,
  });
  server = spawn(SERVER_BINARY, [], { cwd: ROOT, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout?.on('data', (chunk) => (log += chunk));
  server.stderr?.on('data', (chunk) => (log += chunk));
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      if ((await fetch(`${BASE}/api/readiness`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('the boundaries server did not start');
});

test.afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server?.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
  }
});

test('no sentinel value appears in any answer, command output or log line', async ({ htmlChecks }) => {
  test.setTimeout(120_000);
  expect(declared.length).toBeGreaterThan(20);

  // Everyone's work, so that every view has something to show.
  const operator = await signIn('ops@boundaries.example');
  await post('/admin/tenants', operator, {
    name: 'Boundary Ltd',
    slug: 'boundary',
    motion: 'managed-private-beta',
    billing_route: 'invoice_only',
  });
  for (const [gate, items] of [
    ['order-form-scope', 3],
    ['authenticated-tenant-access', 3],
    ['support-incident-fallback', 5],
  ] as const) {
    const page = await fetchText('/rooms/boundary', { headers: { cookie: operator } });
    const gateHtml = page.text.split(`data-gate="${gate}"`)[1] ?? '';
    const names = [...gateHtml.matchAll(/name="item" value="([^"]*)"/g)].map((m) =>
      m[1].replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>'),
    );
    for (const item of names.slice(0, items)) {
      await post('/api/rooms/evidence', operator, { slug: 'boundary', action: 'attach', gate_id: gate, item, reference: EVIDENCE_REF });
    }
  }
  const proof = await fetchText('/api/proofs/support-status-notification/runs', {
    method: 'POST',
    headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      status: 'passed',
      actor: 'boundaries',
      excerpt: `output mentioning ${sentinels['RESEND_API_KEY']} and ${sentinels['STRIPE_SECRET_KEY']}`,
    }),
  });
  expect(proof.status).toBe(201);

  const invited = await post('/admin/invitations', operator, { tenant: '1', email: 'sponsor@boundary.example', days: '7' });
  // The new link travels to /admin in a cookie of its own: never stored server-side.
  const linkCookie =
    invited.response.headers
      .getSetCookie()
      .map((cookie) => cookie.split(';')[0])
      .find((cookie) => cookie.startsWith('clearance_new_invitation=')) ?? '';
  expect(linkCookie).not.toBe('');
  const admin = await fetchText('/admin', { headers: { cookie: `${operator}; ${linkCookie}` } });
  const link = /\/invite\/([0-9a-f]{64})/.exec(admin.text)?.[1] ?? '';
  expect(link).toHaveLength(64);
  await fetchText(`/invite/${link}`);
  await fetchText('/auth/invitations/accept', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
    body: form({ token: link, name: 'Sam Sponsor', password: PASSWORD }),
  });
  const sponsor = await signIn('sponsor@boundary.example');
  const token = command(['token', 'create', '--email', 'sponsor@boundary.example', '--label', 'e2e'])
    .trim()
    .split('\n')
    .pop() as string;
  const bearer = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const acceptance = JSON.parse((await fetchText('/api/platform/launch-acceptance', { headers: bearer })).text);
  const signed = await fetchText('/api/platform/launch-acceptance', {
    method: 'PATCH',
    headers: bearer,
    body: JSON.stringify({
      signer_name: 'Ada',
      signer_role: 'COO',
      approval_reference: APPROVAL,
      readiness_digest: acceptance.readiness_digest,
    }),
  });
  expect(signed.status).toBe(200);
  await post('/rooms/boundary/draft', sponsor, { signer_name: 'Ada', signer_role: 'COO', approval_reference: 'PO-2' });
  // The plain forms too: revoke the API's signature, then sign again.
  const revoked = await post('/api/rooms/revocation', sponsor, {
    slug: 'boundary',
    signer_name: 'Ada',
    signer_role: 'COO',
    reason: 'Re-signing through the form',
  });
  expect(revoked.response.headers.get('location') ?? '').toContain('done=Launch+acceptance+revoked');
  const current = JSON.parse((await fetchText('/api/platform/launch-acceptance', { headers: bearer })).text);
  const resigned = await post('/api/rooms/acceptance', sponsor, {
    slug: 'boundary',
    signer_name: 'Ada',
    signer_role: 'COO',
    approval_reference: 'PO-3',
    readiness_digest: current.readiness_digest,
  });
  expect(resigned.response.headers.get('location') ?? '').toContain('done=Launch+acceptance+signed');

  // Every page, for every kind of viewer.
  const motions = [...register.matchAll(/^\[\[motions\]\]\nid = "([^"]+)"/gm)].map((m) => m[1]);
  const blockers = [...register.matchAll(/^\[\[blockers\]\]\nid = "([^"]+)"/gm)].map((m) => m[1]);
  const pages = [
    '/',
    '/?state=all',
    '/?q=stripe',
    '/login',
    '/admin',
    '/rooms',
    '/rooms/boundary',
    '/rooms/boundary/review',
    `/invite/${link}`,
    ...motions.map((id) => `/motions/${id}`),
    ...blockers.map((id) => `/blockers/${id}`),
  ];
  expect(motions.length).toBe(4);
  expect(blockers.length).toBe(7);
  for (const cookie of ['', operator, sponsor]) {
    for (const url of pages) await fetchText(url, { headers: { cookie } });
  }
  // Server functions.
  for (const [fn, body] of [
    ['clearance', ''],
    ['overview', 'tick=0'],
    ['triage', 'query=state%3Dall&tick=0'],
    ['motion', 'id=managed-private-beta&tick=0'],
    ['blocker', 'id=support-email&tick=0'],
    ['admin', ''],
    ['rooms', 'tick=0'],
    ['room', 'slug=boundary&tick=0'],
    ['invitation', `token=${link}`],
  ]) {
    for (const cookie of [operator, sponsor]) {
      await fetchText(`/api/${fn}`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
        body,
      });
    }
  }
  // The JSON API, packs, badges, the dossier.
  for (const url of [
    '/api/readiness',
    '/api/readiness?strict=true',
    '/api/readiness?motion=managed-private-beta',
    '/api/proofs/support-status-notification/runs',
    '/api/openapi.json',
    '/api/product/managed-beta-readiness',
    '/api/product/production-proof',
    '/api/product/launch-evidence',
    '/api/product/customer-launch-room',
    '/api/product/operations-evidence',
    '/api/product/procurement-evidence',
    '/api/product/security-assurance',
    '/api/product/provisioning-guides',
    '/api/platform/launch-room',
    '/api/platform/launch-acceptance',
    ...motions.map((id) => `/badge/${id}.svg`),
    '/badge/strict.svg',
  ]) {
    await fetchText(url, { headers: bearer });
  }
  const dossier = await fetchText('/api/platform/launch-dossier?download=1', { headers: bearer });
  expect(dossier.status).toBe(200);
  const dir = mkdtempSync(path.join(tmpdir(), 'dossier-'));
  writeFileSync(path.join(dir, 'dossier.json'), dossier.text);
  expect(command(['dossier', 'verify', path.join(dir, 'dossier.json')])).toContain('the dossier matches its manifest');

  // The event stream's first message.
  const controller = new AbortController();
  const events = await fetch(`${BASE}/api/events`, { signal: controller.signal });
  const reader = events.body!.getReader();
  const first = await reader.read();
  seen.push(new TextDecoder().decode(first.value));
  controller.abort();

  // Command output, and what `proof record` stores from a run's output.
  const runOutput = path.join(dir, 'run-output.txt');
  writeFileSync(runOutput, `rls proof saw ${sentinels['RESEND_API_KEY']} and ${sentinels['STRIPE_SECRET_KEY']}\n`);
  command(['proof', 'record', 'authenticated-access-rls', '--status', 'passed', '--output', runOutput]);
  const recorded = await fetchText('/api/proofs/authenticated-access-rls/runs');
  expect(recorded.text).toContain('[redacted STRIPE_SECRET_KEY]');
  command(['check']);
  command(['check', '--strict']);
  command(['check', '--motion', 'managed-private-beta']);
  command(['check', '--motion', 'managed-private-beta', '--strict']);
  command(['check', '--url', `${BASE}/api/readiness`]);
  command(['check', '--url', `${BASE}/api/readiness`, '--motion', 'managed-private-beta', '--strict']);
  command(['check-register']);
  command(['audit', 'verify']);
  command(['account', 'list']);
  command(['token', 'list']);

  // Every page, as each kind of viewer sees it, is valid HTML too.
  for (const { url, status, html } of pagesSeen) htmlChecks.add(url, html, status);

  const everything = seen.join('\n') + log;
  expect(seen.length).toBeGreaterThan(120); // every request and command above was recorded
  expect(log).toContain('DEBUG'); // the log was really captured, at debug level
  for (const [name, value] of Object.entries(sentinels)) {
    expect(everything.includes(value), `the value of ${name} leaked`).toBe(false);
  }
  // What is shown instead: names, and the redaction marker in the stored excerpt.
  expect(everything).toContain('RESEND_API_KEY');
  expect(everything).toContain('[redacted RESEND_API_KEY]');
});

test('public answers carry no tenant data', async () => {
  for (const url of [
    '/',
    '/rooms',
    '/rooms/boundary',
    '/api/readiness',
    '/api/events',
    '/api/product/customer-launch-room',
    '/api/product/launch-evidence',
    '/api/platform/launch-room?tenant=boundary',
    '/api/platform/launch-acceptance?tenant=boundary',
    '/api/platform/launch-dossier?tenant=boundary',
    '/badge/managed-private-beta.svg',
  ]) {
    // Whole bodies, except the event stream, which never ends: its first message.
    let text: string;
    if (url === '/api/events') {
      const controller = new AbortController();
      const response = await fetch(BASE + url, { signal: controller.signal, redirect: 'manual' });
      const { value } = await response.body!.getReader().read();
      controller.abort();
      text = new TextDecoder().decode(value ?? new Uint8Array());
    } else {
      text = await (await fetch(BASE + url, { redirect: 'manual' })).text();
    }
    for (const tenantText of ['Boundary Ltd', 'boundary.example', APPROVAL, EVIDENCE_REF]) {
      expect(text.includes(tenantText), `${url} shows ${tenantText}`).toBe(false);
    }
  }
});
