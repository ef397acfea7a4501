// The load generator oha (https://github.com/hatoo/oha), as the page and cluster
// benchmarks run it: no TUI, no cookie, no compression (--disable-compression
// sends no Accept-Encoding), JSON out. OHA names the binary (default `oha` on PATH).

import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';

import { ContractError } from './stats.mjs';

export const OHA = process.env.OHA ?? 'oha';

let jsonFlags;
/** The flags that make this oha print JSON; checks once that it has every flag used here. */
function flags() {
  if (jsonFlags) return jsonFlags;
  const help = execFileSync(OHA, ['--help'], { encoding: 'utf8' });
  for (const flag of ['--no-tui', '--latency-correction', '--disable-compression']) {
    if (!help.includes(flag)) throw new Error(`${OHA} has no ${flag}: install a newer oha (cargo install oha --locked)`);
  }
  // oha ≥ 1.5 writes JSON with --output-format json; older releases with -j.
  jsonFlags = help.includes('--output-format') ? ['--output-format', 'json'] : ['-j'];
  return jsonFlags;
}

/** `oha --version`, for the banner. */
export function ohaVersion() {
  return execFileSync(OHA, ['--version'], { encoding: 'utf8' }).trim();
}

/**
 * One oha run of `seconds` on `concurrency` connections; at saturation, or at a
 * fixed `rate` with latency counted from when each request was due
 * (--latency-correction). Returns requests/s, p50 and p99 in ms, and bytes per
 * response. Any answer but 200 and any connection error is a ContractError
 * (requests still in flight when the time is up are cut off by design).
 */
export async function oha(url, { seconds, concurrency, rate }) {
  const args = ['-z', `${seconds}s`, '-c', String(concurrency), '--no-tui', '--disable-compression', ...flags()];
  if (rate) args.push('-q', String(rate), '--latency-correction');
  const { stdout } = await promisify(execFile)(OHA, [...args, url], { maxBuffer: 64 * 1024 * 1024 });
  const report = JSON.parse(stdout);
  const statuses = report.statusCodeDistribution ?? {};
  const ok = statuses['200'] ?? 0;
  const others = Object.entries(statuses).filter(([status]) => status !== '200');
  const errors = Object.entries(report.errorDistribution ?? {}).filter(([error]) => !/deadline/i.test(error));
  if (ok === 0 || others.length || errors.length) {
    throw new ContractError(`${url}: ${ok} × 200, other statuses ${JSON.stringify(Object.fromEntries(others))}, errors ${JSON.stringify(Object.fromEntries(errors))}`);
  }
  return {
    rps: report.summary.requestsPerSec,
    p50: report.latencyPercentiles.p50 * 1000,
    p99: report.latencyPercentiles.p99 * 1000,
    bytes: report.summary.sizePerRequest,
  };
}
