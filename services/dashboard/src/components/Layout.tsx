// The frame of every signed-in page: a skip link, the navigation, who is logged in, and the page itself.
import { NavLink, Outlet, useNavigate } from "react-router";
import { useSession } from "../session/session";
import { toastError } from "./feedback";
import { ThemeToggle } from "./theme";

export function Layout() {
  const { user, logout } = useSession();
  const navigate = useNavigate();
  const end = async (everywhere: boolean) => {
    try {
      await logout(everywhere);
    } catch (error) {
      toastError(error);
    }
    navigate("/login");
  };
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="top-bar">
        <NavLink to="/" className="brand">
          Storeplane
        </NavLink>
        <nav aria-label="Main">
          <NavLink to="/" end>
            Stores
          </NavLink>
          <NavLink to="/integrations/tokens">API tokens</NavLink>
          <NavLink to="/integrations/webhooks">Webhooks</NavLink>
          {user?.role === "admin" && <NavLink to="/admin">Admin</NavLink>}
        </nav>
        <div className="account">
          <span className="user-email">{user?.email}</span>
          <ThemeToggle />
          <button type="button" className="ghost" onClick={() => void end(false)}>
            Log out
          </button>
          <button type="button" className="ghost" onClick={() => void end(true)}>
            Log out everywhere
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
    </>
  );
}
