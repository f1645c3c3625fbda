// Renders a page as the app does (router, query client, session), against a fetch the test scripts.
import { QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import type { ReactElement } from "react";
import { createMemoryRouter, RouterProvider } from "react-router";
import { vi } from "vitest";
import { newQueryClient, routes } from "../App";
import { SessionProvider } from "../session/session";

export type Answer = { status: number; body?: unknown; headers?: Record<string, string> };
export type Route = (method: string, path: string, body: unknown) => Answer | undefined;

/** Stubs `fetch` with answers per call; an unexpected call fails the test with what was asked. */
export function stubApi(route: Route) {
  const calls: { method: string; path: string; body: unknown }[] = [];
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const method = init?.method ?? "GET";
    const path = String(input);
    const body = typeof init?.body === "string" ? (JSON.parse(init.body) as unknown) : undefined;
    calls.push({ method, path, body });
    const answer = route(method, path, body);
    if (!answer) throw new Error(`unexpected API call ${method} ${path}`);
    return new Response(answer.body === undefined ? null : JSON.stringify(answer.body), {
      status: answer.status,
      headers: { "Content-Type": "application/json", ...answer.headers },
    });
  });
  vi.stubGlobal("fetch", fetch);
  return calls;
}

export const ALICE = { id: "u-1", email: "alice@example.com", role: "user" as const };

export function session(user = ALICE) {
  return { status: 200, body: { token: "t", token_type: "Bearer", expires_in: 900, refresh_expires_in: 86400, user } };
}

/** The whole app's routes at `path`; the test's stub decides whether a session exists. */
export function renderAt(path: string): ReturnType<typeof render> {
  const router = createMemoryRouter(routes, { initialEntries: [path] });
  return render(
    <QueryClientProvider client={newQueryClient()}>
      <SessionProvider>
        <RouterProvider router={router} />
      </SessionProvider>
    </QueryClientProvider>,
  );
}

export function renderAlone(element: ReactElement): ReturnType<typeof render> {
  return render(<QueryClientProvider client={newQueryClient()}>{element}</QueryClientProvider>);
}
