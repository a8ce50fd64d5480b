"""Small builders shared by tests (no fixtures: import what you need)."""
