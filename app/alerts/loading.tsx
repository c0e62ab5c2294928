/** Loading: skeleton of the alerts page. */
export default function Loading() {
  return (
    <div className="space-y-4" aria-busy="true" aria-label="Loading alerts">
      <div className="h-7 w-48 animate-pulse rounded bg-surface-2" />
      <div className="h-10 animate-pulse rounded-lg bg-surface-2" />
      <div className="h-64 animate-pulse rounded-lg bg-surface-2" />
    </div>
  );
}
