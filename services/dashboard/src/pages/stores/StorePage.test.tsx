import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { Store, TimelineEntry } from "../../api/types";
import { EVENT_KINDS, EVENT_TYPES } from "../../stores/catalogue";
import { STEPS } from "../../stores/progress";
import { aStore, anEntry, apiError, FakeEventSource, headersOf, ticket } from "../../stores/testing";
import { renderAt, renderAlone, session, stubApi, type Answer } from "../../test/render";
import { Timeline } from "./Timeline";

type Extra = (method: string, path: string) => Answer | undefined;

function storeApi(store: Store, events: TimelineEntry[], extra: Extra = () => undefined) {
  return stubApi((method, path) => {
    if (path === "/api/v1/auth/refresh") return session();
    if (method === "GET" && path === `/api/v1/stores/${store.id}`) return { status: 200, body: store };
    if (method === "GET" && path === `/api/v1/stores/${store.id}/events`) return { status: 200, body: { events, next: null } };
    if (method === "GET" && path === "/api/v1/stats/steps") {
      return { status: 200, body: { steps: [{ engine: "woocommerce", step: "quota", samples: 3, p50_seconds: 0.8, p95_seconds: 2 }] } };
    }
    if (method === "POST" && path === "/api/v1/stream-tickets") return ticket;
    return extra(method, path);
  });
}

const provisioned = STEPS.map((step, index) => anEntry(step.event, index + 1, step.event === "StoreReady" ? { urls: {} } : {}));

// The whole app renders in each test: 20 s, not 5, on a loaded machine shared by the test suite.
describe("the timeline", { timeout: 20_000 }, () => {
  it("renders every event type with its icon and label", () => {
    const entries = EVENT_TYPES.map((type, index) => anEntry(type, index + 1, { step: "chart", findings: [] }));
    renderAlone(<Timeline entries={entries} />);
    const items = within(screen.getByRole("list", { name: "Timeline" })).getAllByRole("listitem");
    expect(items).toHaveLength(EVENT_TYPES.length);
    for (const type of EVENT_TYPES) {
      const item = items.find((candidate) => candidate.dataset.type === type);
      const kind = EVENT_KINDS[type];
      expect(item, type).toBeDefined();
      expect(item).toHaveTextContent(kind?.label ?? "");
      expect(item?.querySelector(".timeline-icon")).toHaveTextContent(kind?.icon ?? "");
      expect(item?.querySelector("time")).toHaveAttribute("title");
    }
  });

  it("renders an unknown type with the default icon and a readable label", () => {
    renderAlone(<Timeline entries={[anEntry("SomethingNewHappened", 1, { whatever: { nested: true } })]} />);
    const item = screen.getByRole("listitem");
    expect(item).toHaveTextContent("Something New Happened");
    expect(item.querySelector(".timeline-icon")).toHaveTextContent("•");
  });

  it("shows a stalled step with its findings", () => {
    const stalled = anEntry("StepStalled", 5, {
      step: "readiness",
      running_for_seconds: 600,
      threshold_seconds: 180,
      findings: [{ kind: "pod_waiting", object: "pod/wordpress-0", reason: "ImagePullBackOff", message: "Back-off pulling image" }],
    });
    renderAlone(<Timeline entries={[stalled]} />);
    expect(screen.getByText(/readiness has run for 600 s/)).toBeInTheDocument();
    const findings = screen.getByRole("list", { name: "What the namespace shows" });
    expect(findings).toHaveTextContent("pod/wordpress-0 pod_waiting: ImagePullBackOff. Back-off pulling image");
  });
});

describe("the store page", { timeout: 20_000 }, () => {
  beforeEach(() => FakeEventSource.install());

  it("lists every step ticked with its duration, the URLs as links, and follows the store's own stream", async () => {
    const store = aStore({ urls: { storefront: "http://my-shop.stores.localhost/", admin: "http://my-shop.stores.localhost/wp-admin/" } });
    storeApi(store, provisioned);
    renderAt("/stores/s-1");
    expect(await screen.findByRole("heading", { name: "my-shop" })).toBeInTheDocument();
    expect(screen.getByText("store-my-shop-0a1b2c3d")).toBeInTheDocument();
    const steps = within(await screen.findByRole("list", { name: "Provisioning steps" })).getAllByRole("listitem");
    expect(steps.map((step) => step.querySelector(".step-label")?.textContent)).toEqual(STEPS.map((step) => step.label));
    for (const step of steps) expect(step).toHaveTextContent("✓");
    expect(steps[2]).toHaveTextContent("done, 1.0 s");
    expect(screen.queryByRole("progressbar")).toBeNull();
    expect(screen.getByRole("link", { name: "http://my-shop.stores.localhost/" })).toHaveAttribute("href", "http://my-shop.stores.localhost/");
    await waitFor(() => expect(FakeEventSource.instances).toHaveLength(1));
    expect(FakeEventSource.latest().url).toBe(`/api/v1/stores/s-1/events/stream?ticket=spt_x&last_event_id=${provisioned.length}`);
  });

  it("shows the progress bar, the running step and the estimate while provisioning; live events tick it on", async () => {
    const soon = new Date(Date.now() + 150_000).toISOString();
    storeApi(aStore({ status: "provisioning", estimated_ready_at: soon }), provisioned.slice(0, 3));
    renderAt("/stores/s-1");
    const bar = await screen.findByRole("progressbar", { name: "Provisioning: 3 of 9 steps" });
    expect(bar).toHaveAttribute("value", "3");
    expect(screen.getByText(/Likely ready/)).toHaveTextContent("in 2 minutes");
    const running = screen.getByText("Resource quota").closest("li");
    expect(running).toHaveAttribute("aria-current", "step");
    await waitFor(() => expect(running).toHaveTextContent("running (usually 800 ms)"));
    await waitFor(() => expect(FakeEventSource.instances).toHaveLength(1));
    const source = FakeEventSource.latest();
    source.open();
    source.emit(anEntry("QuotaApplied", 4, {}, "s-1"));
    expect(await screen.findByRole("progressbar", { name: "Provisioning: 4 of 9 steps" })).toBeInTheDocument();
    source.fail();
    expect(screen.getByText("Reconnecting…")).toBeInTheDocument();
  });

  it("shows the error with Retry when it is retryable", async () => {
    const error = { step: "chart", reason: "ChartFailed", message: "helm: timed out waiting", retryable: true };
    const calls = storeApi(aStore({ status: "failed", error }), provisioned.slice(0, 7), (method, path) =>
      method === "POST" && path === "/api/v1/stores/s-1/retry" ? { status: 202, body: aStore({ status: "provisioning" }) } : undefined,
    );
    renderAt("/stores/s-1");
    const alert = await screen.findByText("Failed at chart: ChartFailed");
    expect(alert.parentElement).toHaveTextContent("helm: timed out waiting");
    await userEvent.click(screen.getByRole("button", { name: "Retry" }));
    await waitFor(() => expect(calls.some((call) => call.path === "/api/v1/stores/s-1/retry")).toBe(true));
    expect(headersOf("/api/v1/stores/s-1/retry")[0]?.["Idempotency-Key"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(await screen.findByText("Provisioning", { selector: ".badge" })).toBeInTheDocument();
  });

  it("shows an error that a retry cannot fix without Retry", async () => {
    const error = { step: "namespace", reason: "NameConflict", message: "the namespace belongs to another", retryable: false };
    storeApi(aStore({ status: "failed", error }), provisioned.slice(0, 3));
    renderAt("/stores/s-1");
    const alert = await screen.findByText("Failed at namespace: NameConflict");
    expect(alert.parentElement).toHaveTextContent("the namespace belongs to another");
    expect(screen.queryByRole("button", { name: "Retry" })).not.toBeInTheDocument();
  });

  it("reveals the admin login once: a warning first, then the values, then already revealed", async () => {
    let revealed = false;
    const writeText = vi.fn(async () => undefined);
    vi.stubGlobal("navigator", { ...navigator, clipboard: { writeText } });
    storeApi(aStore(), provisioned, (method, path) => {
      if (method !== "GET" || path !== "/api/v1/stores/s-1/credentials") return undefined;
      if (revealed) return apiError(410, "credentials_already_revealed", "The admin login was revealed once already.");
      revealed = true;
      return { status: 200, body: { username: "admin", password: "s3cret-pass", email: "admin@my-shop.stores.localhost", admin_url: "http://my-shop.stores.localhost/wp-admin/" } };
    });
    const first = renderAt("/stores/s-1");
    expect(await screen.findByText(/shown once only/)).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Reveal admin login" }));
    expect(await screen.findByText("s3cret-pass")).toBeInTheDocument();
    expect(screen.getByText(/not shown again/)).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Copy password" }));
    expect(writeText).toHaveBeenCalledWith("s3cret-pass");
    first.unmount();
    renderAt("/stores/s-1");
    await userEvent.click(await screen.findByRole("button", { name: "Reveal admin login" }));
    expect(await screen.findByText(/already revealed/)).toBeInTheDocument();
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("says already revealed when the timeline shows it was", async () => {
    storeApi(aStore(), [...provisioned, anEntry("CredentialsRevealed", 10)]);
    renderAt("/stores/s-1");
    expect(await screen.findByText(/already revealed/)).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Reveal admin login" })).toBeNull();
  });

  it("deletes only once the name is typed, and shows store_busy", async () => {
    let busy = true;
    storeApi(aStore(), provisioned, (method, path) => {
      if (method !== "DELETE" || path !== "/api/v1/stores/s-1") return undefined;
      return busy ? apiError(409, "store_busy", "The store is being provisioned: delete it once it is ready or failed.") : { status: 202, body: aStore({ status: "deleting" }) };
    });
    renderAt("/stores/s-1");
    await userEvent.click(await screen.findByRole("button", { name: "Delete store…" }));
    const dialog = screen.getByRole("dialog", { name: "Delete my-shop" });
    const confirm = within(dialog).getByRole("button", { name: "Delete store" });
    expect(confirm).toBeDisabled();
    await userEvent.type(within(dialog).getByLabelText("Type my-shop to confirm"), "my-sho");
    expect(confirm).toBeDisabled();
    await userEvent.type(within(dialog).getByLabelText("Type my-shop to confirm"), "p");
    expect(confirm).toBeEnabled();
    await userEvent.click(confirm);
    expect(await within(dialog).findByText(/being provisioned: delete it once/)).toBeInTheDocument();
    busy = false;
    await userEvent.click(confirm);
    expect(await screen.findByText("Deleting", { selector: ".badge" })).toBeInTheDocument();
    expect(headersOf("/api/v1/stores/s-1")).toContainEqual(expect.objectContaining({ "Idempotency-Key": expect.stringMatching(/^[0-9a-f-]{36}$/) }));
  });

  it("keeps the trace collapsed, and says calmly when traces are unavailable", async () => {
    storeApi(aStore(), provisioned, (method, path) =>
      method === "GET" && path === "/api/v1/stores/s-1/trace" ? apiError(503, "traces_unavailable", "No trace backend.") : undefined,
    );
    renderAt("/stores/s-1");
    const toggle = await screen.findByRole("button", { name: "Show trace" });
    expect(toggle).toHaveAttribute("aria-expanded", "false");
    await userEvent.click(toggle);
    expect(await screen.findByText(/Traces are not collected/)).toBeInTheDocument();
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("draws the trace as a waterfall of positioned bars", async () => {
    const span = (id: string, start: number, ms: number, status = "ok") => ({
      span_id: id,
      parent_id: null,
      service: "provisioner",
      name: `step ${id}`,
      start: new Date(Date.UTC(2026, 11, 1, 10, 0, 0, start)).toISOString(),
      duration_ms: ms,
      status,
      attributes: {},
    });
    storeApi(aStore(), provisioned, (method, path) =>
      method === "GET" && path === "/api/v1/stores/s-1/trace"
        ? { status: 200, body: { trace_id: "t", spans: [span("a", 0, 1000), span("b", 500, 500, "error")], earlier_trace_ids: [] } }
        : undefined,
    );
    renderAt("/stores/s-1");
    await userEvent.click(await screen.findByRole("button", { name: "Show trace" }));
    const rows = within(await screen.findByRole("list", { name: "Trace spans" })).getAllByRole("listitem");
    expect(rows[1]).toHaveTextContent("provisioner step b · 500 ms · error");
    const bar = rows[1]?.querySelector<HTMLElement>(".span-bar");
    expect(bar?.style.marginLeft).toBe("50%");
    expect(bar?.style.width).toBe("50%");
  });

  it("shows the API's message when the store cannot be read", async () => {
    stubApi((_method, path) => {
      if (path === "/api/v1/auth/refresh") return session();
      if (path === "/api/v1/stores/s-1") return apiError(404, "store_not_found", "No store s-1 for you.");
      if (path === "/api/v1/stores/s-1/events") return apiError(404, "store_not_found", "No store s-1 for you.");
      return undefined;
    });
    renderAt("/stores/s-1");
    expect(await screen.findByText("No store s-1 for you.")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Try again" })).toBeInTheDocument();
  });

  it("reads every page of a long timeline, following the API's next links", async () => {
    const store = aStore();
    stubApi((method, path) => {
      if (path === "/api/v1/auth/refresh") return session();
      if (path === "/api/v1/stores/s-1") return { status: 200, body: store };
      if (path === "/api/v1/stores/s-1/events") return { status: 200, body: { events: provisioned.slice(0, 5), next: "/api/v1/stores/s-1/events?cursor=c5" } };
      if (path === "/api/v1/stores/s-1/events?cursor=c5") return { status: 200, body: { events: provisioned.slice(5), next: null } };
      if (path === "/api/v1/stats/steps") return { status: 200, body: { steps: [] } };
      if (method === "POST" && path === "/api/v1/stream-tickets") return ticket;
      return undefined;
    });
    renderAt("/stores/s-1");
    const items = within(await screen.findByRole("list", { name: "Timeline" })).getAllByRole("listitem");
    expect(items).toHaveLength(provisioned.length);
    expect(within(screen.getByRole("list", { name: "Provisioning steps" })).getAllByText("✓")).toHaveLength(STEPS.length);
  });
});
