// Size benchmark: the WASM and JavaScript shipped to the browser, raw and compressed.
//
//   node end2end/bench/size.mjs
//
// Reads every .wasm and .js file in BENCH_PKG_DIR (default target/site/pkg: the
// release build's clearance.wasm and clearance.js, and any split chunks), and
// compresses each with Node's zlib: brotli at quality 11 (what a build step that
// precompresses would ship) and gzip at level 9. No server needed.
//
// Budget: brotli total ≤ 200 kB, in kilobytes of 1,000 bytes (200,000 bytes).
// Exits 1 when the budget fails, 2 when there is nothing to measure.

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

import { budget, kb, record, table } from './stats.mjs';

const PKG_DIR = process.env.BENCH_PKG_DIR ?? fileURLToPath(new URL('../../target/site/pkg', import.meta.url));
const BUDGET_BYTES = 200 * 1000;

const brotli = (bytes) =>
  zlib.brotliCompressSync(bytes, {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: 11,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
      [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_GENERIC,
    },
  }).length;
const gzip = (bytes) => zlib.gzipSync(bytes, { level: 9 }).length;

console.log(`Size benchmark\n  shipped files: ${PKG_DIR}/*.wasm, *.js (exact figures: no repetition needed)`);

const files = readdirSync(PKG_DIR)
  .filter((name) => name.endsWith('.wasm') || name.endsWith('.js'))
  .sort();
if (!files.includes('clearance.wasm') || !files.includes('clearance.js')) {
  console.error(`error: ${PKG_DIR} has no clearance.wasm and clearance.js: build the release site first`);
  process.exit(2);
}

const rows = files.map((name) => {
  const bytes = readFileSync(path.join(PKG_DIR, name));
  return { name, raw: bytes.length, gzip: gzip(bytes), brotli: brotli(bytes) };
});
const total = rows.reduce((sum, row) => ({ raw: sum.raw + row.raw, gzip: sum.gzip + row.gzip, brotli: sum.brotli + row.brotli }), {
  raw: 0,
  gzip: 0,
  brotli: 0,
});

console.log('\nShipped WASM + JS (kB = 1,000 bytes; brotli quality 11, gzip level 9)');
table([
  ['file', 'raw', 'gzip -9', 'brotli -11'],
  ...rows.map((row) => [row.name, kb(row.raw), kb(row.gzip), kb(row.brotli)]),
  ['total', kb(total.raw), kb(total.gzip), kb(total.brotli)],
]);

record({ measure: 'shipped WASM + JS, raw', figure: kb(total.raw), spread: 'exact' });
record({ measure: 'shipped WASM + JS, gzip -9', figure: kb(total.gzip), spread: 'exact' });
const passed = budget({
  measure: 'shipped WASM + JS, brotli -11',
  figure: kb(total.brotli),
  spread: 'exact',
  limit: `≤ ${kb(BUDGET_BYTES)}`,
  pass: total.brotli <= BUDGET_BYTES,
});
process.exit(passed ? 0 : 1);
