"""Networks behind stolen documents: the link graph, networks, routes and their shifts."""
