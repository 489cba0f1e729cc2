/**
 * Per-document means, when the paper's unit is the document: each document contributes one value, the
 * mean of everything it holds (a sum and a count, so several windows or batches of one document combine
 * into one value), and the statistic is over those values: their mean, their sample std, sem = std/√docs
 * (`n` = `docs` = documents). The authors' attention and logit-lens notebooks average this way (one
 * value per document, then mean and spread over documents). Mergeable and exactly serializable.
 */
import { RunningStats } from './running-stats.js';
import { statOfValues, type Stat } from './stat.js';

export interface DocMeansState {
  ids: number[];
  sums: number[];
  counts: number[];
}

export class DocMeans {
  private readonly docs = new Map<number, { sum: number; count: number }>();

  /** Adds `count` values summing to `sum` to document `doc`; a count of 0 adds nothing. */
  add(doc: number, sum: number, count: number): this {
    if (!Number.isFinite(sum) || !Number.isInteger(count) || count < 0) throw new Error(`DocMeans.add: need a finite sum and a count >= 0, got ${sum}, ${count} (document ${doc})`);
    if (count === 0) return this;
    const d = this.docs.get(doc);
    if (d) {
      d.sum += sum;
      d.count += count;
    } else this.docs.set(doc, { sum, count });
    return this;
  }

  merge(o: DocMeans): this {
    for (const [id, d] of o.docs) this.add(id, d.sum, d.count);
    return this;
  }

  get docCount(): number {
    return this.docs.size;
  }

  /** One value per document (ascending ids, so the order documents arrived in never matters). */
  stat(): Stat {
    const r = new RunningStats();
    for (const id of [...this.docs.keys()].sort((a, b) => a - b)) {
      const d = this.docs.get(id)!;
      r.add(d.sum / d.count);
    }
    return statOfValues(r);
  }

  toJSON(): DocMeansState {
    const ids = [...this.docs.keys()].sort((a, b) => a - b);
    return { ids, sums: ids.map((i) => this.docs.get(i)!.sum), counts: ids.map((i) => this.docs.get(i)!.count) };
  }

  static fromJSON(s: DocMeansState): DocMeans {
    if (!s || !Array.isArray(s.ids) || s.ids.length !== s.sums?.length || s.ids.length !== s.counts?.length) throw new Error('DocMeans.fromJSON: expected { ids[], sums[], counts[] } of equal lengths');
    const out = new DocMeans();
    s.ids.forEach((id, i) => out.add(id, s.sums[i], s.counts[i]));
    return out;
  }
}
