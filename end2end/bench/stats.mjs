// What every benchmark in end2end/bench shares: statistics, printing, the machine
// line, the Chromium launch, and the results file the final table is printed from.

import { execFileSync } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import os from 'node:os';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Headless Debian Chromium, never a downloaded browser; the same flags for every benchmark. */
export const CHROMIUM_LAUNCH = {
  executablePath: CHROMIUM_PATH,
  // The flags the end-to-end tests use too (end2end/chromium-flags.json).
  args: ['--headless', ...JSON.parse(readFileSync(new URL('../chromium-flags.json', import.meta.url), 'utf8'))],
};

/** The page does not follow the contract the benchmark relies on (exit code 2). */
export class ContractError extends Error {}

/** A positive integer from the environment, or `fallback`. */
export function positive(name, fallback) {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
}

/** `--only=NAME` from the command line, checked against `names` (undefined: all). */
export function onlyArgument(names) {
  const only = process.argv.find((arg) => arg.startsWith('--only='))?.slice('--only='.length);
  if (only !== undefined && !names.includes(only)) {
    console.error(`unknown --only=${only} (${names.join(' or ')})`);
    process.exit(2);
  }
  return only;
}

// --- Statistics ----------------------------------------------------------------------

/** The q-th quantile (0–1) of `values`, interpolated between the closest ranks. */
export function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  if (low === high) return sorted[low]; // exact rank (also keeps an Infinity from becoming NaN)
  return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
}

/** Median with p10–p90, plus min and max. */
export function summary(values) {
  return {
    median: quantile(values, 0.5),
    p10: quantile(values, 0.1),
    p90: quantile(values, 0.9),
    min: Math.min(...values),
    max: Math.max(...values),
    n: values.length,
  };
}

// --- Printing ------------------------------------------------------------------------

export const ms = (value) => `${value.toFixed(1)} ms`;
export const spread = ({ p10, p90 }) => `${p10.toFixed(1)}–${p90.toFixed(1)} ms`;
export const kib = (bytes) => (bytes >= 10_240 ? `${(bytes / 1024).toFixed(0)} KiB` : `${bytes} B`);
/** Kilobytes of 1,000 bytes, as the size budget counts them. */
export const kb = (bytes) => `${(bytes / 1000).toFixed(1)} kB`;

export function table(rows, indent = '  ') {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => String(row[column]).length)));
  for (const [index, row] of rows.entries()) {
    console.log(indent + row.map((cell, column) => String(cell).padEnd(widths[column])).join('  ').trimEnd());
    if (index === 0) console.log(indent + widths.map((width) => '-'.repeat(width)).join('  '));
  }
}

function nproc() {
  try {
    return execFileSync('nproc', { encoding: 'utf8' }).trim();
  } catch {
    return String(os.availableParallelism?.() ?? os.cpus().length);
  }
}

/** The header every benchmark prints: what ran where, and how far to trust it. */
export function banner(title, lines = []) {
  console.log(title);
  for (const line of lines) console.log(`  ${line}`);
  console.log(`  machine: nproc ${nproc()}, ${os.cpus()[0]?.model ?? 'unknown CPU'}, node ${process.version}`);
  console.log('  note: single-machine figures are noisy (other processes, CPU frequency);');
  console.log('  compare medians within a run and across runs on the same machine, not across machines.');
}

// --- Budgets and the results file ----------------------------------------------------

/**
 * Prints one budget's verdict and records it for the final table (scripts/bench
 * sets BENCH_RESULTS to a JSON-lines file). `measure` names the figure and its
 * statistic (e.g. "… median"), `figure` is its value as shown, `spread` how much it
 * varied, `limit` the budget as shown (e.g. "≤ 5 ms").
 */
export function budget({ measure, figure, spread: variation, limit, pass }) {
  console.log(`  budget: ${measure} ${figure}, ${limit} → ${pass ? 'PASS' : 'FAIL'}`);
  record({ measure, figure, spread: variation, budget: limit, pass });
  return pass;
}

/** A row of the final table: a budget's (`pass` true/false) or a figure's (`pass` absent). */
export function record(row) {
  if (process.env.BENCH_RESULTS) appendFileSync(process.env.BENCH_RESULTS, `${JSON.stringify(row)}\n`);
}

/** Median below `limitMs` (the triage budgets). */
export function verdict(label, result, limitMs) {
  return budget({
    measure: `${label}, median of ${result.n}`,
    figure: ms(result.median),
    spread: `p10–p90 ${spread(result)}`,
    limit: `< ${limitMs} ms`,
    pass: result.median < limitMs,
  });
}

/**
 * A `data` listener for a server-sent event stream (a response with utf8
 * encoding set): calls `onEvent(name, data)` for each complete event.
 */
export function serverSentEvents(onEvent) {
  let buffer = '';
  return (chunk) => {
    buffer += chunk;
    let end;
    while ((end = buffer.indexOf('\n\n')) !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = block.match(/^event: ?(.*)$/m)?.[1];
      const data = [...block.matchAll(/^data: ?(.*)$/gm)].map((match) => match[1]).join('\n');
      const id = block.match(/^id: ?(.*)$/m)?.[1];
      onEvent(event, data, id);
    }
  };
}
