"""The API by area: each package holds its routes (`controllers.py`), its rules (`services.py`), its
request and response bodies (`schemas.py`) and its guards, over the ports, never the adapters."""
