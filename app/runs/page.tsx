import { redirect } from "next/navigation";

/** RunsIndex: /runs is the runs list at /. */
export default function RunsIndex() {
  redirect("/");
}
