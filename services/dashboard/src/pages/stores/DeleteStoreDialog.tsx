// Deleting a store, behind a dialog that asks for its name: the button stays disabled until it matches.
import { useQueryClient } from "@tanstack/react-query";
import { useRef, useState, type FormEvent } from "react";
import toast from "react-hot-toast/headless";
import { api } from "../../api/client";
import type { Store } from "../../api/types";
import { Dialog } from "../../components/Dialog";
import { Field } from "../../components/Field";
import { messageOf, toastError } from "../../components/feedback";
import { keys, putStore } from "../../stores/queries";

export function DeleteStoreDialog({ store, open, onClose }: { store: Store; open: boolean; onClose: () => void }) {
  const client = useQueryClient();
  const [typed, setTyped] = useState("");
  const [refusal, setRefusal] = useState<string | null>(null);
  const [pending, setPending] = useState(false);
  const key = useRef(crypto.randomUUID());

  const close = () => {
    setTyped("");
    setRefusal(null);
    onClose();
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (typed !== store.name || pending) return;
    setPending(true);
    try {
      await api.delete(`/api/v1/stores/${encodeURIComponent(store.id)}`, { "Idempotency-Key": key.current });
      putStore(client, { ...store, status: "deleting" });
      void client.invalidateQueries({ queryKey: keys.account });
      toast.success(`Deleting ${store.name}.`);
      close();
    } catch (error) {
      const { message, hint } = messageOf(error);
      setRefusal(hint ? `${message} ${hint}` : message);
      toastError(error);
    } finally {
      setPending(false);
    }
  };

  return (
    <Dialog open={open} title={`Delete ${store.name}`} onClose={close}>
      <form onSubmit={(event) => void submit(event)}>
        <p>This removes the store, its data and its namespace for good.</p>
        <Field
          label={`Type ${store.name} to confirm`}
          value={typed}
          onChange={(event) => setTyped(event.target.value)}
          autoComplete="off"
          error={refusal}
        />
        <div className="actions">
          <button type="button" onClick={close}>
            Cancel
          </button>
          <button type="submit" className="danger" disabled={typed !== store.name || pending}>
            {pending ? "Deleting…" : "Delete store"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
