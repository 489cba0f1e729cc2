/**
 * The naming rule of every JSON file layerlab writes: every key is snake_case (as the public rows of
 * metrics.json and the provenance block always were, and as pandas users expect). In-memory TypeScript
 * names stay camelCase; the schemas in schema.ts spell the on-disk keys, and option objects recorded
 * verbatim in a `choices` block go through `snakeCaseKeys` on their way out.
 */

/** A snake_case key: lowercase words of letters and digits joined by single underscores. */
export const SNAKE_CASE = /^[a-z0-9]+(_[a-z0-9]+)*$/;

/**
 * Objects whose keys are data, not field names: window sizes of local-attention.json ('1', '2', ...),
 * intervention kinds of metrics.json's summary, plan names in evaluate's details/<task>.jsonl
 * ('plan_0-1-3-2'). Paths as `firstNonSnakeKey` spells them from the top of a file.
 */
export const DATA_KEY_PATHS = ['per_layer[].windows', 'summary', 'predictions'] as const;

/** `includeBos` -> `include_bos`, `batchSize` -> `batch_size`; a key already snake_case is unchanged. */
export function snakeCase(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

/** A copy of plain objects (and arrays of them) with every key snake_case; other values as they are. */
export function snakeCaseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeCaseKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [snakeCase(k), snakeCaseKeys(v)]));
}

/**
 * The first key of `value` (depth first) that is not snake_case, as `path.to.key`, or undefined. Keys of
 * the records at `dataKeys` are data (not checked; their values are); subtrees at `skip` are not looked at.
 */
export function firstNonSnakeKey(value: unknown, opts: { dataKeys?: readonly string[]; skip?: readonly string[] } = {}, path = ''): string | undefined {
  if (opts.skip?.includes(path)) return undefined;
  if (Array.isArray(value)) {
    for (const v of value) {
      const bad = firstNonSnakeKey(v, opts, `${path}[]`);
      if (bad) return bad;
    }
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  const isData = (opts.dataKeys ?? DATA_KEY_PATHS).includes(path);
  for (const [k, v] of Object.entries(value)) {
    const here = path ? `${path}.${isData ? '*' : k}` : k;
    if (!isData && !SNAKE_CASE.test(k)) return here;
    const bad = firstNonSnakeKey(v, opts, here);
    if (bad) return bad;
  }
  return undefined;
}

/**
 * Why `value` breaks the naming rule, as "key: problem", or undefined. Writing checks every key. Reading
 * names a file with a camelCase field as written by an older layerlab version (before this rule the stage
 * files and manifests used camelCase); it does not look inside `choices`, whose names a reader only shows.
 */
export function namingProblem(value: unknown, mode: 'read' | 'write' = 'read'): string | undefined {
  if (mode === 'write') {
    const key = firstNonSnakeKey(value);
    return key && `${key}: key is not snake_case (every JSON key layerlab writes is snake_case, docs/results.md)`;
  }
  const key = firstNonSnakeKey(value, { skip: ['choices'] });
  return key && `${key}: key is not snake_case: the file is from an older layerlab version (camelCase keys); rerun the command that wrote it with this version`;
}
