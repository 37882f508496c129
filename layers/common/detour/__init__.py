"""Detour's shared layer, by what it serves: `incidents` (transitions, windows, the store, the
timeline), `slack`, `page`, and `runtime` (the Lambda wiring the functions share)."""
