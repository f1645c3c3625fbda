// axe-core over the store pages in jsdom: labels, roles and names (the browser tests add colour contrast).
import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import axe from "axe-core";
import { beforeEach, describe, expect, it } from "vitest";
import { EVENT_TYPES } from "../../stores/catalogue";
import { aStore, anEntry, FakeEventSource, ticket } from "../../stores/testing";
import { renderAt, session, stubApi } from "../../test/render";

async function violations(): Promise<string[]> {
  const results = await axe.run(document.body, { rules: { "color-contrast": { enabled: false }, region: { enabled: false } } });
  return results.violations.map((violation) => `${violation.id}: ${violation.nodes.map((node) => node.html).join(" | ")}`);
}

// The whole app renders in each test: 20 s, not 5, on a loaded machine shared by the test suite.
describe("the store pages' accessibility", { timeout: 20_000 }, () => {
  beforeEach(() => {
    FakeEventSource.install();
    stubApi((method, path) => {
      if (path === "/api/v1/auth/refresh") return session();
      if (path === "/api/v1/stores") return { status: 200, body: { stores: [aStore({ status: "provisioning" }), aStore({ id: "s-2", name: "other" })] } };
      if (path === "/api/v1/account") return { status: 200, body: { user: session().body.user, quota: { in_use: 2, limit: 5 } } };
      if (path === "/api/v1/stores/s-1") return { status: 200, body: aStore({ status: "provisioning", urls: { storefront: "http://x.stores.localhost/" } }) };
      if (path === "/api/v1/stores/s-1/events") return { status: 200, body: { events: EVENT_TYPES.map((type, index) => anEntry(type, index + 1)) } };
      if (path === "/api/v1/stats/steps") return { status: 200, body: { steps: [] } };
      if (method === "POST" && path === "/api/v1/stream-tickets") return ticket;
      return undefined;
    });
  });

  it("has no violations on the list, with the create dialog open", async () => {
    renderAt("/");
    await screen.findByRole("list", { name: "Your stores" });
    await userEvent.click(screen.getByRole("button", { name: "Create store" }));
    expect(await violations()).toEqual([]);
  });

  it("has no violations on a store's page", async () => {
    renderAt("/stores/s-1");
    await screen.findByRole("list", { name: "Timeline" });
    await waitFor(() => expect(FakeEventSource.instances.length).toBeGreaterThan(0));
    expect(await violations()).toEqual([]);
  });
});
