"""HTTP route handlers: what happens on each request. They talk only to the ports."""
