/**
 * A trie of layer plans: node = a plan prefix, edge = one block. Plans that share a prefix share the
 * path to it, so the residual stream after the prefix is computed once and every plan continues from
 * there. The baseline plan 0..L-1 is always in the trie: its logits are needed before any other plan's
 * metrics can be computed, so the execution order visits the baseline path first (see `executionOrder`).
 */
export interface TrieNode {
  id: number;
  parent?: TrieNode;
  /** Block executed on the edge from the parent (undefined at the root). */
  block: number;
  /** Number of blocks from the root (= slot of `block` + 1). */
  depth: number;
  children: TrieNode[];
  /** Indices (into the plan list) of the plans that end here. */
  terminals: number[];
  /** On the path of the baseline plan. */
  onBaseline: boolean;
}

export class PlanTrie {
  readonly root: TrieNode;
  readonly nodes: TrieNode[] = [];
  /** Node where the baseline plan ends. */
  readonly baselineNode: TrieNode;

  /** `plans` must be distinct; `baseline` is added to the trie without a plan index. */
  constructor(readonly plans: readonly (readonly number[])[], readonly baseline: readonly number[]) {
    this.root = this.node(undefined, -1);
    let n = this.root;
    n.onBaseline = true;
    for (const b of baseline) {
      n = this.child(n, b);
      n.onBaseline = true;
    }
    this.baselineNode = n;
    plans.forEach((plan, i) => {
      let m = this.root;
      for (const b of plan) m = this.child(m, b);
      m.terminals.push(i);
    });
  }

  private node(parent: TrieNode | undefined, block: number): TrieNode {
    const n: TrieNode = { id: this.nodes.length, parent, block, depth: parent ? parent.depth + 1 : 0, children: [], terminals: [], onBaseline: false };
    this.nodes.push(n);
    if (parent) parent.children.push(n);
    return n;
  }

  private child(n: TrieNode, b: number): TrieNode {
    return n.children.find((c) => c.block === b) ?? this.node(n, b);
  }

  /** Blocks computed when every plan continues from its longest shared prefix (edges of the trie). */
  get sharedBlockCount(): number {
    return this.nodes.length - 1;
  }

  /** Blocks computed when every plan (and the baseline) is run from scratch. */
  get recomputeBlockCount(): number {
    return this.baseline.length + this.plans.reduce((s, p) => s + p.length, 0);
  }
}

/**
 * What a node does, in order. On the baseline path the baseline child comes first and the node's own
 * plans are evaluated last (their metrics need the baseline logits, computed at the end of that path);
 * elsewhere a node evaluates its plans first, then its children.
 */
export type Step = { kind: 'eval' } | { kind: 'child'; child: TrieNode };

export function executionOrder(node: TrieNode, baselineNode: TrieNode): Step[] {
  const kids = (list: TrieNode[]) => list.map((child): Step => ({ kind: 'child', child }));
  // The baseline node evaluates first (baseline logits, then any identity plans), then its children.
  if (!node.onBaseline || node === baselineNode) return [...(node.terminals.length > 0 || node === baselineNode ? [{ kind: 'eval' } as Step] : []), ...kids(node.children)];
  const base = node.children.filter((c) => c.onBaseline);
  const rest = node.children.filter((c) => !c.onBaseline);
  return [...kids(base), ...kids(rest), ...(node.terminals.length > 0 ? [{ kind: 'eval' } as Step] : [])];
}
