/** Loading: skeleton for the runs list while the server reads the runs. */
export default function Loading() {
  return (
    <div className="space-y-3" aria-busy="true" aria-label="Loading runs">
      <div className="h-6 w-32 animate-pulse rounded bg-surface-2" />
      {Array.from({ length: 5 }, (_, i) => (
        <div key={i} className="h-12 animate-pulse rounded-lg bg-surface-2" />
      ))}
    </div>
  );
}
