"""The small runtime every service shares: settings, the bus, telemetry and logging."""
