"""The event contract: the AsyncAPI document of the STORES stream, for integrators who consume it."""
