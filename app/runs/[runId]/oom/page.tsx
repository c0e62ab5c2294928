import { notFound, redirect } from "next/navigation";
import { getEvents } from "@/lib/web/data/queries";
import { postMortemHref } from "@/lib/ui/postMortemHref";

export const dynamic = "force-dynamic";

/** OomByRankPage: resolves ?rank=&step= (what an "oom" alert knows) to that OOM event's post-mortem, else the run's latest OOM. */
export default async function OomByRankPage({
  params,
  searchParams,
}: {
  params: Promise<{ runId: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const runId = decodeURIComponent((await params).runId);
  const sp = await searchParams;
  const num = (k: string) => {
    const v = Array.isArray(sp[k]) ? sp[k][0] : sp[k];
    return v && /^\d+$/.test(v) ? Number(v) : null;
  };
  const rank = num("rank");
  const step = num("step");
  const ooms = ((await getEvents(runId)) ?? []).filter((e) => e.kind === "oom");
  const hit =
    ooms.find((e) => (rank === null || e.rank === rank) && (step === null || e.step === step)) ??
    ooms.filter((e) => rank === null || e.rank === rank).at(-1);
  if (!hit) notFound();
  redirect(postMortemHref(runId, hit.id));
}
