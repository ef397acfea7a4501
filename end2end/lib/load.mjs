// What the load scripts share (end2end/chaos/chaos.mjs, end2end/bench/soak.mjs):
// settings from the environment, a session's cookies, checks of the set-up's
// answers, the server binary as a command, and a steady loop.

import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A failure of the test itself (the server does not behave as the set-up expects). */
export class SetupError extends Error {}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** `name`'s value; exits 2 when it is not set (`script` sets it). */
export function required(name, script) {
  const value = process.env[name];
  if (!value) {
    console.error(`error: ${name} must be set (${script} sets it)`);
    process.exit(2);
  }
  return value;
}

/**
 * `name`'s value as a number, or `fallback` when it is unset; exits 2 when it is
 * not a number, negative, or (with `positive`) zero.
 */
export function number(name, fallback, { positive = false } = {}) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || (positive && value === 0)) {
    console.error(`error: ${name} must be a ${positive ? 'positive number' : 'number ≥ 0'}, not ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return value;
}

/** A form post's headers (from the page itself), and its body. */
export const FORM = { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' };
export const formBody = (fields) => new URLSearchParams(fields).toString();

/** One session's cookies, renewed whenever a server sets one. */
export class CookieJar {
  #cookies = new Map();

  /** Keeps the cookies `response` sets. */
  keep(response) {
    for (const line of response.headers?.['set-cookie'] ?? []) {
      const [pair] = line.split(';');
      const at = pair.indexOf('=');
      this.#cookies.set(pair.slice(0, at).trim(), pair.slice(at + 1).trim());
    }
  }

  has(name) {
    return this.#cookies.has(name);
  }

  names() {
    return [...this.#cookies.keys()];
  }

  /** The `Cookie` header. */
  header() {
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

/** The answer (`{ status, headers, text }` or `{ error }`), or a SetupError naming what was expected. */
export function expect(response, status, what) {
  if (response.error) throw new SetupError(`${what}: ${response.error.message}`);
  if (response.status !== status) {
    throw new SetupError(`${what}: expected ${status}, got ${response.status} ${response.headers.location ?? ''} ${response.text.slice(0, 300)}`);
  }
  return response;
}

/** Runs the server binary `bin` as a command on `databaseUrl`, with a clean environment; answers its output. */
export function serverCommand(bin, databaseUrl, args, extraEnv = {}) {
  return execFileSync(bin, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: databaseUrl, RUST_LOG: 'warn', ...extraEnv },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs `step` every `everyMs` (start to start; no catch-up burst when late) until `until()`. */
export async function every(everyMs, until, step, offsetMs = 0) {
  let next = Date.now() + offsetMs;
  while (Date.now() < until()) {
    const wait = Math.min(next, until()) - Date.now();
    if (wait > 0) await sleep(wait);
    if (Date.now() >= until()) break;
    await step();
    next = Math.max(next + everyMs, Date.now());
  }
}
