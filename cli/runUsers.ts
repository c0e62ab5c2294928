/**
 * `moe-telemetry users ...`: manage dashboard users from the shell, straight against the database
 * (works while the dashboard runs, and is the way back in when every admin is locked out).
 * Passwords never go on the command line (they would land in shell history and `ps`): they are read
 * from a hidden prompt, or from stdin with --password-stdin for scripts.
 */
import readline from "node:readline";
import { openDatabase, type Db } from "../lib/store/db";
import { createUser, listUsers, resetPassword, setDisabled, setRole, type UserInfo } from "../lib/web/auth/users";

/** readPassword: the whole of stdin (trailing newline dropped), or a hidden prompt asked twice on a terminal. */
async function readPassword(fromStdin: boolean): Promise<string> {
  if (fromStdin || !process.stdin.isTTY) {
    let text = "";
    for await (const chunk of process.stdin) text += String(chunk);
    return text.replace(/\r?\n$/, "");
  }
  const first = await hiddenPrompt("password: ");
  const second = await hiddenPrompt("again: ");
  if (first !== second) throw new Error("the two passwords differ");
  return first;
}

function hiddenPrompt(question: string): Promise<string> {
  return new Promise((resolve) => {
    const rl = readline.createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    const out = rl as unknown as { _writeToOutput: (s: string) => void };
    process.stderr.write(question);
    // Echo nothing while the password is typed.
    out._writeToOutput = () => {};
    rl.question("", (answer) => {
      rl.close();
      process.stderr.write("\n");
      resolve(answer);
    });
  });
}

function line(u: UserInfo): string {
  return `${u.username}\t${u.role}${u.disabled ? "\tdisabled" : ""}`;
}

async function withDb<T>(database: string, fn: (db: Db) => Promise<T>): Promise<T> {
  const db = await openDatabase(database);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/** UsersAction: one `users` subcommand. */
export type UsersAction =
  | { kind: "create"; username: string; role: string; passwordStdin: boolean }
  | { kind: "list"; json: boolean }
  | { kind: "set-role"; username: string; role: string }
  | { kind: "disable" | "enable"; username: string }
  | { kind: "reset-password"; username: string; passwordStdin: boolean };

/** runUsers performs one `users` subcommand and prints what it did. */
export async function runUsers(a: UsersAction, o: { database: string }): Promise<void> {
  // Read the password before opening the database, so a prompt is not interleaved with migration logs.
  const password = a.kind === "create" || a.kind === "reset-password" ? await readPassword(a.passwordStdin) : "";
  await withDb(o.database, async (db) => {
    switch (a.kind) {
      case "create":
        console.log(`created ${line(await createUser(db, { username: a.username, password, role: a.role }))}`);
        return;
      case "list": {
        const users = await listUsers(db);
        if (a.json) console.log(JSON.stringify(users));
        else if (users.length === 0) console.log("no users (the dashboard shows /setup until one exists)");
        else for (const u of users) console.log(line(u));
        return;
      }
      case "set-role":
        console.log(`updated ${line(await setRole(db, a.username, a.role))}`);
        return;
      case "disable":
      case "enable":
        console.log(`updated ${line(await setDisabled(db, a.username, a.kind === "disable"))}`);
        return;
      case "reset-password":
        console.log(`password reset for ${line(await resetPassword(db, a.username, password))} (its sessions ended)`);
        return;
    }
  });
}
