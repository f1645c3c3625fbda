"""The gateway: Storeplane's only public HTTP API.

It authenticates users (sessions and API tokens), keeps each user to their own stores and
their quota, validates store orders, publishes them as events on JetStream, answers reads by
asking the status service, streams store timelines live as server-sent events, manages each
user's webhook endpoints by asking the notifier, serves the STORES stream's AsyncAPI document, and
records every command on the audit trail; it serves the web dashboard's built files too.
`storeplane_gateway.app.create_app` builds it; docs/security.md describes the rules.

Where things live (import-linter's `gateway-*` contracts in `.importlinter` keep it so):

    __main__.py, app.py   the composition roots: the command line (its server ends the event streams when
                          it stops); `create_app` wires everything
    settings.py           the gateway's settings
    areas/                the API by area, each with its routes (controllers.py), rules (services.py),
                          bodies (schemas.py) and guards; over the ports, never the adapters
        accounts/         register, log in, refresh, log out, the caller's account; the guards,
                          passwords (Argon2id), the session's signed tokens, and a browser's session
                          (its refresh token in an HttpOnly cookie: browser_sessions.py)
        stores/           order, list, read, delete, retry a store, reveal its credentials;
                          the store service and the quota's slot reservation (quotas.py)
        api_tokens/       make, list and revoke API tokens
        streams/          follow a store's timeline, or all the caller's stores, as server-sent events
                          (resumed by Last-Event-ID; limits per user and process); single-use stream tickets
        webhooks/         make, list, read, change, delete, test webhook endpoints; their deliveries,
                          resends, recoveries and secret rotations (the notifier keeps and sends them)
        events/           the event contract: the AsyncAPI document at /schema/asyncapi.json
        admin/            a user's store limit, the audit trail; making and unmaking admins (services.py)
        health/           liveness and readiness probes
        dashboard/        the dashboard's built files at `/`: assets, deep links to index.html, its CSP
    adapters/             the ports' implementations, by technology; built only by the composition roots
        postgres/         users, sessions, API tokens, store slots, failed logins, idempotency keys,
                          stream tickets; the pool (pool.py) and the versioned migrations (migrations.py)
        nats/             the connection (bus.py), the status service's, the provisioner's and the
                          notifier's clients, request-reply, the audit trail on JetStream, the subscriber
                          that frees slots, the event feed of the streams (one live subscription per
                          process, catch-ups), the STORES stream's AsyncAPI description (event_contract.py)
    http/                 HTTP plumbing: the error shape (errors.py), the one mapping of domain errors to
                          answers (error_answers.py) and the exception handlers that send them, authentication
                          (stream tickets kept out of logs: stream_tickets.py),
                          the audit hook, idempotent commands, rate limits, hardening headers, OpenAPI links, the
                          pages of lists (pagination.py: `limit`, `cursor`, `next`, `Link`),
                          tracing, the app state
    ports.py              what the areas need from outside: one protocol per adapter, and the Adapters bundle
    domain/               the model: users and roles, principals and scopes, sessions, API tokens, slots,
                          idempotency records, ids, streamed events and tickets, pages and their cursors (pages.py),
                          and the errors (refusals,
                          services down); imports nothing else
"""
