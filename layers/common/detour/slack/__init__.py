"""Slack: the incident threads and their messages, and /detour (the request, who may ask, the work)."""
