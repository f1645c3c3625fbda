// Who is logged in. The session survives reloads through the refresh cookie alone: on start the app asks
// for a new access token, which lives in memory (never in localStorage), and renews it before it expires.
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { onSession, renewSession, request, setSession } from "../api/client";
import type { SessionAnswer, User } from "../api/types";

export interface Session {
  /** undefined while the app is still finding out whether a session exists. */
  user: User | null | undefined;
  login(email: string, password: string): Promise<User>;
  register(email: string, password: string): Promise<User>;
  logout(everywhere?: boolean): Promise<void>;
}

const SessionContext = createContext<Session | null>(null);

// Renew this long before the access token expires, so no call meets an expired one.
const RENEW_AHEAD_SECONDS = 30;

export function SessionProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<User | null | undefined>(undefined);
  const renewal = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  useEffect(() => {
    const stop = onSession((answer: SessionAnswer | null) => {
      setUser(answer?.user ?? null);
      clearTimeout(renewal.current);
      if (answer) {
        const delay = Math.max(answer.expires_in - RENEW_AHEAD_SECONDS, 5) * 1000;
        renewal.current = setTimeout(() => void renewSession(), delay);
      }
    });
    void renewSession();
    return () => {
      stop();
      clearTimeout(renewal.current);
    };
  }, []);

  const start = useCallback(async (path: string, email: string, password: string) => {
    const answer = await request<SessionAnswer>(path, { method: "POST", body: { email, password }, noRenew: true });
    setSession(answer);
    return answer.user;
  }, []);

  const logout = useCallback(async (everywhere = false) => {
    try {
      await request<void>(everywhere ? "/api/v1/auth/logout-all" : "/api/v1/auth/logout", {
        method: "POST",
        noRenew: true,
      });
    } finally {
      setSession(null);
    }
  }, []);

  const session = useMemo<Session>(
    () => ({
      user,
      login: (email, password) => start("/api/v1/auth/login", email, password),
      register: (email, password) => start("/api/v1/auth/register", email, password),
      logout,
    }),
    [user, start, logout],
  );
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside SessionProvider");
  return session;
}
