"""The HTTP API: an app factory mounting each domain's router."""
