"""The contact directory: each bureau's focal points for smuggling, migration and fraud."""
