// The dashboard's routes. Every page but log in and sign up needs a session; the admin pages need the role.
// Deep links work because the gateway answers every non-API path with index.html.
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { lazy, Suspense, type ComponentType } from "react";
import { Toaster } from "./components/Toaster";
import { createBrowserRouter, RouterProvider } from "react-router";
import { ApiError } from "./api/client";
import { Layout } from "./components/Layout";
import { AuthPage } from "./pages/AuthPage";
import { NotFoundPage } from "./pages/NotFoundPage";
import { StorePage } from "./pages/stores/StorePage";
import { StoresPage } from "./pages/stores/StoresPage";
import { RequireAdmin, RequireSession } from "./session/guards";
import { SessionProvider } from "./session/session";
import { Skeleton } from "./components/feedback";

// Pages off the first screen load when first opened, keeping the first load's JavaScript small.
function later(load: () => Promise<ComponentType>) {
  const Page = lazy(async () => ({ default: await load() }));
  return (
    <Suspense fallback={<Skeleton />}>
      <Page />
    </Suspense>
  );
}

export const routes = [
  { path: "/login", element: <AuthPage mode="login" /> },
  { path: "/register", element: <AuthPage mode="register" /> },
  {
    element: <RequireSession />,
    children: [
      {
        element: <Layout />,
        children: [
          { index: true, element: <StoresPage /> },
          { path: "stores/:storeId", element: <StorePage /> },
          { path: "integrations/tokens", element: later(async () => (await import("./pages/integrations/TokensPage")).TokensPage) },
          { path: "integrations/webhooks", element: later(async () => (await import("./pages/integrations/WebhooksPage")).WebhooksPage) },
          { path: "integrations/webhooks/:webhookId", element: later(async () => (await import("./pages/integrations/WebhookPage")).WebhookPage) },
          { element: <RequireAdmin />, children: [{ path: "admin/*", element: later(async () => (await import("./pages/admin/AdminPage")).AdminPage) }] },
          { path: "*", element: <NotFoundPage /> },
        ],
      },
    ],
  },
];

export function newQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // A 4xx will not change by asking again; a network error or a 5xx may.
        retry: (failures, error) => failures < 2 && !(error instanceof ApiError && error.status >= 400 && error.status < 500),
        refetchOnWindowFocus: false,
      },
    },
  });
}

const router = createBrowserRouter(routes);
const queryClient = newQueryClient();

export function App() {
  return (
    <QueryClientProvider client={queryClient}>
      <SessionProvider>
        <RouterProvider router={router} />
        <Toaster />
      </SessionProvider>
    </QueryClientProvider>
  );
}
