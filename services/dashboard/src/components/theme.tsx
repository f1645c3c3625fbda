// Dark mode follows the system until the user picks one; the pick (not a secret) is kept in localStorage.
import { useEffect, useState } from "react";

type Theme = "system" | "light" | "dark";
const KEY = "storeplane.theme";
const NEXT: Record<Theme, Theme> = { system: "dark", dark: "light", light: "system" };

function stored(): Theme {
  const value = localStorage.getItem(KEY);
  return value === "light" || value === "dark" ? value : "system";
}

export function ThemeToggle() {
  const [theme, setTheme] = useState<Theme>(stored);
  useEffect(() => {
    if (theme === "system") {
      delete document.documentElement.dataset.theme;
      localStorage.removeItem(KEY);
    } else {
      document.documentElement.dataset.theme = theme;
      localStorage.setItem(KEY, theme);
    }
  }, [theme]);
  return (
    <button type="button" className="ghost" onClick={() => setTheme(NEXT[theme])} aria-label={`Theme: ${theme}. Change theme`}>
      {theme === "dark" ? "☾ Dark" : theme === "light" ? "☀ Light" : "◐ System"}
    </button>
  );
}
