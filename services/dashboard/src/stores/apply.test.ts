import { QueryClient, type InfiniteData } from "@tanstack/react-query";
import { describe, expect, it } from "vitest";
import type { StoreList } from "../api/types";
import { applyToCache, keys, putStore } from "./queries";
import { applyEntry, storeFromRequest } from "./apply";
import { EVENT_TYPES } from "./catalogue";
import { progressOf, STEPS } from "./progress";
import { aStore, anEntry } from "./testing";

describe("a live event applied to a store", () => {
  it("moves it along the lifecycle, never backwards", () => {
    let store = aStore({ status: "requested" });
    store = applyEntry(store, anEntry("ProvisioningStarted", 2));
    expect(store.status).toBe("provisioning");
    store = applyEntry(store, anEntry("StoreReady", 3, { urls: { storefront: "http://my-shop.stores.localhost/" } }));
    expect(store).toMatchObject({ status: "ready", urls: { storefront: "http://my-shop.stores.localhost/" } });
    // A late, redelivered step event does not pull a ready store back.
    expect(applyEntry(store, anEntry("ChartInstalled", 4)).status).toBe("ready");
    expect(applyEntry(store, anEntry("StoreDeleted", 5)).status).toBe("deleted");
  });

  it("carries a failure's error, and a retry moves only a failed store on", () => {
    const failed = applyEntry(
      aStore({ status: "provisioning" }),
      anEntry("ProvisioningFailed", 7, { step: "chart", reason: "ImagePullBackOff", message: "no image", retryable: true }),
    );
    expect(failed).toMatchObject({ status: "failed", error: { step: "chart", reason: "ImagePullBackOff", retryable: true } });
    expect(applyEntry(failed, anEntry("StoreRetryRequested", 8))).toMatchObject({ status: "provisioning", error: null });
    expect(applyEntry(aStore({ status: "ready" }), anEntry("StoreRetryRequested", 8)).status).toBe("ready");
  });

  it("makes a store of a StoreRequested seen first on the stream", () => {
    const entry = anEntry("StoreRequested", 1, { name: "other-tab", engine: "medusa", namespace: "store-other-tab-1" }, "s-9");
    expect(storeFromRequest(entry)).toMatchObject({ id: "s-9", name: "other-tab", engine: "medusa", status: "requested" });
    expect(storeFromRequest(anEntry("StoreReady", 2))).toBeNull();
  });
});

describe("the provisioning progress", () => {
  it("ticks the done steps with durations and marks the running one", () => {
    const steps = progressOf([anEntry("StoreRequested", 1), anEntry("ProvisioningStarted", 2), anEntry("NamespaceCreated", 4)], "provisioning");
    expect(steps.map((step) => step.state)).toEqual(["done", "done", "done", "running", "waiting", "waiting", "waiting", "waiting", "waiting"]);
    expect(steps[2]?.seconds).toBe(2);
  });

  it("marks the step that failed, and starts over on a retry", () => {
    const failedRun = [anEntry("StoreRequested", 1), anEntry("ProvisioningStarted", 2), anEntry("ProvisioningFailed", 3, { step: "namespace" })];
    expect(progressOf(failedRun, "failed")[2]?.state).toBe("failed");
    const retried = progressOf([...failedRun, anEntry("StoreRetryRequested", 4), anEntry("ProvisioningStarted", 5)], "provisioning");
    expect(retried[2]?.state).toBe("running");
  });
});

describe("the provisioning progress after any event type", () => {
  const provisioned = STEPS.map((step, index) => anEntry(step.event, index + 1));
  const midway = provisioned.slice(0, 4);

  // The types that are not steps: notes, the later lifecycle, a retry, a failure.
  it.each(EVENT_TYPES.filter((type) => !STEPS.some((step) => step.event === type)))(
    "%s after a provisioning leaves every step in a known state, none running twice",
    (type) => {
      for (const [timeline, status] of [
        [provisioned, "ready"],
        [midway, "provisioning"],
      ] as const) {
        const steps = progressOf([...timeline, anEntry(type, 20)], status);
        expect(steps.map((step) => step.event)).toEqual(STEPS.map((step) => step.event));
        expect(steps.every((step) => ["done", "running", "failed", "waiting"].includes(step.state))).toBe(true);
        expect(steps.filter((step) => step.state === "running").length).toBeLessThanOrEqual(1);
      }
    },
  );

  it("keeps a finished provisioning's steps done through notes, degradation and deletion", () => {
    const done = progressOf(provisioned, "ready").map((step) => step.state);
    for (const type of ["StepRetrying", "StepStalled", "CredentialsRevealed", "StoreDegraded", "StoreDeletionRequested", "ReleaseUninstalled", "StoreDeleted"]) {
      expect(progressOf([...provisioned, anEntry(type, 20)], "ready").map((step) => step.state)).toEqual(done);
    }
    expect(done.every((state) => state === "done")).toBe(true);
  });

  it("leaves the running step running through a retry note or a stall", () => {
    const running = progressOf(midway, "provisioning").map((step) => step.state);
    expect(running[4]).toBe("running");
    for (const type of ["StepRetrying", "StepStalled"]) {
      expect(progressOf([...midway, anEntry(type, 20, { step: "limits" })], "provisioning").map((step) => step.state)).toEqual(running);
    }
  });
});

describe("the cache of stores", () => {
  it("keeps a store that live events moved on when the 202 answer arrives after them", () => {
    const client = new QueryClient();
    client.setQueryData<InfiniteData<StoreList, string>>(keys.stores, { pages: [{ stores: [aStore({ id: "s-0", name: "old" })] }], pageParams: ["/api/v1/stores"] });
    applyToCache(client, anEntry("StoreRequested", 1, { name: "my-shop", engine: "woocommerce", namespace: "ns" }));
    applyToCache(client, anEntry("ProvisioningStarted", 2));
    putStore(client, aStore({ status: "requested" }));
    const stores = client.getQueryData<InfiniteData<StoreList, string>>(keys.stores)?.pages[0]?.stores;
    expect(stores?.map((store) => [store.name, store.status])).toEqual([
      ["my-shop", "provisioning"],
      ["old", "ready"],
    ]);
  });
});
