"""Server-sent event streams of store timelines, and the tickets that open them from a browser."""
