/**
 * What the report page inlines from node_modules: the minified browser builds of Vega, Vega-Lite and
 * Vega-Embed (Vega-Embed's build carries vega-interpreter, so charts run without eval), and the default
 * CSS of Vega-Embed (actions menu) and vega-tooltip. Those two libraries would otherwise inject their CSS
 * as <style> elements at run time, which the page's Content-Security-Policy does not allow; the page turns
 * that off and ships the same CSS in its own (hashed) <style> element.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

export interface ScriptBundle {
  name: string;
  version: string;
  /** Code ready to sit inside a <script> element (see scriptText). */
  code: string;
}

/**
 * Code made safe inside a <script> element: no "</script" (written "<\/script", the same JS), line
 * endings as the HTML parser will hand them to the script (so the CSP hash matches), no source-map
 * comment. "<!--" would switch the HTML tokenizer into a state where "</script>" no longer ends the
 * element; no bundle has it, and one that does is refused rather than rewritten.
 */
export function scriptText(code: string, what: string): string {
  const text = code
    .replace(/\r\n?/g, '\n')
    .replace(/\n\/\/# sourceMappingURL=.*$/m, '')
    .replace(/<\/(script)/gi, '<\\/$1');
  if (text.includes('<!--')) throw new Error(`${what}: contains "<!--", which cannot be inlined in a <script> element safely`);
  return text;
}

/** The minified browser builds of vega, vega-lite and vega-embed, from node_modules. */
export function vegaBundles(): ScriptBundle[] {
  const out: ScriptBundle[] = [];
  for (const [pkg, file] of [
    ['vega', 'vega.min.js'],
    ['vega-lite', 'vega-lite.min.js'],
    ['vega-embed', 'vega-embed.min.js'],
  ] as const) {
    const buildDir = dirname(require.resolve(pkg));
    const path = join(buildDir, file);
    const pj = JSON.parse(readFileSync(join(buildDir, '..', 'package.json'), 'utf8')) as { version: string };
    out.push({ name: pkg, version: pj.version, code: scriptText(readFileSync(path, 'utf8'), path) });
  }
  return out;
}

/** The value of `var NAME = `…`;` in a library's ESM build (how both libraries store their CSS). */
function templateConstant(file: string, name: string): string {
  const m = new RegExp(`\\bvar ${name} = \`([^\`]*)\`;`).exec(readFileSync(file, 'utf8'));
  if (!m || m[1]!.includes('${')) throw new Error(`${file}: cannot find the CSS constant ${name} (did the library's build change?)`);
  return m[1]!;
}

/** Vega-Embed's and vega-tooltip's default CSS (for the default tooltip element id). */
export function vegaStyles(): string {
  const embed = require.resolve('vega-embed');
  const tooltip = createRequire(embed).resolve('vega-tooltip');
  return `${templateConstant(embed, 'embedStyle')}\n${templateConstant(tooltip, 'defaultStyle')}`;
}
