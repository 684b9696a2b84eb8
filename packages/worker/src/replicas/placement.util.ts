/**
 * Orders candidates by weighted random sampling without replacement (Efraimidis–Spirakis): each gets the key
 * u^(1/w), highest first, so an SE of weight 2 comes first about twice as often as one of weight 1.
 * Weight 0 never comes first but stays as a last resort.
 */
export function orderByWeight<T extends { weight: number }>(
  items: readonly T[],
  random: () => number = Math.random,
): T[] {
  return items
    .map((item) => {
      const w = Math.max(item.weight, 0);
      const key = w > 0 ? random() ** (1 / w) : -1 + random() * 1e-9;
      return { item, key };
    })
    .sort((a, b) => b.key - a.key)
    .map((x) => x.item);
}
