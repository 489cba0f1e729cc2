/** A model named on the Hub: `ORG/NAME[@REVISION]`, or a legacy un-namespaced id such as `gpt2`. */
export interface HubSpec {
  repoId: string;
  revision: string;
}

// Same rules as huggingface_hub's repo-id validation: word characters, '-' and '.', no '--' or '..',
// not starting or ending with '-' or '.', at most 96 characters per part.
const PART = /^(?![-.])(?!.*(--|\.\.))[\w.-]{1,96}(?<![-.])$/;

// A branch, tag, `refs/pr/N` or commit hash. No '..' part and no leading '/', so the revision can be
// used as a path under refs/ without leaving the cache folder.
const REVISION = /^[\w.-]+(\/[\w.-]+)*$/;

export function isCommitHash(revision: string): boolean {
  return /^[0-9a-f]{40}$/.test(revision);
}

/** The Hub id in `spec`, or undefined when it is not one (then it was meant as a local folder). */
export function parseHubSpec(spec: string): HubSpec | undefined {
  const at = spec.indexOf('@');
  const id = at < 0 ? spec : spec.slice(0, at);
  const revision = at < 0 ? 'main' : spec.slice(at + 1);
  const parts = id.split('/');
  // Legacy ids without an organisation (gpt2, gpt2-medium) still resolve on the Hub, as in Python.
  if (parts.length > 2 || !parts.every((p) => PART.test(p))) return undefined;
  if (!REVISION.test(revision) || revision.split('/').some((p) => p === '..' || p === '.')) return undefined;
  return { repoId: id, revision };
}
