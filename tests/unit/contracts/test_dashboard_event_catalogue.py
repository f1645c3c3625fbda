"""The dashboard knows every event type of the contracts: its catalogue (services/dashboard/src/stores/
catalogue.ts) gives each its icon, label and status, and its event streams listen for exactly those
names (an EventSource delivers only the named events it listens for), so a type added to the contracts
without the dashboard would be missing from its live updates."""

from __future__ import annotations

import re
from pathlib import Path

from storeplane_contracts.events import EVENT_TYPES

CATALOGUE = Path(__file__).resolve().parents[3] / "services" / "dashboard" / "src" / "stores" / "catalogue.ts"


def _catalogued() -> set[str]:
    text = CATALOGUE.read_text()
    body = text[text.index("export const EVENT_KINDS") : text.index("};", text.index("export const EVENT_KINDS"))]
    return set(re.findall(r"^\s+(\w+): \{ icon:", body, flags=re.MULTILINE))


def test_the_dashboards_catalogue_has_exactly_the_contracts_event_types() -> None:
    contracts = {event_type.__name__ for event_type in EVENT_TYPES}
    catalogued = _catalogued()
    assert len(catalogued) >= 10, "the catalogue's entries were not found: has its form changed?"
    assert catalogued == contracts, (
        f"missing from the dashboard: {sorted(contracts - catalogued)}; unknown to the contracts: "
        f"{sorted(catalogued - contracts)}"
    )
