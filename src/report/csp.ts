/**
 * The report page's Content-Security-Policy (a <meta http-equiv> tag, the first element of <head>):
 * nothing may load or connect anywhere, scripts and styles run only when their exact text was written by
 * the report builder (sha256 hashes), no eval, no plugins, no forms, no <base>. A string from a run folder
 * that somehow escaped escaping still cannot run: inline event handlers, javascript: URLs and injected
 * <script> or <style> elements are all refused by the browser.
 */
import { createHash } from 'node:crypto';

/** A CSP hash source for the exact text of an inline <script> or <style> element. */
export function cspHash(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

export function contentSecurityPolicy(o: { scripts: string[]; styles: string[] }): string {
  return [
    "default-src 'none'",
    `script-src ${o.scripts.map(cspHash).join(' ')}`,
    `style-src ${o.styles.map(cspHash).join(' ')}`,
    "connect-src 'none'",
    "img-src 'none'",
    "font-src 'none'",
    "object-src 'none'",
    "frame-src 'none'",
    "worker-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}
