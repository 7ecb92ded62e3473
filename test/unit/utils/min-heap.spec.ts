import { MinHeap } from '../../../lib/utils/min-heap.js';

describe('MinHeap', () => {
  it('pops in key order, equal keys in insertion order', () => {
    const heap = new MinHeap<string>();
    const input: Array<[number, string]> = [
      [5, 'e'],
      [1, 'a1'],
      [3, 'c'],
      [1, 'a2'],
      [9, 'z'],
      [3, 'c2'],
      [0, 'first'],
      [1, 'a3'],
    ];
    for (const [key, value] of input) heap.push(key, value);
    expect(heap.size).toBe(input.length);
    expect({ key: heap.topKey(), value: heap.topValue() }).toMatchObject({ key: 0, value: 'first' });
    const out: string[] = [];
    while (heap.size > 0) {
      out.push(heap.topValue()!);
      heap.removeTop();
    }
    expect(out).toEqual(['first', 'a1', 'a2', 'a3', 'c', 'c2', 'e', 'z']);
    expect(heap.size).toBe(0);
    expect(heap.topValue()).toBeUndefined();
  });

  it('matches a sort on 2 000 random keys pushed and popped interleaved', () => {
    const heap = new MinHeap<number>();
    const reference: number[] = [];
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const popped: number[] = [];
    const expected: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const key = Math.floor(random() * 100);
      heap.push(key, key);
      reference.push(key);
      if (i % 3 === 0) {
        reference.sort((a, b) => a - b);
        expected.push(reference.shift()!);
        popped.push(heap.topValue()!);
        heap.removeTop();
      }
    }
    expect(popped).toEqual(expected);
  });

  it('topKey(), topValue() and removeTop() give the key order, ties in insertion order, on random keys', () => {
    const heap = new MinHeap<string>();
    const reference: Array<{ key: number; value: string }> = [];
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const taken: string[] = [];
    const expected: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const key = Math.floor(random() * 50) + 1.7e12; // epoch ms, as the store's due times
      heap.push(key, `v${i}`);
      reference.push({ key, value: `v${i}` });
      if (i % 2 === 0) {
        reference.sort((a, b) => a.key - b.key); // stable: ties keep insertion order
        const next = reference.shift()!;
        expected.push(next.value);
        expect(heap.topKey()).toBe(next.key);
        taken.push(heap.topValue()!);
        heap.removeTop();
      }
    }
    expect(taken).toEqual(expected);
    expect(heap.size).toBe(reference.length);
    while (heap.size > 0) heap.removeTop();
    expect(heap.topKey()).toBeUndefined();
    expect(heap.topValue()).toBeUndefined();
    heap.removeTop(); // on an empty heap: nothing to remove, no error
    expect(heap.size).toBe(0);
  });
});
