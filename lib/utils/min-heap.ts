/**
 * A binary min-heap on a numeric key: O(log n) push and removeTop, for "what is due next" without sorting everything.
 * Equal keys come out in the order they went in.
 *
 * Keys, insertion numbers and values are kept in three parallel arrays (the keys as unboxed doubles): a push
 * allocates nothing of its own, and a sift compares keys that lie next to each other in memory instead of loading
 * an entry object per level (the in-memory store pushes and pops one per delivery).
 */
export class MinHeap<T> {
  private readonly keys: number[] = [];
  private readonly seqs: number[] = [];
  private readonly values: T[] = [];
  private seq = 0;

  get size(): number {
    return this.values.length;
  }

  push(key: number, value: T): void {
    const { keys, seqs, values } = this;
    const seq = this.seq++;
    let i = values.length;
    keys.push(key);
    seqs.push(seq);
    values.push(value);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const parentKey = keys[parent]!;
      if (!comesFirst(key, seq, parentKey, seqs[parent]!)) break;
      keys[i] = parentKey;
      seqs[i] = seqs[parent]!;
      values[i] = values[parent]!;
      i = parent;
    }
    keys[i] = key;
    seqs[i] = seq;
    values[i] = value;
  }

  /** The smallest key, without an object for it. */
  topKey(): number | undefined {
    return this.keys[0];
  }

  /** The value of the smallest key. */
  topValue(): T | undefined {
    return this.values[0];
  }

  /** Removes the smallest key (nothing on an empty heap). */
  removeTop(): void {
    const { keys, seqs, values } = this;
    const lastKey = keys.pop();
    const lastSeq = seqs.pop()!;
    const lastValue = values.pop()!;
    const n = values.length;
    if (n === 0 || lastKey === undefined) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      let child = left;
      if (right < n && comesFirst(keys[right]!, seqs[right]!, keys[left]!, seqs[left]!)) child = right;
      const childKey = keys[child]!;
      if (!comesFirst(childKey, seqs[child]!, lastKey, lastSeq)) break;
      keys[i] = childKey;
      seqs[i] = seqs[child]!;
      values[i] = values[child]!;
      i = child;
    }
    keys[i] = lastKey;
    seqs[i] = lastSeq;
    values[i] = lastValue;
  }
}

/** The heap's order: the smaller key first, and of equal keys the one pushed first. */
function comesFirst(key: number, seq: number, otherKey: number, otherSeq: number): boolean {
  return key < otherKey || (key === otherKey && seq < otherSeq);
}
