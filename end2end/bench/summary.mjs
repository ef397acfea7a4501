// The final table of scripts/bench: every figure and budget the benchmarks recorded.
//
//   node end2end/bench/summary.mjs RESULTS.jsonl [SECTION…]
//
// RESULTS.jsonl holds one row per line, written by stats.mjs `budget()` and
// `record()`; each SECTION named after it is a benchmark that stopped with an
// error and so recorded nothing (it counts as failed). Exits 1 when any budget
// failed or any section stopped with an error.

import { existsSync, readFileSync } from 'node:fs';

import { table } from './stats.mjs';

const [file, ...crashed] = process.argv.slice(2);
if (!file) {
  console.error('usage: node end2end/bench/summary.mjs RESULTS.jsonl [FAILED-SECTION…]');
  process.exit(2);
}
const rows = existsSync(file)
  ? readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line))
  : [];

const mark = (row) => (row.pass === undefined ? '' : row.pass ? '✓' : '✗');
console.log('\nSummary (figures are medians unless the measure names another statistic)');
table([
  ['measure', 'median', 'spread', 'budget', '✓/✗'],
  ...rows.map((row) => [row.measure, row.figure, row.spread ?? '', row.budget ?? '', mark(row)]),
  ...crashed.map((section) => [`${section}: stopped with an error, no figures`, '', '', '', '✗']),
]);

const failed = rows.filter((row) => row.pass === false).map((row) => row.measure);
for (const measure of failed) console.log(`  FAILED: ${measure}`);
for (const section of crashed) console.log(`  FAILED: ${section} (error)`);
const budgets = rows.filter((row) => row.pass !== undefined).length;
if (failed.length || crashed.length) {
  console.log(`\n${failed.length} of ${budgets} budgets failed${crashed.length ? `, ${crashed.length} benchmark(s) stopped with an error` : ''}`);
  process.exit(1);
}
console.log(`\nall ${budgets} budgets met`);
