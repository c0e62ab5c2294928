import Link from "next/link";

/** NotFound: the run has no OOM event with this id. */
export default function NotFound() {
  return (
    <div className="rounded-lg border border-line bg-surface p-8 text-center" data-testid="postmortem-not-found">
      <h1 className="mb-2 text-lg font-semibold">Unknown OOM event</h1>
      <p className="mb-4 text-sm text-muted">This run has no OOM event with this id, or the run does not exist.</p>
      <Link href="/" className="text-accent hover:underline">
        Back to the runs
      </Link>
    </div>
  );
}
