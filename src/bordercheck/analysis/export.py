"""A network as a file for graph tools: GraphML, and GEXF for Gephi.

The network's own nodes and links (with their evidence), and beside them the flights its
travellers took and the border posts those flights left from and arrived at.
"""

from __future__ import annotations

import io
from typing import Any

import networkx as nx

from bordercheck.analysis.views import network_detail


def network_graph(detail: dict[str, Any]) -> nx.Graph:
    """The graph of one network as the viewer may see it (from ``network_detail``)."""
    graph = nx.Graph(name=f"network {detail['id']}")
    for traveller in detail["travellers"]:
        graph.add_node(
            traveller["id"],
            kind="traveller",
            label=traveller.get("name") or traveller.get("restricted", ""),
        )
    for record in detail["records"]:
        label = record.get("restricted") or (
            f"{record['issuing_country']} {record['document_number']}"
            + (f"–{record['serial_end']}" if record.get("serial_end") else "")
        )
        graph.add_node(record["id"], kind="record", label=label)
    for link in detail["links"]:
        for end in (link["source"], link["target"]):
            if end not in graph:
                graph.add_node(end, kind=end.split(":")[0], label=end.split(":", 2)[-1])
        graph.add_edge(
            link["source"], link["target"], kind=link["kind"], evidence="\n".join(link["evidence"])
        )
    for flight in detail["flights"]:
        node = f"flight:{flight['manifest_id']}"
        graph.add_node(node, kind="flight", label=f"{flight['flight']} {flight['departs'] or ''}")
        for end, kind in ((flight["departure"], "departed"), (flight["arrival"], "arrived")):
            if end:
                graph.add_node(f"post:{end}", kind="border_post", label=end)
                graph.add_edge(node, f"post:{end}", kind=kind, evidence="")
    for trip in detail["trips"]:
        booking = trip["trip"]
        if booking in graph:
            for flight in trip["flights"]:
                graph.add_edge(booking, f"flight:{flight}", kind="flew", evidence=trip["date"])
    return graph


def export(links: Any, picture: Any, network: Any, viewer: Any, form: str) -> bytes:
    graph = network_graph(network_detail(links, picture, network, viewer))
    buffer = io.BytesIO()
    if form == "graphml":
        nx.write_graphml(graph, buffer)
    else:
        nx.write_gexf(graph, buffer)
    return buffer.getvalue()
