// Ordering a store: a name (its rules beside the field) and an engine (each one described), sent once with
// an Idempotency-Key so a double click or a retry never orders twice; the API's refusals land at the field
// they are about (docs/api.md#errors).
import { useQueryClient } from "@tanstack/react-query";
import { useRef, useState, type FormEvent } from "react";
import toast from "react-hot-toast/headless";
import { api, ApiError } from "../../api/client";
import type { Store } from "../../api/types";
import { Dialog } from "../../components/Dialog";
import { Field, FormEnd } from "../../components/Field";
import { messageOf, toastError } from "../../components/feedback";
import { keys, putStore } from "../../stores/queries";

export const NAME_RULES =
  "Lowercase letters, digits and hyphens (spaces become hyphens), 3 to 48 characters, no two hyphens in a row, " +
  "not a reserved word such as admin, api or test. It becomes the store's address, so it must be unique.";

export const ENGINES = [
  { id: "woocommerce", label: "WooCommerce", description: "WordPress with WooCommerce, on MySQL: a storefront, its admin and a public Store API." },
  { id: "medusa", label: "Medusa", description: "Medusa on Postgres and Redis: a headless commerce API and its admin; bring your own storefront." },
];

type Errors = { name?: string; engine?: string; form?: string };

function errorsOf(error: unknown): Errors {
  if (!(error instanceof ApiError)) return { form: messageOf(error).message };
  if (error.code === "invalid_name" || error.code === "name_taken") return { name: error.message };
  if (error.code === "unsupported_engine") return { engine: error.message };
  const { message, hint } = messageOf(error);
  return { form: hint ? `${message} ${hint}` : message };
}

export function CreateStoreDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const client = useQueryClient();
  const [name, setName] = useState("");
  const [engine, setEngine] = useState("woocommerce");
  const [errors, setErrors] = useState<Errors>({});
  const [pending, setPending] = useState(false);
  // One key per order: the same order sent twice is one store; a new one after success gets a new key.
  const key = useRef(crypto.randomUUID());

  const close = () => {
    setErrors({});
    onClose();
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (pending) return;
    setPending(true);
    setErrors({});
    try {
      const store = await api.post<Store>("/api/v1/stores", { name, engine }, { "Idempotency-Key": key.current });
      key.current = crypto.randomUUID();
      putStore(client, store);
      void client.invalidateQueries({ queryKey: keys.account });
      toast.success(`Store ${store.name} ordered: it is being provisioned.`);
      setName("");
      close();
    } catch (error) {
      setErrors(errorsOf(error));
      toastError(error);
    } finally {
      setPending(false);
    }
  };

  return (
    <Dialog open={open} title="Create a store" onClose={close}>
      <form onSubmit={(event) => void submit(event)} noValidate>
        <Field
          label="Store name"
          name="name"
          value={name}
          onChange={(event) => setName(event.target.value)}
          hint={NAME_RULES}
          error={errors.name}
          autoComplete="off"
          required
        />
        <fieldset className="engines" aria-describedby={errors.engine ? "engine-error" : undefined}>
          <legend>Engine</legend>
          {ENGINES.map((choice) => (
            <label key={choice.id} className="engine-choice">
              <input
                type="radio"
                name="engine"
                value={choice.id}
                checked={engine === choice.id}
                onChange={() => setEngine(choice.id)}
                aria-describedby={`engine-${choice.id}`}
              />
              <span>
                <strong>{choice.label}</strong>
                <span id={`engine-${choice.id}`} className="field-hint">
                  {choice.description}
                </span>
              </span>
            </label>
          ))}
          {errors.engine && (
            <p id="engine-error" className="field-error" role="alert">
              {errors.engine}
            </p>
          )}
        </fieldset>
        <FormEnd error={errors.form} submit={pending ? "Creating…" : "Create store"} busy={pending} onCancel={close} />
      </form>
    </Dialog>
  );
}
