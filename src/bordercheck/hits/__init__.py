"""Hits: every positive screening opens a case between the querying and the owning bureau."""
