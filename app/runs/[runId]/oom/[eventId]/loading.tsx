/** Loading: skeleton of the OOM post-mortem while its window is read. */
export default function Loading() {
  return (
    <div className="space-y-4" aria-busy="true" aria-label="Loading post-mortem">
      <div className="h-7 w-80 animate-pulse rounded bg-surface-2" />
      <div className="h-24 animate-pulse rounded-lg bg-surface-2" />
      <div className="h-56 animate-pulse rounded-lg bg-surface-2" />
      <div className="grid gap-4 xl:grid-cols-2">
        <div className="h-72 animate-pulse rounded-lg bg-surface-2" />
        <div className="h-72 animate-pulse rounded-lg bg-surface-2" />
      </div>
    </div>
  );
}
