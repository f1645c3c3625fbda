import { describe, expect, it } from "vitest";
import { stubApi } from "../test/render";
import { ApiError, request, setSession } from "./client";

describe("the API client", () => {
  it("renews the session once on a 401 and repeats the call with the new token", async () => {
    setSession({ token: "old", token_type: "Bearer", expires_in: 900, refresh_expires_in: 1, user: { id: "u", email: "a@b.c", role: "user" } });
    const seen: string[] = [];
    stubApi((_method, path) => {
      if (path === "/api/v1/auth/refresh") {
        return { status: 200, body: { token: "new", token_type: "Bearer", expires_in: 900, refresh_expires_in: 1, user: { id: "u", email: "a@b.c", role: "user" } } };
      }
      if (path === "/api/v1/account") {
        const auth = (globalThis.fetch as unknown as { mock: { calls: [string, RequestInit][] } }).mock.calls.at(-1)?.[1]
          ?.headers as Record<string, string>;
        seen.push(auth.Authorization ?? "");
        return auth.Authorization === "Bearer new"
          ? { status: 200, body: { ok: true } }
          : { status: 401, body: { error: { code: "not_authenticated", message: "expired" } } };
      }
      return undefined;
    });
    await expect(request("/api/v1/account")).resolves.toEqual({ ok: true });
    expect(seen).toEqual(["Bearer old", "Bearer new"]);
  });

  it("turns an error answer into an ApiError with the API's code, message and what to try", async () => {
    stubApi(() => ({ status: 503, body: { error: { code: "bus_unavailable", message: "The bus is down." } }, headers: { "Retry-After": "3" } }));
    const error = await request("/api/v1/stores", { noRenew: true }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 503, code: "bus_unavailable", message: "The bus is down." });
    expect((error as ApiError).hint).toBe("Try again in 3 s.");
  });
});
