import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it } from "vitest";
import type { Store } from "../../api/types";
import { aStore, anEntry, apiError, FakeEventSource, headersOf, ticket } from "../../stores/testing";
import { renderAt, session, stubApi, type Answer } from "../../test/render";
import { ENGINES, NAME_RULES } from "./CreateStoreDialog";

const account = (inUse: number, limit = 5): Answer => ({
  status: 200,
  body: { user: { id: "u-1", email: "alice@example.com", role: "user" }, quota: { in_use: inUse, limit } },
});

function storesApi(stores: Store[] | Answer, extra: (method: string, path: string, body: unknown) => Answer | undefined = () => undefined) {
  return stubApi((method, path, body) => {
    if (path === "/api/v1/auth/refresh") return session();
    if (method === "GET" && path === "/api/v1/stores") return Array.isArray(stores) ? { status: 200, body: { stores, next: null } } : stores;
    if (method === "GET" && path === "/api/v1/account") return account(Array.isArray(stores) ? stores.length : 0);
    if (method === "POST" && path === "/api/v1/stream-tickets") return ticket;
    return extra(method, path, body);
  });
}

async function openCreate() {
  await userEvent.click(await screen.findByRole("button", { name: "Create store" }));
  return screen.getByRole("dialog", { name: "Create a store" });
}

// The whole app renders in each test: 20 s, not 5, on a loaded machine shared by the test suite.
describe("the store list", { timeout: 20_000 }, () => {
  beforeEach(() => FakeEventSource.install());

  it("shows every store with its status, engine, created time and the quota", async () => {
    storesApi([aStore({ id: "s-2", name: "second", status: "provisioning", engine: "medusa" }), aStore()]);
    renderAt("/");
    const list = await screen.findByRole("list", { name: "Your stores" });
    const cards = within(list).getAllByRole("listitem");
    expect(cards.map((card) => within(card).getByRole("link").textContent)).toEqual(["second", "my-shop"]);
    expect(cards[0]).toHaveTextContent("Provisioning");
    expect(cards[0]).toHaveTextContent("Medusa");
    expect(cards[1]).toHaveTextContent("Ready");
    expect(cards[1]).toHaveTextContent("5 minutes ago");
    expect(within(list).getByRole("link", { name: "my-shop" })).toHaveAttribute("href", "/stores/s-1");
    expect(await screen.findByText("2 of 5 stores")).toBeInTheDocument();
  });

  it("says how to create the first store when there is none", async () => {
    storesApi([]);
    renderAt("/");
    expect(await screen.findByRole("heading", { name: "No stores yet" })).toBeInTheDocument();
    expect(screen.getByText(/Choose “Create store”/)).toBeInTheDocument();
  });

  it("shows the API's message and Try again when the list cannot be read", async () => {
    let fail = true;
    stubApi((_method, path) => {
      if (path === "/api/v1/auth/refresh") return session();
      if (path === "/api/v1/stores") return fail ? apiError(403, "insufficient_scope", "This token lacks stores:read.") : { status: 200, body: { stores: [] } };
      if (path === "/api/v1/account") return account(0);
      if (path === "/api/v1/stream-tickets") return ticket;
      return undefined;
    });
    renderAt("/");
    expect(await screen.findByText("This token lacks stores:read.")).toBeInTheDocument();
    fail = false;
    await userEvent.click(screen.getByRole("button", { name: "Try again" }));
    expect(await screen.findByRole("heading", { name: "No stores yet" })).toBeInTheDocument();
  });

  it("moves a badge on with each live event, and adds a store ordered elsewhere", async () => {
    storesApi([aStore({ status: "requested" })]);
    renderAt("/");
    const list = await screen.findByRole("list", { name: "Your stores" });
    await waitFor(() => expect(FakeEventSource.instances).toHaveLength(1));
    const source = FakeEventSource.latest();
    expect(source.url).toBe("/api/v1/events/stream?ticket=spt_x");
    source.open();
    expect(screen.getByText("Live")).toBeInTheDocument();
    // Two events at once (a burst of fast steps): each status is rendered, not only the last.
    const seen: string[] = [];
    const observer = new MutationObserver(() => {
      const text = list.querySelector(".badge")?.textContent ?? "";
      if (seen.at(-1) !== text) seen.push(text);
    });
    observer.observe(list, { subtree: true, childList: true, characterData: true });
    source.emit(anEntry("ProvisioningStarted", 2));
    source.emit(anEntry("StoreReady", 3, { urls: {} }));
    expect(await within(list).findByText("Ready")).toBeInTheDocument();
    observer.disconnect();
    expect(seen).toEqual(["Provisioning", "Ready"]);
    source.emit(anEntry("StoreRequested", 4, { name: "from-another-tab", engine: "medusa", namespace: "store-x" }, "s-7"));
    await waitFor(() => expect(within(list).getAllByRole("link").map((link) => link.textContent)).toEqual(["from-another-tab", "my-shop"]));
    source.fail();
    expect(screen.getByText("Reconnecting…")).toBeInTheDocument();
  });
});

describe("a long list of stores", { timeout: 20_000 }, () => {
  beforeEach(() => FakeEventSource.install());

  it("follows the API's next link with Load more", async () => {
    stubApi((method, path) => {
      if (path === "/api/v1/auth/refresh") return session();
      if (path === "/api/v1/stores") return { status: 200, body: { stores: [aStore({ id: "s-2", name: "newer" })], next: "/api/v1/stores?cursor=abc" } };
      if (path === "/api/v1/stores?cursor=abc") return { status: 200, body: { stores: [aStore()], next: null } };
      if (path === "/api/v1/account") return account(2);
      if (method === "POST" && path === "/api/v1/stream-tickets") return ticket;
      return undefined;
    });
    renderAt("/");
    const list = await screen.findByRole("list", { name: "Your stores" });
    await userEvent.click(screen.getByRole("button", { name: "Load more" }));
    await waitFor(() => expect(within(list).getAllByRole("link").map((link) => link.textContent)).toEqual(["newer", "my-shop"]));
    expect(screen.queryByRole("button", { name: "Load more" })).toBeNull();
  });
});

describe("creating a store", { timeout: 20_000 }, () => {
  beforeEach(() => FakeEventSource.install());

  it("explains the naming rules and each engine", async () => {
    storesApi([]);
    renderAt("/");
    const dialog = await openCreate();
    expect(within(dialog).getByLabelText("Store name")).toHaveAccessibleDescription(NAME_RULES);
    expect(NAME_RULES).toMatch(/lowercase letters, digits and hyphens/i);
    expect(NAME_RULES).toMatch(/3 to 48 characters/);
    expect(NAME_RULES).toMatch(/no two hyphens in a row/);
    expect(NAME_RULES).toMatch(/reserved/);
    for (const engine of ENGINES) {
      expect(within(dialog).getByRole("radio", { name: new RegExp(engine.label) })).toHaveAccessibleDescription(engine.description);
    }
    expect(ENGINES[0]?.description).toMatch(/WordPress.*MySQL/);
    expect(ENGINES[1]?.description).toMatch(/Medusa on Postgres and Redis/);
  });

  it("shows the API's invalid_name message at the name field", async () => {
    storesApi([], (method, path) => {
      if (method === "POST" && path === "/api/v1/stores") return apiError(422, "invalid_name", "The name 'admin' is reserved: choose another.");
      return undefined;
    });
    renderAt("/");
    const dialog = await openCreate();
    await userEvent.type(within(dialog).getByLabelText("Store name"), "admin");
    await userEvent.click(within(dialog).getByRole("button", { name: "Create store" }));
    const name = within(dialog).getByLabelText("Store name");
    await waitFor(() => expect(name).toHaveAttribute("aria-invalid", "true"));
    expect(name).toHaveAccessibleDescription(expect.stringContaining("The name 'admin' is reserved: choose another."));
  });

  it("shows unsupported_engine at the engine and the quota as a form error", async () => {
    let answer = apiError(422, "unsupported_engine", "medusa is not installable here; installable: woocommerce.");
    storesApi([], (method, path) => (method === "POST" && path === "/api/v1/stores" ? answer : undefined));
    renderAt("/");
    const dialog = await openCreate();
    await userEvent.type(within(dialog).getByLabelText("Store name"), "shop");
    await userEvent.click(within(dialog).getByRole("radio", { name: /Medusa/ }));
    await userEvent.click(within(dialog).getByRole("button", { name: "Create store" }));
    const engines = within(dialog).getByRole("group", { name: "Engine" });
    expect(await within(engines).findByText(/medusa is not installable here/)).toBeInTheDocument();
    answer = apiError(403, "store_quota_exceeded", "You have reached your store limit: limit 5, in use 5.");
    await userEvent.click(within(dialog).getByRole("button", { name: "Create store" }));
    expect(await within(dialog).findByText("You have reached your store limit: limit 5, in use 5.")).toBeInTheDocument();
    expect(within(engines).queryByText(/not installable/)).toBeNull();
  });

  it("orders with an Idempotency-Key and lists the new store at once", async () => {
    const created = aStore({ id: "s-3", name: "new-shop", status: "requested" });
    const calls = storesApi([aStore()], (method, path) => (method === "POST" && path === "/api/v1/stores" ? { status: 202, body: created } : undefined));
    renderAt("/");
    const dialog = await openCreate();
    await userEvent.type(within(dialog).getByLabelText("Store name"), "new-shop");
    await userEvent.click(within(dialog).getByRole("button", { name: "Create store" }));
    const list = await screen.findByRole("list", { name: "Your stores" });
    await waitFor(() => expect(within(list).getAllByRole("link").map((link) => link.textContent)).toEqual(["new-shop", "my-shop"]));
    expect(within(list).getByText("Requested")).toBeInTheDocument();
    expect(calls.find((call) => call.method === "POST" && call.path === "/api/v1/stores")?.body).toEqual({ name: "new-shop", engine: "woocommerce" });
    const [headers] = headersOf("/api/v1/stores").filter((sent) => sent["Idempotency-Key"]);
    expect(headers?.["Idempotency-Key"]).toMatch(/^[0-9a-f-]{36}$/);
  });
});
