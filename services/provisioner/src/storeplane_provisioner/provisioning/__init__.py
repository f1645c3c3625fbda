"""What the provisioner does, over the ports only: the steps, their deadlines, the retry decisions, drift.

Nothing here imports an adapter (the import linter checks it), so all of it runs in unit tests with fakes.
"""
