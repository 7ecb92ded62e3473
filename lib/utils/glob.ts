/**
 * Matches dotted event names against patterns: `*` stands for exactly one segment,
 * `**` for any number of segments (including none). `todo.*` matches `todo.created`
 * but not `todo.item.created`; `todo.**` matches both.
 */
export function matchesEventPattern(pattern: string, name: string): boolean {
  return matchSegments(pattern.split('.'), 0, name.split('.'), 0);
}

function matchSegments(pattern: string[], p: number, name: string[], n: number): boolean {
  if (p === pattern.length) return n === name.length;
  const segment = pattern[p];
  if (segment === '**') {
    for (let skip = n; skip <= name.length; skip++) {
      if (matchSegments(pattern, p + 1, name, skip)) return true;
    }
    return false;
  }
  if (n === name.length) return false;
  return (segment === '*' || segment === name[n]) && matchSegments(pattern, p + 1, name, n + 1);
}
