// Log in and sign up: one form, two routes; the API's message is shown at the field it is about.
import { useState, type FormEvent } from "react";
import { Link, Navigate, useLocation, useNavigate } from "react-router";
import { ApiError } from "../api/client";
import { messageOf } from "../components/feedback";
import { Field } from "../components/Field";
import { ThemeToggle } from "../components/theme";
import { useSession } from "../session/session";

const FIELD_OF: Record<string, "email" | "password"> = {
  invalid_email: "email",
  email_taken: "email",
  weak_password: "password",
  invalid_password: "password",
};

export function AuthPage({ mode }: { mode: "login" | "register" }) {
  const session = useSession();
  const navigate = useNavigate();
  const from = (useLocation().state as { from?: string } | null)?.from ?? "/";
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [errors, setErrors] = useState<{ email?: string; password?: string; form?: string }>({});
  const [busy, setBusy] = useState(false);
  if (session.user) return <Navigate to={from} replace />;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setErrors({});
    try {
      await (mode === "login" ? session.login(email, password) : session.register(email, password));
      navigate(from, { replace: true });
    } catch (error) {
      const field = error instanceof ApiError ? FIELD_OF[error.code] : undefined;
      const { message, hint } = messageOf(error);
      setErrors(field ? { [field]: message } : { form: hint ? `${message} ${hint}` : message });
    } finally {
      setBusy(false);
    }
  };

  const registering = mode === "register";
  return (
    <main id="main" className="auth-page">
      <div className="auth-card">
        <div className="auth-head">
          <h1>{registering ? "Create your Storeplane account" : "Log in to Storeplane"}</h1>
          <ThemeToggle />
        </div>
        <form onSubmit={(event) => void submit(event)} noValidate>
          <Field
            label="Email"
            type="email"
            autoComplete="email"
            required
            value={email}
            onChange={(event) => setEmail(event.target.value)}
            error={errors.email}
          />
          <Field
            label="Password"
            type="password"
            autoComplete={registering ? "new-password" : "current-password"}
            required
            hint={registering ? "At least 8 characters." : undefined}
            value={password}
            onChange={(event) => setPassword(event.target.value)}
            error={errors.password}
          />
          {errors.form && (
            <p className="field-error" role="alert">
              {errors.form}
            </p>
          )}
          <button type="submit" className="primary" disabled={busy}>
            {registering ? "Create account" : "Log in"}
          </button>
        </form>
        <p>
          {registering ? (
            <>
              Already have an account? <Link to="/login">Log in</Link>
            </>
          ) : (
            <>
              New here? <Link to="/register">Create an account</Link>
            </>
          )}
        </p>
      </div>
    </main>
  );
}
