import Link from "next/link";

/** NotFound: an unknown page. */
export default function NotFound() {
  return (
    <div className="rounded-lg border border-line bg-surface p-8 text-center">
      <h1 className="mb-2 text-lg font-semibold">Page not found</h1>
      <Link href="/" className="text-accent hover:underline">
        Back to the runs
      </Link>
    </div>
  );
}
