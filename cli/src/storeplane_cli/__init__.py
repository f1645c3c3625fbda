"""The `storeplane` command-line tool: a client of the gateway's public HTTP API, nothing more.

It imports no service (import-linter's independence contract): everything it knows of the platform
comes over HTTP, so it works against any Storeplane. docs/cli.md is the user's guide.

    app.py        the root command, global options (`--api`, `--context`), errors to exit statuses
    errors.py     CliError and ApiError (the gateway's `{"error": {code, message}}`), the exit statuses
    config.py     the config folder (XDG), contexts, saved credentials (0600)
    target.py     which API a command talks to
    client.py     the HTTP session: bearer token, automatic refresh, idempotent commands
    stream.py     following a server-sent event stream, resuming with Last-Event-ID
    watch.py      a wait shown step by step (live on a terminal, one line per event otherwise)
    output.py     tables, JSON (the API's, unchanged) and YAML
    resolve.py    a store named by id or by name
    commands/     one module per command group (auth, contexts, stores, tokens)
"""
