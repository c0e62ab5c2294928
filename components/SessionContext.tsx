"use client";

import { createContext, useContext, type ReactNode } from "react";

/** SessionInfo: who is signed in, as the root layout resolved it on the server (role "admin" when login is off). */
export interface SessionInfo {
  username: string;
  role: "viewer" | "editor" | "admin";
  loginOff: boolean;
}

const Ctx = createContext<SessionInfo | null>(null);

/** SessionProvider: set once by the root layout so client components can hide controls the user's role cannot use. */
export function SessionProvider({ value, children }: { value: SessionInfo | null; children: ReactNode }) {
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

const RANK = { viewer: 0, editor: 1, admin: 2 } as const;

/**
 * useCan tells whether the current user has at least `role`. The server enforces the same rule (403);
 * this only spares the user controls that would fail.
 */
export function useCan(role: SessionInfo["role"]): { allowed: boolean; session: SessionInfo | null } {
  const session = useContext(Ctx);
  return { allowed: !!session && RANK[session.role] >= RANK[role], session };
}
