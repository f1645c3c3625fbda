"""The command groups, one module each, registered on the root app in `app.py`.

    auth.py      login, logout, account
    contexts.py  context add|use|list|rm: named API endpoints
    stores.py    stores create|list|get|delete|retry|events|credentials
    tokens.py    tokens create|list|revoke

The notifier's webhook commands (`webhooks add|list|rm|test|deliveries|resend|rotate`) will be
`webhooks.py` beside these, added to `app.py` like `tokens`.
"""
