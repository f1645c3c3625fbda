import { configure, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import toast from "react-hot-toast/headless";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { Toaster } from "../../components/Toaster";
import { renderAt, session, stubApi } from "../../test/render";
import { axeFindings, refusal, webhook } from "./fixtures";

// The page is lazy-loaded: load it once up front, so a first find does not time out on the import; and
// the machine is shared, so waits are generous.
configure({ asyncUtilTimeout: 4000 });
beforeAll(async () => {
  await import("./WebhooksPage");
});
afterEach(() => toast.remove());

describe("webhook endpoints", { timeout: 20000 }, () => {
  it("shows each endpoint's state: enabled, failing, or disabled and why", async () => {
    stubApi((method, path) => {
      if (path === "/api/v1/auth/refresh") return session();
      if (method === "GET" && path === "/api/v1/webhooks") {
        const webhooks = [
          webhook({ last_success_at: "2026-12-01T09:30:00Z" }),
          webhook({ id: "ep_2", url: "https://b.example.com/", failing_since: "2026-12-01T08:00:00Z", events: ["*"] }),
          webhook({ id: "ep_3", url: "https://c.example.com/", enabled: false, disabled_reason: "gone" }),
        ];
        return { status: 200, body: { webhooks, next: null } };
      }
      return undefined;
    });
    renderAt("/integrations/webhooks");
    const rows = within(await screen.findByRole("table", { name: "Your webhook endpoints" })).getAllByRole("row");
    expect(rows).toHaveLength(4);
    expect(rows[1]).toHaveTextContent("Enabled");
    expect(within(rows[1]!).getByRole("link", { name: "https://erp.example.com/hooks" })).toHaveAttribute(
      "href",
      "/integrations/webhooks/ep_1",
    );
    expect(rows[2]).toHaveTextContent("Failing since");
    expect(rows[2]).toHaveTextContent("All events");
    expect(rows[3]).toHaveTextContent("Disabled: the endpoint answered 410 Gone");
    expect(await axeFindings()).toEqual([]);
  });

  it("shows the API's refusals at the URL and at the events, then the signing secret once", async () => {
    const user = userEvent.setup();
    const answers = [
      refusal(422, "invalid_url", "Use an https:// URL with a host."),
      refusal(422, "target_refused", "10.0.0.5 is a private address; webhooks go to public hosts."),
      refusal(422, "invalid_events", "Pick at least one event type."),
      { status: 201, body: { ...webhook(), secret: "whsec_only_once" } },
    ];
    const calls = stubApi((method, path) => {
      if (path === "/api/v1/auth/refresh") return session();
      if (method === "GET" && path === "/api/v1/webhooks") return { status: 200, body: { webhooks: [] } };
      if (method === "POST" && path === "/api/v1/webhooks") return answers.shift();
      return undefined;
    });
    render(<Toaster />);
    renderAt("/integrations/webhooks");
    expect(await screen.findByText("No webhook endpoints yet")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Add endpoint" }));
    const dialog = screen.getByRole("dialog", { name: "Add a webhook endpoint" });
    const url = within(dialog).getByLabelText("URL");
    expect(url).toHaveAccessibleDescription(expect.stringContaining("Loopback, private"));
    const add = within(dialog).getByRole("button", { name: "Add endpoint" });

    await user.type(url, "ftp://x");
    await user.click(add);
    await waitFor(() => expect(url).toHaveAccessibleDescription(expect.stringContaining("Use an https:// URL")));
    expect(url).toHaveAttribute("aria-invalid", "true");

    await user.clear(url);
    await user.type(url, "https://10.0.0.5/hooks");
    await user.click(add);
    await waitFor(() => expect(url).toHaveAccessibleDescription(expect.stringContaining("10.0.0.5 is a private address")));

    await user.click(within(dialog).getByRole("checkbox", { name: /store\.ready/ }));
    await user.click(within(dialog).getByRole("checkbox", { name: /store\.failed/ }));
    await user.click(add);
    const events = within(dialog).getByRole("group", { name: "Events to send" });
    await waitFor(() => expect(events).toHaveAccessibleDescription("Pick at least one event type."));
    expect(url).not.toHaveAttribute("aria-invalid");
    expect(await axeFindings()).toEqual([]);

    await user.click(within(dialog).getByRole("checkbox", { name: /All events/ }));
    expect(within(dialog).getByRole("checkbox", { name: /store\.deleted/ })).toBeDisabled();
    await user.click(add);
    expect(await screen.findByLabelText("Signing secret")).toHaveValue("whsec_only_once");
    expect(await screen.findByText("Endpoint added")).toBeInTheDocument();
    const posts = calls.filter((call) => call.method === "POST" && call.path === "/api/v1/webhooks");
    expect(posts.map((call) => (call.body as { events: string[] }).events)).toEqual([
      ["store.ready", "store.failed"],
      ["store.ready", "store.failed"],
      [],
      ["*"],
    ]);
    expect(posts[3]?.body).toEqual({ url: "https://10.0.0.5/hooks", events: ["*"], description: "" });
  });

  it("shows a failed list with the API's message and what to try", async () => {
    stubApi((method, path) => {
      if (path === "/api/v1/auth/refresh") return session();
      if (method === "GET" && path === "/api/v1/webhooks") {
        return { ...refusal(503, "notifier_unavailable", "The notifier did not answer."), headers: { "Retry-After": "7" } };
      }
      return undefined;
    });
    renderAt("/integrations/webhooks");
    expect(await screen.findByText("The notifier did not answer.", {}, { timeout: 5000 })).toBeInTheDocument();
    expect(screen.getByText("Try again in 7 s.")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Try again" })).toBeInTheDocument();
  });
});
