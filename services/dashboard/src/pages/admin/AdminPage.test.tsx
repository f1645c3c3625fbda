import { configure, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import toast from "react-hot-toast/headless";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { Toaster } from "../../components/Toaster";
import { ALICE, renderAt, session, stubApi } from "../../test/render";
import { axeFindings, refusal } from "../integrations/fixtures";

// The page is lazy-loaded: load it once up front, so a first find does not time out on the import; and
// the machine is shared, so waits are generous.
configure({ asyncUtilTimeout: 4000 });
beforeAll(async () => {
  await import("./AdminPage");
});
afterEach(() => toast.remove());

const ADMIN = { id: "u-9", email: "root@example.com", role: "admin" as const };
// The scaffold's session() takes a user of role "user"; an admin's is the same with the role.
const adminSession = () => {
  const answer = session();
  return { ...answer, body: { ...answer.body, user: ADMIN } };
};
const BOB = "8d0f7a52-53a4-4c1e-9a55-0e3b1c2d4f60";
const store = (id: string, owner: string) => ({
  id,
  name: `shop-${id}`,
  engine: "woocommerce",
  status: "ready",
  namespace: `store-shop-${id}`,
  created_at: "2026-12-01T09:00:00Z",
  urls: {},
  error: null,
  owner_id: owner,
});
const quota = (override: number | null) => ({ user_id: BOB, email: "bob@example.com", limit: override ?? 5, override, in_use: 2 });
const entry = (id: string, action: string) => ({
  event_id: id,
  occurred_at: "2026-12-01T10:00:00Z",
  action,
  outcome: "succeeded",
  status_code: 202,
  client_address: "127.0.0.1",
  actor_id: BOB,
  actor_email: "bob@example.com",
  actor_role: "user",
  credential: "session",
  target: "store-1",
  error_code: "",
  method: "POST",
  path: "/api/v1/stores",
});

describe("the admin pages", { timeout: 20000 }, () => {
  it("are for admins only", async () => {
    stubApi((_method, path) => (path === "/api/v1/auth/refresh" ? session(ALICE) : undefined));
    renderAt("/admin/audit");
    expect(await screen.findByRole("heading", { name: "Admins only" })).toBeInTheDocument();
    expect(screen.queryByRole("link", { name: "Admin" })).not.toBeInTheDocument();
  });

  it("list every store with its owner, following `next`, and the owner opens their quota", async () => {
    const user = userEvent.setup();
    stubApi((method, path) => {
      if (path === "/api/v1/auth/refresh") return adminSession();
      if (path === "/api/v1/stores?all=true") return { status: 200, body: { stores: [store("1", BOB)], next: "/api/v1/stores?all=true&cursor=c2" } };
      if (path === "/api/v1/stores?all=true&cursor=c2") return { status: 200, body: { stores: [store("2", ADMIN.id)], next: null } };
      if (method === "GET" && path === `/api/v1/admin/users/${BOB}/quota`) return { status: 200, body: quota(null) };
      return undefined;
    });
    renderAt("/admin");
    expect(await screen.findByRole("link", { name: "shop-1" })).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Load more" }));
    expect(await screen.findByRole("link", { name: "shop-2" })).toBeInTheDocument();
    expect(await axeFindings()).toEqual([]);
    await user.click(screen.getByRole("link", { name: BOB }));
    expect(await screen.findByRole("heading", { name: "bob@example.com" })).toBeInTheDocument();
    expect(screen.getByText("2 of 5")).toBeInTheDocument();
  });

  it("send the quota typed, and show invalid_quota at the field", async () => {
    const user = userEvent.setup();
    const calls = stubApi((method, path, body) => {
      if (path === "/api/v1/auth/refresh") return adminSession();
      if (method === "GET" && path === `/api/v1/admin/users?email=bob%40example.com`) {
        return { status: 200, body: { users: [{ id: BOB, email: "bob@example.com", role: "user", store_limit: null }] } };
      }
      if (method === "GET" && path === `/api/v1/admin/users/${BOB}/quota`) return { status: 200, body: quota(null) };
      if (method === "PUT" && path === `/api/v1/admin/users/${BOB}/quota`) {
        const limit = (body as { store_limit: number }).store_limit;
        return limit > 1000 ? refusal(422, "invalid_quota", "store_limit must be 0 to 1000, or null.") : { status: 200, body: quota(limit) };
      }
      return undefined;
    });
    render(<Toaster />);
    renderAt("/admin/users");
    await user.type(await screen.findByLabelText("User id or email"), "bob@example.com");
    await user.click(screen.getByRole("button", { name: "Find user" }));
    const limit = await screen.findByLabelText("Store limit");
    expect(limit).toHaveValue(5);

    await user.clear(limit);
    await user.type(limit, "5000");
    await user.click(screen.getByRole("button", { name: "Save limit" }));
    await waitFor(() => expect(limit).toHaveAccessibleDescription(expect.stringContaining("store_limit must be 0 to 1000")));
    expect(limit).toHaveAttribute("aria-invalid", "true");

    await user.clear(limit);
    await user.type(limit, "12");
    await user.click(screen.getByRole("button", { name: "Save limit" }));
    expect(await screen.findByText("bob@example.com may now have 12 live stores")).toBeInTheDocument();
    expect(screen.getByText("2 of 12")).toBeInTheDocument();
    expect(await axeFindings()).toEqual([]);
    expect(calls.filter((call) => call.method === "PUT").map((call) => call.body)).toEqual([
      { store_limit: 5000 },
      { store_limit: 12 },
    ]);
  });

  it("say so when no account has the email typed", async () => {
    const user = userEvent.setup();
    stubApi((method, path) => {
      if (path === "/api/v1/auth/refresh") return adminSession();
      if (method === "GET" && path === "/api/v1/admin/users?email=nobody%40example.com") return { status: 200, body: { users: [] } };
      return undefined;
    });
    renderAt("/admin/users");
    const who = await screen.findByLabelText("User id or email");
    await user.type(who, "nobody@example.com");
    await user.click(screen.getByRole("button", { name: "Find user" }));
    await waitFor(() => expect(who).toHaveAccessibleDescription(expect.stringContaining("No account is registered with nobody@example.com")));
  });

  it("put the audit filters on the request, and load more when a `next` is given", async () => {
    const user = userEvent.setup();
    const calls = stubApi((_method, path) => {
      if (path === "/api/v1/auth/refresh") return adminSession();
      if (path === "/api/v1/admin/audit?limit=50") return { status: 200, body: { entries: [entry("e1", "login")] } };
      if (path === `/api/v1/admin/audit?limit=50&action=create_store&actor_id=${BOB}`) {
        return { status: 200, body: { entries: [entry("e2", "create_store")], next: "/api/v1/admin/audit?cursor=p2" } };
      }
      if (path === "/api/v1/admin/audit?cursor=p2") return { status: 200, body: { entries: [entry("e3", "set_quota")], next: null } };
      return undefined;
    });
    renderAt("/admin/audit");
    const table = await screen.findByRole("table", { name: "Audit records, newest first" });
    expect(within(table).getByText("login")).toBeInTheDocument();
    expect(within(table).getByText("127.0.0.1")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Load more" })).not.toBeInTheDocument();

    await user.type(screen.getByLabelText("Action"), "create_store");
    await user.type(screen.getByLabelText(/^Actor/), BOB.toUpperCase());
    await user.click(screen.getByRole("button", { name: "Apply filters" }));
    expect(await screen.findByText("create_store")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Load more" }));
    expect(await screen.findByText("set_quota")).toBeInTheDocument();
    expect(await axeFindings()).toEqual([]);
    expect(calls.map((call) => call.path).filter((path) => path.includes("/audit"))).toEqual([
      "/api/v1/admin/audit?limit=50",
      `/api/v1/admin/audit?limit=50&action=create_store&actor_id=${BOB}`,
      "/api/v1/admin/audit?cursor=p2",
    ]);
  });

  it("show a refused filter with the API's message, and an empty trail as such", async () => {
    const user = userEvent.setup();
    stubApi((_method, path) => {
      if (path === "/api/v1/auth/refresh") return adminSession();
      if (path === "/api/v1/admin/audit?limit=50") return { status: 200, body: { entries: [] } };
      if (path === "/api/v1/admin/audit?limit=50&actor_id=bob") {
        return refusal(400, "invalid_request", "actor_id must be a user id or anonymous.");
      }
      return undefined;
    });
    renderAt("/admin/audit");
    expect(await screen.findByText("No audit records match")).toBeInTheDocument();
    await user.type(screen.getByLabelText(/^Actor/), "bob");
    await user.click(screen.getByRole("button", { name: "Apply filters" }));
    expect(await screen.findByText("actor_id must be a user id or anonymous.")).toBeInTheDocument();
  });
});
