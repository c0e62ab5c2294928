import Link from "next/link";

/** NotFound: no run has this id. */
export default function NotFound() {
  return (
    <div className="rounded-lg border border-line bg-surface p-8 text-center" data-testid="run-not-found">
      <h1 className="mb-2 text-lg font-semibold">Unknown run</h1>
      <p className="mb-4 text-sm text-muted">No run has this id. It may have been deleted, or the link is mistyped.</p>
      <Link href="/" className="text-accent hover:underline">
        Back to the runs
      </Link>
    </div>
  );
}
