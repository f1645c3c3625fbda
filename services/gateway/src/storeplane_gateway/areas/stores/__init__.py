"""Stores: order one, list them, read one and its timeline, delete or retry one, reveal its credentials."""
