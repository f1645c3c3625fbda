"""Storeplane's shared language: events, queries, subjects and naming rules.

The only code every service shares besides `storeplane_runtime`. It imports no service.
"""
