import type { Page, PageQuery } from './convoy.types.js';

/**
 * Walks every page forward from the query's position, yielding items one by one, fetching the next page
 * only when the current one is used up. Stops when Convoy says there is no next page (or repeats a cursor).
 */
export async function* iterateAll<T, Q extends PageQuery>(
  fetchPage: (query: Q) => Promise<Page<T>>,
  query: Q,
): AsyncGenerator<T, void, undefined> {
  let current: Q = { ...query, direction: 'next' };
  const seen = new Set<string>();
  for (;;) {
    const page = await fetchPage(current);
    yield* page.content ?? [];
    const cursor = page.pagination?.next_page_cursor;
    if (!page.pagination?.has_next_page || !cursor || seen.has(cursor)) return;
    seen.add(cursor);
    current = { ...current, next_page_cursor: cursor, prev_page_cursor: undefined };
  }
}
