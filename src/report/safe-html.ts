/**
 * The one way the report builds HTML. Every string in a report may come from a run folder (model names,
 * data file names, choices, labels), so nothing reaches the page unescaped by default:
 *
 * - `html\`…\`` is a tagged template whose interpolations are escaped for HTML text and quoted attribute
 *   values; only `SafeHtml` (what `html` and `raw` return) is inserted as markup. Arrays are joined.
 * - `raw(s)` marks a fragment the report itself wrote (constant markup, the bundled scripts) as trusted.
 * - `scriptJson(v)` is JSON that may sit inside a `<script>` element (`<`, `>`, `&`, U+2028/2029 escaped,
 *   so no `</script>` or `<!--` can end or change it).
 * - Interpolating into an unquoted attribute, an event handler (`on…=`) or a `style` attribute throws
 *   (a programming error, caught by the tests); into a URL attribute (`href`, `src`, …) the value must be
 *   a relative path, a fragment or a `data:text/csv` URL, otherwise it becomes `about:invalid`.
 *
 * `SafeHtml` can only be made here (its constructor needs a private token), so the compiler rejects a plain
 * string wherever markup is expected (captions, page sections).
 */

const TOKEN: unique symbol = Symbol('SafeHtml');

export class SafeHtml {
  readonly #html: string;
  /** Only this module can pass TOKEN: use `html`, `raw`, `joinHtml` or `scriptJson`. */
  constructor(token: typeof TOKEN, markup: string) {
    if (token !== TOKEN) throw new Error('SafeHtml is made by html``, raw(), joinHtml() or scriptJson() only');
    this.#html = markup;
  }
  toString(): string {
    return this.#html;
  }
  /** Figures are compared and cached as JSON: a caption serializes as its markup. */
  toJSON(): string {
    return this.#html;
  }
}

const mint = (markup: string) => new SafeHtml(TOKEN, markup);

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/** Escapes a value for HTML text or a quoted attribute value (also valid in SVG/XML). */
export function escapeHtml(v: unknown): string {
  return String(v).replace(/[&<>"'`]/g, (c) => ENTITIES[c]!);
}

/** Trusted markup written by the report itself (never data from a run folder). */
export function raw(markup: string): SafeHtml {
  return mint(markup);
}

/** What one interpolated value becomes. */
export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

function render(v: HtmlValue): string {
  if (v instanceof SafeHtml) return v.toString();
  if (v === null || v === undefined || v === false) return '';
  if (Array.isArray(v)) return v.map(render).join('');
  return escapeHtml(v);
}

/** Inside a start tag: the last `<` of the output so far comes after its last `>`. */
const inTag = (before: string) => before.lastIndexOf('<') > before.lastIndexOf('>');
const UNQUOTED_ATTR = /=\s*$/;
const FORBIDDEN_ATTR = /\s(?:on[a-z]+|style|srcdoc)\s*=\s*["'][^"']*$/i;
/** A URL attribute whose value starts with this interpolation (capture: the value so far, empty). */
const URL_ATTR_START = /\s(?:href|src|xlink:href|action|formaction|poster|srcset|background|cite|data)\s*=\s*["']$/i;

/**
 * A URL the page may link to: a relative path (no scheme), a fragment, or a CSV data URL. Anything else
 * (javascript:, vbscript:, http:, other data: types) becomes `about:invalid`.
 */
export function safeUrl(url: string): string {
  const u = url.trim();
  if (/^data:text\/csv[;,]/i.test(u)) return u;
  if (u.startsWith('#')) return u;
  // no scheme before the first / ? #, and not protocol-relative
  if (!/^[^/?#]*:/.test(u) && !u.startsWith('//') && !/[\u0000-\u001f]/.test(u)) return u;
  return 'about:invalid';
}

/** The HTML tagged template: `html\`<p>${text}</p>\``. */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (inTag(out)) {
      if (UNQUOTED_ATTR.test(out)) throw new Error(`html\`\`: value interpolated into an unquoted attribute: …${out.slice(-40)}`);
      if (FORBIDDEN_ATTR.test(out)) throw new Error(`html\`\`: value interpolated into an event-handler, style or srcdoc attribute: …${out.slice(-40)}`);
      if (URL_ATTR_START.test(out)) {
        if (typeof v !== 'string') throw new Error(`html\`\`: a URL attribute takes a plain string: …${out.slice(-40)}`);
        out += escapeHtml(safeUrl(v)) + strings[i + 1]!;
        continue;
      }
    }
    out += render(v) + strings[i + 1]!;
  }
  return mint(out);
}

/** Joins fragments with a separator (the separator is escaped unless it is SafeHtml). */
export function joinHtml(parts: readonly HtmlValue[], sep: HtmlValue = ''): SafeHtml {
  return mint(parts.map(render).join(render(sep)));
}

/**
 * JSON for a `<script type="application/json">` element: `<`, `>` and `&` as \u escapes (so neither
 * `</script>` nor `<!--` can appear), and U+2028/2029 escaped (valid in JSON, not in older JS).
 */
export function scriptJson(v: unknown): SafeHtml {
  return mint(
    JSON.stringify(v)
      .replace(/</g, '\\u003c')
      .replace(/>/g, '\\u003e')
      .replace(/&/g, '\\u0026')
      .replace(/\u2028/g, '\\u2028')
      .replace(/\u2029/g, '\\u2029'),
  );
}
