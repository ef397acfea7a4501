// What every end-to-end test checks besides its own assertions, on every page
// the browser loads while it runs (in the test's `page`, and in any context or
// page the test opens itself):
//
// - the HTML is valid: each HTML document the browser receives (navigations, and
//   the pages the islands fetch to swap in) goes through the Nu HTML Checker
//   (vnu-jar, on the machine's Java), once per test, in one batch;
// - nothing goes wrong in the browser: no console error, no uncaught exception;
// - the Content Security Policy is never violated: every page (and frame) the
//   browser loads reports each `securitypolicyviolation` event to the test
//   (through a binding, so a report survives the page's navigating away), and
//   any report fails it. The islands, live updates and forms all run under it.
//
// Specs import `test` and `expect` from here instead of '@playwright/test'.
// A spec that loads HTML by other means than the browser can hand it to the
// `htmlChecks` fixture (`htmlChecks.add(url, html)`). A spec that provokes a
// console error on purpose names it with `test.use({ expectedConsoleErrors })`,
// and a policy violation with `test.use({ expectedCspViolations })`.
import { test as base, expect, type BrowserContext, type ConsoleMessage, type Response } from '@playwright/test';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

export { expect };
export type { Page } from '@playwright/test';

const VNU_JAR = path.join(__dirname, '../node_modules/vnu-jar/build/dist/vnu.jar');
const run = promisify(execFile);

interface VnuMessage {
  type: string;
  subType?: string;
  url?: string;
  message: string;
  lastLine?: number;
  firstColumn?: number;
  lastColumn?: number;
  extract?: string;
  hiliteStart?: number;
  hiliteLength?: number;
}

// The checker's errors that are the framework's own doing, not the app's. Only
// these are allowed; every other error fails the test.
//
// - "Bogus comment." on exactly `<!>`: Leptos (tachys) marks where an empty view
//   (`None`, `()`, an empty list) sits among its siblings with `<!>`, an empty
//   comment closed early. The HTML parser reads it as an empty comment node
//   (the parse error is "abrupt-closing-of-empty-comment"), which is the node
//   the islands' hydration walks over. It is in every page Leptos renders and
//   cannot be turned off; any other bogus comment still fails.
//
// Nothing else needs allowing: `<leptos-island>` is a valid custom element, its
// `data-component` and `data-props` are valid data attributes, and Leptos's
// other markers (`<!--HEAD-->`, `<!--<() />-->`, suspense markers) are ordinary
// comments.
const FRAMEWORK_MESSAGES: { why: string; matches: (message: VnuMessage) => boolean }[] = [
  {
    why: 'Leptos placeholder marker <!>',
    matches: (m) => m.message === 'Bogus comment.' && highlighted(m, 1).includes('<!>'),
  },
];

// The highlighted part of the extract, widened by `slack` characters each side:
// on long lines vnu's extract can start one character earlier than its
// `hiliteStart` counts (seen at column 18322 of a page, where the extract was
// `er">Owner: <!>Thesmi` with the highlight one short of the `<!>`).
function highlighted(message: VnuMessage, slack = 0): string {
  const start = Math.max(0, (message.hiliteStart ?? 0) - slack);
  const end = (message.hiliteStart ?? 0) + (message.hiliteLength ?? 0) + slack;
  return (message.extract ?? '').slice(start, end);
}

// The one console error that is not a fault of the page: Chromium logs the HTTP
// status of every request answered with an error ("Failed to load resource: the
// server responded with a status of 404 (Not Found)"), and tests provoke refusals
// on purpose: they open 401, 403 and 404 pages, and send a form the server
// refuses (422), then check what the page shows. That line is allowed only for a
// 4xx answer the browser really received, to a page (document) or to the page's
// own `fetch` (a server function); never for a 5xx, a network failure, or a
// script, stylesheet, image or other file the page needs.
const STATUS_LOGGED = /^Failed to load resource: the server responded with a status of (\d+) /;

/** What a page reports of a `securitypolicyviolation` event. */
interface CspViolation {
  documentURI: string;
  effectiveDirective: string;
  blockedURI: string;
  sourceFile: string;
  lineNumber: number;
  sample: string;
}

const CSP_BINDING = '__reportCspViolation';

// Runs in every page and frame before its own scripts (an init script), so it
// hears violations from the first inline script on. Kept free of outer names:
// Playwright serialises it.
function listenForCspViolations(binding: string) {
  document.addEventListener(
    'securitypolicyviolation',
    (event) => {
      const report = (window as unknown as Record<string, (v: unknown) => void>)[binding];
      report?.({
        documentURI: event.documentURI,
        effectiveDirective: event.effectiveDirective,
        blockedURI: event.blockedURI,
        sourceFile: event.sourceFile,
        lineNumber: event.lineNumber,
        sample: event.sample,
      });
    },
    { capture: true },
  );
}

interface Html {
  url: string;
  status: number;
  html: string;
}

export class HtmlChecks {
  constructor(
    private readonly expected: RegExp[] = [],
    private readonly expectedCspViolations: RegExp[] = [],
  ) {}

  /** Every Content Security Policy violation a page reported, described. */
  readonly cspViolations: string[] = [];

  private readonly html: Html[] = [];
  private readonly reading: Promise<void>[] = [];
  private readonly problems: string[] = [];
  private readonly consoleErrors: { text: string; where: string; page: string }[] = [];
  private readonly unreadable: string[] = [];
  /** Pages and fetches refused with a 4xx: address → statuses. */
  private readonly refused = new Map<string, Set<number>>();
  private readonly watched = new WeakSet<BrowserContext>();

  /** Checks `html`, fetched from `url` by other means than the browser. */
  add(url: string, html: string, status = 200) {
    this.html.push({ url, status, html });
  }

  async watch(context: BrowserContext) {
    if (this.watched.has(context)) return;
    this.watched.add(context);
    await context.exposeBinding(CSP_BINDING, ({ page }, violation: CspViolation) =>
      this.cspViolations.push(
        `Content Security Policy violated on ${page?.url() ?? violation.documentURI}: ` +
          `${violation.effectiveDirective} refused ${violation.blockedURI || '(inline)'}` +
          ` at ${violation.sourceFile}:${violation.lineNumber} ${violation.sample ? JSON.stringify(violation.sample) : ''}`,
      ),
    );
    await context.addInitScript(listenForCspViolations, CSP_BINDING);
    context.on('response', (response) => this.response(response));
    context.on('console', (message) => this.console(message));
    context.on('weberror', (error) =>
      this.problems.push(`uncaught in ${error.page()?.url()}: ${error.error().stack ?? error.error()}`),
    );
  }

  private response(response: Response) {
    const type = response.request().resourceType();
    const html = (response.headers()['content-type'] ?? '').startsWith('text/html');
    const status = response.status();
    if ((type === 'document' || type === 'fetch') && status >= 400 && status < 500) {
      this.refused.set(response.url(), (this.refused.get(response.url()) ?? new Set()).add(status));
    }
    if (!html || (type !== 'document' && type !== 'fetch') || (status >= 300 && status < 400)) return;
    this.reading.push(
      response.text().then(
        (text) => this.add(response.url(), text, status),
        // The page went away before its body could be read (the test moved on at
        // once, the islands cancelled a fetch, the test closed its context): the
        // test's annotation lists these; there is nothing to check.
        (error) => void this.unreadable.push(`${response.url()}: ${String(error).split('\n')[0]}`),
      ),
    );
  }

  private console(message: ConsoleMessage) {
    if (message.type() !== 'error') return;
    const where = message.location().url;
    this.consoleErrors.push({ text: message.text(), where, page: message.page()?.url() ?? where });
  }

  /** The console errors, but for refusals (see STATUS_LOGGED); read at the end,
   * when every response has been seen. */
  private consoleProblems(): string[] {
    return this.consoleErrors
      .filter(({ text, where }) => {
        const status = STATUS_LOGGED.exec(text)?.[1];
        return !(status !== undefined && this.refused.get(where)?.has(Number(status)));
      })
      .filter(({ text }) => !this.expected.some((expected) => expected.test(text)))
      .map(({ text, where, page }) => `console error on ${page}: ${text} (at ${where})`);
  }

  /** Runs the checker over everything collected; returns what is wrong. */
  async finish(): Promise<{ problems: string[]; checked: number; unreadable: string[]; seconds: number }> {
    await Promise.all(this.reading);
    const started = Date.now();
    const problems = [
      ...this.problems,
      ...this.consoleProblems(),
      ...this.cspViolations.filter((text) => !this.expectedCspViolations.some((expected) => expected.test(text))),
    ];
    if (this.html.length > 0) problems.push(...(await validate(this.html)));
    return { problems, checked: this.html.length, unreadable: this.unreadable, seconds: (Date.now() - started) / 1000 };
  }
}

async function validate(pages: Html[]): Promise<string[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'clearance-vnu-'));
  try {
    const files = pages.map((page, i) => {
      const file = path.join(dir, `${i}.html`);
      writeFileSync(file, page.html);
      return file;
    });
    // One JVM for the whole batch. Its run is short: the first compiler only and
    // the serial collector start fastest, a third less CPU than the defaults. The
    // checker recurses deeply, and more so with the first compiler's larger frames:
    // 8 MB of stack (the default 1 MB overflows on the register page).
    const { stdout } = await run(
      'java',
      ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-Xss8m', '-jar', VNU_JAR, '--errors-only', '--exit-zero-always', '--format', 'json', '--stdout', ...files],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    const messages = (JSON.parse(stdout) as { messages: VnuMessage[] }).messages;
    return messages
      .filter((m) => m.type === 'error' || m.type === 'non-document-error')
      .filter((m) => !FRAMEWORK_MESSAGES.some((allowed) => allowed.matches(m)))
      .map((m) => {
        const index = Number(path.basename(m.url ?? '', '.html'));
        const page = pages[index];
        const where = page ? `${page.url} (${page.status})` : (m.url ?? 'unknown');
        const extract = m.extract ? `: ${JSON.stringify(m.extract)}` : '';
        return `HTML error in ${where}, line ${m.lastLine ?? '?'} column ${m.firstColumn ?? '?'}: ${m.message}${extract}`;
      });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const test = base.extend<{
  htmlChecks: HtmlChecks;
  expectedConsoleErrors: RegExp[];
  expectedCspViolations: RegExp[];
}>({
  // Console errors a spec provokes on purpose (none unless it says so).
  expectedConsoleErrors: [[], { option: true }],
  // Content Security Policy violations a spec provokes on purpose (none unless
  // it says so: only the test of the policy itself does).
  expectedCspViolations: [[], { option: true }],
  htmlChecks: [
    async ({ browser, context, expectedConsoleErrors, expectedCspViolations }, use, testInfo) => {
      const checks = new HtmlChecks(expectedConsoleErrors, expectedCspViolations);
      await checks.watch(context);
      // Contexts the test opens itself (`browser.newContext()`, `browser.newPage()`).
      const newContext = browser.newContext;
      browser.newContext = async function (...args: Parameters<typeof newContext>) {
        const created = await newContext.apply(this, args);
        await checks.watch(created);
        return created;
      };
      try {
        await use(checks);
      } finally {
        browser.newContext = newContext;
      }
      const { problems, checked, unreadable, seconds } = await checks.finish();
      testInfo.annotations.push({
        type: 'html-checks',
        description: `${checked} HTML documents checked in ${seconds.toFixed(1)} s${unreadable.length ? `; unreadable: ${unreadable.join('; ')}` : ''}`,
      });
      expect(problems, 'every page is valid HTML and logs no error in the browser').toEqual([]);
    },
    { auto: true },
  ],
});
