"""Screening: the in-memory index of active records and the matcher (see docs/screening.md)."""
