import { configure, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import toast from "react-hot-toast/headless";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { Toaster } from "../../components/Toaster";
import { renderAt, session, stubApi } from "../../test/render";
import { axeFindings } from "./fixtures";

// The page is lazy-loaded: load it once up front, so a first find does not time out on the import; and
// the machine is shared, so waits are generous.
configure({ asyncUtilTimeout: 4000 });
beforeAll(async () => {
  await import("./TokensPage");
});
afterEach(() => toast.remove());

const SECRET = "sp_live_5ecr3t_never_listed";
const listed = {
  id: "tok-1",
  name: "ci deploys",
  scopes: ["stores:read", "stores:write"],
  prefix: "sp_live_5ec",
  created_at: "2026-12-01T10:00:00Z",
  last_used_at: null,
};

describe("API tokens", { timeout: 20000 }, () => {
  it("shows a new token once, with a copy button, and the list never shows a secret", async () => {
    const user = userEvent.setup();
    let tokens: unknown[] = [];
    const calls = stubApi((method, path, body) => {
      if (path === "/api/v1/auth/refresh") return session();
      if (method === "GET" && path === "/api/v1/tokens") return { status: 200, body: { tokens, next: null } };
      if (method === "POST" && path === "/api/v1/tokens") {
        tokens = [listed];
        return { status: 201, body: { ...listed, ...(body as object), token: SECRET } };
      }
      return undefined;
    });
    render(<Toaster />);
    renderAt("/integrations/tokens");
    expect(await screen.findByText("No API tokens yet")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Create token" }));
    const dialog = screen.getByRole("dialog", { name: "Create an API token" });
    await user.type(within(dialog).getByLabelText("Name"), "ci deploys");
    await user.click(within(dialog).getByRole("checkbox", { name: /stores:write/ }));
    await user.click(within(dialog).getByRole("button", { name: "Create token" }));

    expect(await screen.findByLabelText("API token")).toHaveValue(SECRET);
    expect(screen.getByText(/shown this once/)).toBeInTheDocument();
    expect(await axeFindings()).toEqual([]);
    await user.click(screen.getByRole("button", { name: "Copy" }));
    expect(await navigator.clipboard.readText()).toBe(SECRET);
    expect(await screen.findByText("Copied")).toBeInTheDocument();
    expect(calls.find((call) => call.path === "/api/v1/tokens" && call.method === "POST")?.body).toEqual({
      name: "ci deploys",
      scopes: ["stores:read", "stores:write"],
    });

    await user.click(screen.getByRole("button", { name: "Done" }));
    const table = await screen.findByRole("table", { name: "Your API tokens" });
    expect(within(table).getByText("ci deploys")).toBeInTheDocument();
    expect(within(table).getByText("stores:write")).toBeInTheDocument();
    expect(within(table).getByText("never")).toBeInTheDocument();
    expect(document.body.innerHTML).not.toContain(SECRET);
    expect(await axeFindings()).toEqual([]);
  });

  it("shows the API's refusals at the field they are about, and the limit for the whole form", async () => {
    const user = userEvent.setup();
    const answers = [
      { status: 409, body: { error: { code: "token_name_taken", message: "You already have a token named ci." } } },
      { status: 409, body: { error: { code: "token_limit_reached", message: "You have 20 tokens, the most a user may have." } } },
    ];
    stubApi((method, path) => {
      if (path === "/api/v1/auth/refresh") return session();
      if (method === "GET" && path === "/api/v1/tokens") return { status: 200, body: { tokens: [] } };
      if (method === "POST" && path === "/api/v1/tokens") return answers.shift();
      return undefined;
    });
    renderAt("/integrations/tokens");
    await user.click(await screen.findByRole("button", { name: "Create token" }));
    const dialog = screen.getByRole("dialog");
    const name = within(dialog).getByLabelText("Name");
    await user.type(name, "ci");
    await user.click(within(dialog).getByRole("button", { name: "Create token" }));
    await waitFor(() => expect(name).toHaveAccessibleDescription(expect.stringContaining("already have a token named ci")));
    expect(name).toHaveAttribute("aria-invalid", "true");

    await user.click(within(dialog).getByRole("button", { name: "Create token" }));
    expect(await within(dialog).findByText("You have 20 tokens, the most a user may have.")).toBeInTheDocument();
    expect(name).not.toHaveAttribute("aria-invalid");
  });

  it("revokes a token only after a confirmation", async () => {
    const user = userEvent.setup();
    let tokens = [listed];
    const calls = stubApi((method, path) => {
      if (path === "/api/v1/auth/refresh") return session();
      if (method === "GET" && path === "/api/v1/tokens") return { status: 200, body: { tokens } };
      if (method === "DELETE" && path === "/api/v1/tokens/tok-1") {
        tokens = [];
        return { status: 204 };
      }
      return undefined;
    });
    renderAt("/integrations/tokens");
    await user.click(await screen.findByRole("button", { name: "Revoke ci deploys" }));
    expect(calls.some((call) => call.method === "DELETE")).toBe(false);
    await user.click(within(screen.getByRole("dialog", { name: "Revoke this token?" })).getByRole("button", { name: "Revoke" }));
    expect(await screen.findByText("No API tokens yet")).toBeInTheDocument();
    expect(calls.filter((call) => call.method === "DELETE")).toHaveLength(1);
  });

  it("shows a failed list with the API's message and a way to try again", async () => {
    const user = userEvent.setup();
    let fail = true;
    stubApi((method, path) => {
      if (path === "/api/v1/auth/refresh") return session();
      if (method === "GET" && path === "/api/v1/tokens") {
        return fail
          ? { status: 403, body: { error: { code: "session_required", message: "Tokens are managed with a login session." } } }
          : { status: 200, body: { tokens: [listed] } };
      }
      return undefined;
    });
    renderAt("/integrations/tokens");
    expect(await screen.findByText("Tokens are managed with a login session.")).toBeInTheDocument();
    fail = false;
    await user.click(screen.getByRole("button", { name: "Try again" }));
    expect(await screen.findByText("ci deploys")).toBeInTheDocument();
  });
});
