"""The Lambda wiring the functions share: AWS clients, settings, idempotency, tracing, the events
they send each other, and custom-resource answers."""
