import { configure, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import toast from "react-hot-toast/headless";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { Toaster } from "../../components/Toaster";
import { renderAt, session, stubApi, type Answer } from "../../test/render";
import { axeFindings, delivery, refusal, webhook } from "./fixtures";

// The page is lazy-loaded: load it once up front, so a first find does not time out on the import; and
// the machine is shared, so waits are generous.
configure({ asyncUtilTimeout: 4000 });
beforeAll(async () => {
  await import("./WebhookPage");
});
afterEach(() => toast.remove());

const ENDPOINT = "/api/v1/webhooks/ep_1";
const LOG = `${ENDPOINT}/deliveries`;

/** The endpoint and its log, with `extra` answering whatever else the test expects. */
function endpointApi(log: (path: string) => Answer | undefined, extra: (method: string, path: string, body: unknown) => Answer | undefined = () => undefined) {
  return stubApi((method, path, body) => {
    if (path === "/api/v1/auth/refresh") return session();
    if (method === "GET" && path === ENDPOINT) return { status: 200, body: webhook() };
    if (method === "GET" && path.startsWith(LOG)) return log(path);
    return extra(method, path, body);
  });
}

describe("a webhook endpoint's page", { timeout: 20000 }, () => {
  it("renders each message with its attempts, and resend sends that message again", async () => {
    const user = userEvent.setup();
    const calls = endpointApi(
      () => ({ status: 200, body: { deliveries: [delivery()], next: null } }),
      (method, path) =>
        method === "POST" && path === `${LOG}/msg_1/resend` ? { status: 202, body: delivery({ status: "pending" }) } : undefined,
    );
    render(<Toaster />);
    renderAt("/integrations/webhooks/ep_1");
    const attempts = await screen.findByRole("table", { name: "Attempts of msg_1" });
    const rows = within(attempts).getAllByRole("row");
    expect(rows).toHaveLength(3);
    expect(rows[1]).toHaveTextContent("HTTP 500");
    expect(rows[1]).toHaveTextContent("41 ms");
    expect(within(rows[1]!).getByText("First KiB of the answer").closest("details")).toHaveTextContent("upstream exploded");
    expect(rows[2]).toHaveTextContent("connection refused");
    expect(rows[2]).toHaveTextContent("3 ms");
    expect(rows[2]).toHaveTextContent("empty");
    expect(await axeFindings()).toEqual([]);

    await user.click(screen.getByRole("button", { name: "Resend store.ready msg_1" }));
    expect(await screen.findByText("store.ready queued to go again")).toBeInTheDocument();
    expect(calls.filter((call) => call.path === `${LOG}/msg_1/resend`)).toHaveLength(1);
    // The log is read again after a resend.
    await waitFor(() => expect(calls.filter((call) => call.path === LOG).length).toBe(2));
  });

  it("filters by status and loads older pages from `next`, or from `next_before` when that is all there is", async () => {
    const user = userEvent.setup();
    const calls = endpointApi((path) => {
      if (path === LOG) return { status: 200, body: { deliveries: [delivery()], next: `${LOG}?cursor=abc` } };
      if (path === `${LOG}?cursor=abc`) return { status: 200, body: { deliveries: [delivery({ id: "msg_0" })], next: null } };
      if (path === `${LOG}?status=failed`) {
        return { status: 200, body: { deliveries: [delivery({ id: "msg_9" })], next_before: "2026-12-01T08:00:00Z" } };
      }
      if (path === `${LOG}?status=failed&before=2026-12-01T08%3A00%3A00Z`) {
        return { status: 200, body: { deliveries: [delivery({ id: "msg_8" })], next_before: null } };
      }
      if (path === `${LOG}?status=succeeded`) return { status: 200, body: { deliveries: [], next: null } };
      return undefined;
    });
    renderAt("/integrations/webhooks/ep_1");
    await screen.findByRole("table", { name: "Attempts of msg_1" });
    await user.click(screen.getByRole("button", { name: "Load more" }));
    expect(await screen.findByRole("table", { name: "Attempts of msg_0" })).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Load more" })).not.toBeInTheDocument();

    await user.selectOptions(screen.getByLabelText("Status"), "failed");
    expect(await screen.findByRole("table", { name: "Attempts of msg_9" })).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Load more" }));
    expect(await screen.findByRole("table", { name: "Attempts of msg_8" })).toBeInTheDocument();

    await user.selectOptions(screen.getByLabelText("Status"), "succeeded");
    expect(await screen.findByText("No succeeded messages")).toBeInTheDocument();
    expect(calls.map((call) => call.path).filter((path) => path.startsWith(LOG))).toEqual([
      LOG,
      `${LOG}?cursor=abc`,
      `${LOG}?status=failed`,
      `${LOG}?status=failed&before=2026-12-01T08%3A00%3A00Z`,
      `${LOG}?status=succeeded`,
    ]);
  });

  it("sends a test, turns the endpoint off, and recovers failed messages since a moment", async () => {
    const user = userEvent.setup();
    const calls = endpointApi(
      () => ({ status: 200, body: { deliveries: [] } }),
      (method, path, body) => {
        if (method === "POST" && path === `${ENDPOINT}/test`) return { status: 202, body: delivery({ event_type: "webhook.test" }) };
        if (method === "PATCH" && path === ENDPOINT) {
          return { status: 200, body: webhook({ ...(body as object), disabled_reason: "user", updated_at: "2026-12-01T11:00:00Z" }) };
        }
        if (method === "POST" && path === `${ENDPOINT}/recover`) return { status: 202, body: { queued: 3 } };
        return undefined;
      },
    );
    render(<Toaster />);
    renderAt("/integrations/webhooks/ep_1");
    expect(await screen.findByText("No messages yet")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Send a test" }));
    expect(await screen.findByText(/Test message queued/)).toBeInTheDocument();

    await user.click(screen.getByRole("checkbox", { name: /Enabled/ }));
    await user.click(screen.getByRole("button", { name: "Save changes" }));
    expect(await screen.findByText("Disabled: turned off by you")).toBeInTheDocument();
    expect(calls.find((call) => call.method === "PATCH")?.body).toEqual({ enabled: false });

    await user.type(screen.getByLabelText("Recover failed messages since"), "2026-12-01T09:30");
    await user.click(screen.getByRole("button", { name: "Recover" }));
    expect(await screen.findByText("3 failed messages queued again")).toBeInTheDocument();
    const since = (calls.find((call) => call.path === `${ENDPOINT}/recover`)?.body as { since: string }).since;
    expect(new Date(since).getTime()).toBe(new Date("2026-12-01T09:30").getTime());
  });

  it("shows the API's refusal of a change at the field it is about", async () => {
    const user = userEvent.setup();
    endpointApi(
      () => ({ status: 200, body: { deliveries: [] } }),
      (method, path) =>
        method === "PATCH" && path === ENDPOINT
          ? refusal(422, "target_refused", "127.0.0.2 is a loopback address; webhooks go to public hosts.")
          : undefined,
    );
    renderAt("/integrations/webhooks/ep_1");
    const url = await screen.findByLabelText("URL");
    await user.clear(url);
    await user.type(url, "http://127.0.0.2:9/hooks");
    await user.click(screen.getByRole("button", { name: "Save changes" }));
    await waitFor(() => expect(url).toHaveAccessibleDescription(expect.stringContaining("127.0.0.2 is a loopback address")));
  });

  it("says so when the endpoint does not exist", async () => {
    stubApi((method, path) => {
      if (path === "/api/v1/auth/refresh") return session();
      if (method === "GET" && path === "/api/v1/webhooks/ep_x") return refusal(404, "webhook_not_found", "No such webhook endpoint.");
      return undefined;
    });
    renderAt("/integrations/webhooks/ep_x");
    expect(await screen.findByText("No such webhook endpoint.")).toBeInTheDocument();
  });
});
