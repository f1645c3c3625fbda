import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { renderAt, session, stubApi } from "../test/render";

const noSession = { status: 401, body: { error: { code: "invalid_refresh_token", message: "no session" } } };

describe("log in and sign up", () => {
  it("shows the API's message at the field it is about", async () => {
    stubApi((method, path) => {
      if (path === "/api/v1/auth/refresh") return noSession;
      if (method === "POST" && path === "/api/v1/auth/register") {
        return { status: 422, body: { error: { code: "weak_password", message: "Use at least 8 characters." } } };
      }
      return undefined;
    });
    renderAt("/register");
    await userEvent.type(await screen.findByLabelText("Email"), "bob@example.com");
    await userEvent.type(screen.getByLabelText("Password"), "short");
    await userEvent.click(screen.getByRole("button", { name: "Create account" }));
    const password = screen.getByLabelText("Password");
    expect(await screen.findByText("Use at least 8 characters.")).toBeInTheDocument();
    expect(password).toHaveAttribute("aria-invalid", "true");
    expect(password).toHaveAccessibleDescription(expect.stringContaining("Use at least 8 characters."));
  });

  it("sends a visitor without a session to log in, and back to the page afterwards", async () => {
    let loggedIn = false;
    const calls = stubApi((method, path) => {
      if (path === "/api/v1/auth/refresh") return loggedIn ? session() : noSession;
      if (method === "POST" && path === "/api/v1/auth/login") {
        loggedIn = true;
        return session();
      }
      if (path.startsWith("/api/")) return { status: 200, body: {} };
      return undefined;
    });
    renderAt("/integrations/tokens");
    await userEvent.type(await screen.findByLabelText("Email"), "alice@example.com");
    await userEvent.type(screen.getByLabelText("Password"), "correct horse");
    await userEvent.click(screen.getByRole("button", { name: "Log in" }));
    expect(await screen.findByText("alice@example.com")).toBeInTheDocument();
    const login = calls.find((call) => call.path === "/api/v1/auth/login");
    expect(login?.body).toEqual({ email: "alice@example.com", password: "correct horse" });
  });
});
