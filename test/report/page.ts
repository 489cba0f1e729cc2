/**
 * Opening a report in Debian's headless Chromium (playwright-core) for tests: console and page errors
 * and network requests are recorded (every request but file:/data:/blob: is blocked), the page's
 * `window.layerlab.ready` is awaited, and figure states can be read off the DOM. Before any page script
 * runs, a hook records Content-Security-Policy violations and calls of `window.__pwn(tag)` (what the
 * injection payloads of the hostile-input test call if they ever run).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { repoRoot } from '../helpers/shared.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
declare const window: any;
declare const document: any;
declare const getComputedStyle: any;

export const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Undefined when Chromium is there (installing it with scripts/ensure-chromium.sh if needed), else why not. */
export function chromiumOrReason(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  const r = spawnSync('bash', [join(repoRoot, 'scripts', 'ensure-chromium.sh')], { encoding: 'utf8', timeout: 600_000 });
  if (existsSync(CHROMIUM)) return undefined;
  return `missing ${CHROMIUM} (Debian package 'chromium'); scripts/ensure-chromium.sh could not install it: ${(r.stderr || r.stdout || String(r.error ?? '')).trim().split('\n').pop()}`;
}

export interface PageLog {
  consoleErrors: string[];
  pageErrors: string[];
  requests: string[];
  state: { rendered: number; total: number; errors: string[] };
  /** CSP violations (directive, blocked URI, sample) seen until `ready`; read later ones with securityLog. */
  cspViolations: string[];
  /** Tags passed to window.__pwn: each one is injected code that ran. */
  pwned: string[];
}

export interface PageOptions {
  /** Ignore the page's Content-Security-Policy (to test escaping on its own). */
  bypassCSP?: boolean;
}

/** Installed before the page's own scripts: records CSP violations and payload calls. */
function securityHook(): void {
  const w = window as { __pwned: string[]; __csp: string[]; __pwn: (tag: unknown) => void };
  w.__pwned = [];
  w.__csp = [];
  w.__pwn = (tag: unknown) => void w.__pwned.push(String(tag));
  document.addEventListener('securitypolicyviolation', (e: any) => w.__csp.push(`${e.violatedDirective} blocked=${e.blockedURI} sample=${e.sample}`), true);
}

/** CSP violations and payload calls recorded so far on the page. */
export function securityLog(page: Page): Promise<{ cspViolations: string[]; pwned: string[] }> {
  return page.evaluate(() => ({ cspViolations: [...(window.__csp as string[])], pwned: [...(window.__pwned as string[])] }));
}

export interface FigureState {
  id: string;
  svgs: number;
  width: number;
  height: number;
  visible: boolean;
  checks: Array<{ name: string; expected: number; found: number; what: string }>;
}

/** Loads the report, waits until every figure has rendered, runs `inspect` on the page, closes. */
export async function withReportPage<T>(html: string, inspect: (page: Page, log: PageLog) => Promise<T>, opts: PageOptions = {}): Promise<T> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 }, bypassCSP: !!opts.bypassCSP });
    await page.addInitScript(securityHook);
    const log: PageLog = { consoleErrors: [], pageErrors: [], requests: [], state: { rendered: 0, total: 0, errors: [] }, cspViolations: [], pwned: [] };
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') log.consoleErrors.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => log.pageErrors.push(e.message));
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file:') || url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
      log.requests.push(url);
      return route.abort();
    });
    await page.goto(pathToFileURL(html).href, { waitUntil: 'load' });
    log.state = await page.evaluate(async () => {
      const s = window.layerlab as { ready: Promise<unknown>; rendered: number; total: number; errors: string[] } | undefined;
      if (!s) return { rendered: 0, total: 0, errors: ['the page has no window.layerlab'] };
      await s.ready;
      return { rendered: s.rendered, total: s.total, errors: s.errors };
    });
    Object.assign(log, await securityLog(page));
    return await inspect(page, log);
  } finally {
    await browser.close();
  }
}

/** Each figure's chart: SVG count, size, visibility and its expected vs drawn mark counts. */
export function figureStates(page: Page): Promise<FigureState[]> {
  return page.evaluate(() => {
    const ll = window.layerlab as { checks: Record<string, Array<{ name: string; count: number; what: string }>> };
    return Object.entries(ll.checks).map(([id, checks]) => {
      const chart = document.getElementById(`chart-${id}`);
      const svg = chart.querySelector('svg');
      const box = svg?.getBoundingClientRect();
      const style = getComputedStyle(chart);
      return {
        id,
        svgs: chart.querySelectorAll('svg').length,
        width: box?.width ?? 0,
        height: box?.height ?? 0,
        visible: style.display !== 'none' && style.visibility !== 'hidden' && !chart.closest('details:not([open])'),
        checks: checks.map((c) => ({ name: c.name, expected: c.count, found: chart.querySelectorAll(`g.${c.name}_marks > *`).length as number, what: c.what })),
      };
    });
  });
}

/**
 * Uses what a reader would: hovers the first point of `markGroup` (a Vega-Lite unit name) until the
 * tooltip shows, and opens the first figure's actions menu. Returns the tooltip's text and HTML.
 */
export async function exerciseInteractions(page: Page, markGroup: string): Promise<{ tooltipText: string; tooltipHtml: string; actions: number }> {
  const point = page.locator(`g.${markGroup}_marks > path`).first();
  await point.scrollIntoViewIfNeeded();
  await point.hover({ force: true });
  await page.waitForSelector('#vg-tooltip-element.visible', { timeout: 5000 });
  const tip = await page.evaluate(() => {
    const el = document.getElementById('vg-tooltip-element');
    return { tooltipText: el.innerText as string, tooltipHtml: el.innerHTML as string };
  });
  await page.locator('.vega-embed details > summary').first().click();
  const actions = await page.locator('.vega-embed details[open] .vega-actions a').count();
  return { ...tip, actions };
}
