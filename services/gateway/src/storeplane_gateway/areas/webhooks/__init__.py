"""Webhook endpoints: make, list, read, change and delete them, test them, read and replay their deliveries,
rotate their signing secrets; the notifier keeps and delivers them."""
