import { defineConfig } from '@playwright/test';
import { readFileSync } from 'node:fs';
import path from 'node:path';

// Two instances of the real release server on the same database: one with no
// dependency configured (the seed's picture), one with RESEND_API_KEY set.
export const DEFAULT_URL = 'http://127.0.0.1:3100';
export const ONE_CONFIGURED_URL = 'http://127.0.0.1:3101';
export const SENTINEL = 'e2e-sentinel-value-4b1d';
export const API_TOKEN = 'e2e-api-token-5c2e-0123456789abcdef0123456789';

const root = path.resolve(__dirname, '..');
export const SERVER_BINARY = path.join(root, 'target/release/server');
export const ROOT = root;
const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// Every dependency name the default register declares, so that nothing in the
// test runner's own environment can configure one by accident.
const register = readFileSync(path.join(root, 'registers/thesmios.toml'), 'utf8');
const declared = [...register.matchAll(/^dependencies = \[(.*)\]$/gm)].flatMap((m) =>
  m[1].split(',').map((name) => name.trim().replace(/"/g, '')),
);

export function serverEnv(addr: string, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !declared.includes(key)) env[key] = value;
  }
  return {
    ...env,
    LEPTOS_SITE_ADDR: addr,
    LEPTOS_SITE_ROOT: path.join(root, 'target/site'),
    RUST_LOG: 'warn',
    CLEARANCE_API_TOKEN: API_TOKEN,
    CLEARANCE_POLL_INTERVAL_SECS: '1',
    // The end-to-end servers make databases of their own and migrate them at
    // start as the owner: development mode. Serving as the least-privileged
    // role is tested against the real binary in server/tests/it/least_privilege.rs.
    CLEARANCE_DEV_ALLOW_OWNER_ROLE: '1',
    ...extra,
  };
}

function server(addr: string, extra: Record<string, string> = {}) {
  return {
    command: SERVER_BINARY,
    cwd: root,
    url: `http://${addr}/`,
    env: serverEnv(addr, extra),
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'pipe' as const,
    stderr: 'pipe' as const,
  };
}

export default defineConfig({
  testDir: './tests',
  timeout: 30_000,
  fullyParallel: true,
  workers: 2,
  reporter: [['list']],
  use: {
    baseURL: DEFAULT_URL,
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: chromium,
      // Without the background-networking flags Chromium tries (and fails) to reach
      // Google's hosts from this closed network. Shared with end2end/bench.
      args: JSON.parse(readFileSync(path.join(__dirname, 'chromium-flags.json'), 'utf8')),
    },
  },
  webServer: [
    server('127.0.0.1:3100', { CLEARANCE_SOURCE_NAME: 'e2e-default' }),
    server('127.0.0.1:3101', { CLEARANCE_SOURCE_NAME: 'e2e-one-configured', RESEND_API_KEY: SENTINEL }),
  ],
});
