// Why a store failed (step, reason, message), with Retry when the failure is one a retry can mend.
import { useQueryClient } from "@tanstack/react-query";
import { useRef, useState } from "react";
import toast from "react-hot-toast/headless";
import { api } from "../../api/client";
import type { Store } from "../../api/types";
import { toastError } from "../../components/feedback";
import { keys } from "../../stores/queries";

export function StoreError({ store }: { store: Store }) {
  const client = useQueryClient();
  const [pending, setPending] = useState(false);
  const key = useRef(crypto.randomUUID());
  const error = store.error;
  if (!error || (store.status !== "failed" && store.status !== "deleting")) return null;

  const retry = async () => {
    setPending(true);
    try {
      await api.post(`/api/v1/stores/${encodeURIComponent(store.id)}/retry`, undefined, { "Idempotency-Key": key.current });
      key.current = crypto.randomUUID();
      client.setQueryData<Store>(keys.store(store.id), (known) => known && { ...known, status: "provisioning", error: null });
      toast.success(`Retrying ${store.name}.`);
    } catch (failure) {
      toastError(failure);
    } finally {
      setPending(false);
    }
  };

  return (
    <div className="error-notice store-error" role="alert">
      <p className="error-message">
        Failed at {error.step}: {error.reason}
      </p>
      <p>{error.message}</p>
      {error.retryable && store.status === "failed" && (
        <button type="button" className="primary" onClick={() => void retry()} disabled={pending}>
          {pending ? "Retrying…" : "Retry"}
        </button>
      )}
    </div>
  );
}
