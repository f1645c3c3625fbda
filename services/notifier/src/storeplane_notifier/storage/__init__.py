"""The Postgres adapter: every SQL statement the notifier runs, by table group (endpoints;
messages and attempts; what the consumer recorded of the stream)."""
