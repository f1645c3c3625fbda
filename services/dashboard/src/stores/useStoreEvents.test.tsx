import { act, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { TimelineEntry } from "../api/types";
import { LiveStatus } from "../pages/stores/LiveStatus";
import { renderAlone, stubApi } from "../test/render";
import { anEntry, FakeEventSource, ticket } from "./testing";
import { useEventStream } from "./useStoreEvents";

function Probe({ seen }: { seen: TimelineEntry[] }) {
  const state = useEventStream("/api/v1/events/stream", (entry) => seen.push(entry));
  return <LiveStatus state={state} />;
}

async function settle() {
  await act(async () => {
    await vi.advanceTimersByTimeAsync(0);
  });
}

describe("the event stream hook", () => {
  beforeEach(() => {
    vi.useFakeTimers({ shouldAdvanceTime: false });
    FakeEventSource.install();
  });
  afterEach(() => vi.useRealTimers());

  it("says reconnecting after a drop, resumes with a new ticket and the last id, with backoff", async () => {
    let tickets = 0;
    stubApi((method, path) => {
      if (method === "POST" && path === "/api/v1/stream-tickets") {
        tickets += 1;
        return { ...ticket, body: { ticket: `spt_${tickets}`, expires_in: 60 } };
      }
      return undefined;
    });
    const seen: TimelineEntry[] = [];
    renderAlone(<Probe seen={seen} />);
    await settle();
    expect(screen.getByRole("status")).toHaveTextContent("Connecting…");
    const first = FakeEventSource.latest();
    expect(first.url).toBe("/api/v1/events/stream?ticket=spt_1");
    first.open();
    expect(screen.getByRole("status")).toHaveTextContent("Live");
    first.emit(anEntry("StoreRequested", 41));
    first.emit(anEntry("ProvisioningStarted", 42));

    first.fail();
    expect(first.closed).toBe(true);
    expect(screen.getByRole("status")).toHaveTextContent("Reconnecting…");
    // Nothing before the first backoff of 1 s.
    await act(async () => {
      await vi.advanceTimersByTimeAsync(900);
    });
    expect(FakeEventSource.instances).toHaveLength(1);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(100);
    });
    const second = FakeEventSource.latest();
    expect(second.url).toBe("/api/v1/events/stream?ticket=spt_2&last_event_id=42");
    // Refused again (the network is still down): the next wait is 2 s.
    second.fail();
    await act(async () => {
      await vi.advanceTimersByTimeAsync(1999);
    });
    expect(FakeEventSource.instances).toHaveLength(2);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(1);
    });
    const third = FakeEventSource.latest();
    expect(third.url).toBe("/api/v1/events/stream?ticket=spt_3&last_event_id=42");
    third.open();
    expect(screen.getByRole("status")).toHaveTextContent("Live");
    // The missed events arrive; one already handled is not handled twice.
    third.emit(anEntry("ProvisioningStarted", 42));
    third.emit(anEntry("NamespaceCreated", 43));
    expect(seen.map((entry) => entry.sequence)).toEqual([41, 42, 43]);
  });

  it("keeps trying when even the ticket cannot be had, up to 15 s apart", async () => {
    let down = true;
    stubApi((method, path) => {
      if (method === "POST" && path === "/api/v1/stream-tickets") {
        return down ? { status: 503, body: { error: { code: "bus_unavailable", message: "down" } } } : ticket;
      }
      return undefined;
    });
    renderAlone(<Probe seen={[]} />);
    await settle();
    expect(screen.getByRole("status")).toHaveTextContent("Reconnecting…");
    await act(async () => {
      await vi.advanceTimersByTimeAsync(1000 + 2000 + 4000 + 8000 + 15000);
    });
    expect(FakeEventSource.instances).toHaveLength(0);
    down = false;
    await act(async () => {
      await vi.advanceTimersByTimeAsync(15000);
    });
    FakeEventSource.latest().open();
    expect(screen.getByRole("status")).toHaveTextContent("Live");
  });
});
