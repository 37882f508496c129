"""Detour's shared layer: the failover domain (transitions, windows) and its AWS adapters."""
