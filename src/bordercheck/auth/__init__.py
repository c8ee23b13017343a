"""Bureaus, people and machines that use bordercheck, and what each may do."""
