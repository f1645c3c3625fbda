// The one way the dashboard calls the API: JSON in and out, the access token kept in memory only, the
// session renewed through the refresh cookie (HttpOnly: never readable here), and every failure turned
// into an ApiError carrying the API's own code and message, which the pages show as they are.
import type { ErrorBody, SessionAnswer } from "./types";

/** Sent with every call: in cookie mode the gateway keeps the refresh token in an HttpOnly cookie, and a
 * cross-site form cannot send a custom header (the CSRF defence, with SameSite=Strict). */
export const SESSION_HEADER = { "X-Storeplane-Session": "cookie" } as const;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfter: number | null = null,
  ) {
    super(message);
    this.name = "ApiError";
  }

  /** What a user can try next, beside the API's message. */
  get hint(): string {
    if (this.status === 0) return "Check your connection, then try again.";
    if (this.status === 429 || this.status === 503) {
      return this.retryAfter ? `Try again in ${this.retryAfter} s.` : "Try again in a moment.";
    }
    if (this.status === 401) return "Log in again.";
    if (this.status >= 500) return "Try again; if it keeps failing, tell the platform's operators.";
    return "";
  }
}

type Listener = (answer: SessionAnswer | null) => void;

let accessToken: string | null = null;
let refreshing: Promise<SessionAnswer | null> | null = null;
const listeners = new Set<Listener>();

/** Called with each new session (or null once it has ended), so the session context follows renewals. */
export function onSession(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function setSession(answer: SessionAnswer | null): void {
  accessToken = answer?.token ?? null;
  for (const listener of listeners) listener(answer);
}

export function currentAccessToken(): string | null {
  return accessToken;
}

async function errorOf(response: Response): Promise<ApiError> {
  const retryAfter = Number(response.headers.get("Retry-After")) || null;
  try {
    const body = (await response.json()) as Partial<ErrorBody>;
    if (body.error?.code) return new ApiError(response.status, body.error.code, body.error.message, retryAfter);
  } catch {
    // Not JSON (a proxy's page): fall through to a generic message.
  }
  return new ApiError(response.status, "http_error", `The server answered ${response.status}.`, retryAfter);
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Skip the one renewal-and-retry on a 401 (the session routes themselves). */
  noRenew?: boolean;
}

async function send(path: string, options: RequestOptions): Promise<Response> {
  const headers: Record<string, string> = { Accept: "application/json", ...SESSION_HEADER, ...options.headers };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (accessToken) headers.Authorization = `Bearer ${accessToken}`;
  try {
    return await fetch(path, {
      method: options.method ?? "GET",
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      credentials: "same-origin",
    });
  } catch {
    throw new ApiError(0, "network_error", "The platform could not be reached.");
  }
}

/** Calls the API; on a 401 renews the session once through the refresh cookie and tries again. */
export async function request<T>(path: string, options: RequestOptions = {}): Promise<T> {
  let response = await send(path, options);
  if (response.status === 401 && !options.noRenew && (await renewSession())) {
    response = await send(path, options);
  }
  if (!response.ok) throw await errorOf(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

async function refresh(): Promise<SessionAnswer | null> {
  const response = await fetch("/api/v1/auth/refresh", {
    method: "POST",
    headers: { Accept: "application/json", ...SESSION_HEADER },
    credentials: "same-origin",
  });
  return response.ok ? ((await response.json()) as SessionAnswer) : null;
}

/** Exchanges the refresh cookie for a new access token; null when there is no session to renew. One
 * renewal at a time: concurrent 401s wait for the same one, and tabs take turns through a Web Lock
 * (each refresh token works once: two tabs sending the same cookie would end the session). */
export function renewSession(): Promise<SessionAnswer | null> {
  refreshing ??= (async () => {
    try {
      const locks = typeof navigator !== "undefined" ? navigator.locks : undefined;
      const answer = locks ? await locks.request("storeplane-session-refresh", refresh) : await refresh();
      setSession(answer);
      return answer;
    } catch {
      return null;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

export const api = {
  get: <T>(path: string) => request<T>(path),
  post: <T>(path: string, body?: unknown, headers?: Record<string, string>) =>
    request<T>(path, { method: "POST", body, headers }),
  put: <T>(path: string, body?: unknown) => request<T>(path, { method: "PUT", body }),
  patch: <T>(path: string, body?: unknown) => request<T>(path, { method: "PATCH", body }),
  delete: <T>(path: string, headers?: Record<string, string>) => request<T>(path, { method: "DELETE", headers }),
};
