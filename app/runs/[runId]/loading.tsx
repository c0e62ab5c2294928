/** Loading: skeleton of the run page while its data is read. */
export default function Loading() {
  return (
    <div className="space-y-4" aria-busy="true" aria-label="Loading run">
      <div className="h-7 w-72 animate-pulse rounded bg-surface-2" />
      <div className="h-16 animate-pulse rounded-lg bg-surface-2" />
      <div className="grid gap-4 xl:grid-cols-2">
        <div className="h-80 animate-pulse rounded-lg bg-surface-2" />
        <div className="h-80 animate-pulse rounded-lg bg-surface-2" />
      </div>
      <div className="h-96 animate-pulse rounded-lg bg-surface-2" />
    </div>
  );
}
