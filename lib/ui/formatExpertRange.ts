/** formatExpertRange shows the experts [start, end) an EP rank hosts: "4" for one expert, "4–7" for several. */
export function formatExpertRange([start, end]: readonly [number, number] | readonly number[]): string {
  return end - start <= 1 ? String(start) : `${start}–${end - 1}`;
}
