"""Failover signals: what, besides the endpoint probe, sends a site's visitors to its page (ADR 0002)."""
