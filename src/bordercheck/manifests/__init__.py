"""PAXLST passenger lists: read, screened, stored."""
