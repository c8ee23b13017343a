"""The installation's keys: made by ``bordercheck keys init``, checked before anything serves."""
