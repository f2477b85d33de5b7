"""The HTML page of ``xmargin network``: concentration, seizures, contagion, entities."""

from __future__ import annotations

import math

import numpy as np

from xmargin.analytics.analysis_report import (
    Figure,
    Section,
    Table,
    fmt_number,
    fmt_pct,
    render,
)
from xmargin.analytics.network import NetworkResult
from xmargin.analytics.report import plt_module, svg

__all__ = ["network_html"]

#: Above this many nodes the contagion drawing shows the most connected ones only.
MAX_DRAWN_NODES = 300


# -- network ------------------------------------------------------------------------------
def _graphsvg(result: NetworkResult) -> tuple[str, str]:
    import networkx as nx

    c = result.contagion
    book = c.book
    g = nx.DiGraph()
    for i, j, a in c.edges(50_000):
        g.add_edge(book.account_ids[i], book.account_ids[j], asset=book.assets[a])
    if g.number_of_nodes() == 0:
        return "", "No contagion edge: no sale alone moves an asset past another liquidation price."
    note = f"{g.number_of_nodes():,} accounts, {g.number_of_edges():,} edges"
    if g.number_of_nodes() > MAX_DRAWN_NODES:
        deg = sorted(g.degree, key=lambda kv: -kv[1])[:MAX_DRAWN_NODES]
        g = g.subgraph([n for n, _ in deg]).copy()
        note += f"; the {MAX_DRAWN_NODES} most connected drawn"
    cascade = {book.account_ids[i] for i in c.largest}
    plt = plt_module()
    fig, ax = plt.subplots(figsize=(11, 6.5), dpi=100)
    pos = nx.spring_layout(g, seed=1, k=1.5 / math.sqrt(max(1, g.number_of_nodes())))
    colors = ["#d9534f" if n in cascade else "#5b7bd5" for n in g.nodes]
    nx.draw_networkx_edges(g, pos, ax=ax, alpha=0.35, arrowsize=6, width=0.6)
    nx.draw_networkx_nodes(g, pos, ax=ax, node_color=colors, node_size=40 if len(g) > 60 else 160)
    if len(g) <= 60:
        nx.draw_networkx_labels(g, pos, ax=ax, font_size=7)
    ax.set_title("Liquidation contagion (red: the largest cascade)")
    ax.axis("off")
    return svg(fig), note


def _entitiessvg(result: NetworkResult) -> str:
    import networkx as nx

    cl = result.clearing
    if cl is None:
        return ""
    g = nx.DiGraph()
    for e in cl.entities:
        g.add_node(e.name)
        for o, v in e.liabilities.items():
            g.add_edge(e.name, o, weight=v)
    bad = set(cl.to_doc()["defaulted"])
    plt = plt_module()
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=100)
    pos = nx.circular_layout(g)
    wmax = max([d["weight"] for *_, d in g.edges(data=True)] or [1.0])
    nx.draw_networkx_edges(
        g,
        pos,
        ax=ax,
        width=[0.5 + 3 * d["weight"] / wmax for *_, d in g.edges(data=True)],
        alpha=0.5,
        arrowsize=10,
        connectionstyle="arc3,rad=0.1",
    )
    nx.draw_networkx_nodes(
        g, pos, ax=ax, node_color=["#d9534f" if n in bad else "#5cb85c" for n in g.nodes]
    )
    nx.draw_networkx_labels(g, pos, ax=ax, font_size=8)
    ax.set_title("Entities: who owes whom (red: defaulted)")
    ax.axis("off")
    return svg(fig)


def network_html(result: NetworkResult) -> str:
    """The page of a network analysis: concentration, seizures, contagion, entities."""
    doc = result.to_doc()
    book = result.contagion.book
    conc = Table(
        [
            "asset",
            "price",
            "supply HHI",
            "top-10 supply",
            "debt HHI",
            "top-10 debt",
            "seized share",
            "liquidity",
        ],
        [
            (
                r["asset"],
                fmt_number(r["price"], 4),
                fmt_number(r["supply_hhi"]),
                fmt_pct(r["top10_supply_share"]),
                fmt_number(r["debt_hhi"]),
                fmt_pct(r["top10_debt_share"]),
                fmt_pct(r["seized_share"]),
                r["liquidity_model"],
            )
            for r in doc["assets"]
        ],
    )
    plt = plt_module()
    fig, ax = plt.subplots(figsize=(7, 3.4), dpi=100)
    x = np.arange(book.n_assets)
    hhi = [float(r["supply_hhi"] or 0) for r in doc["assets"]]
    dhhi = [float(r["debt_hhi"] or 0) for r in doc["assets"]]
    ax.bar(x - 0.2, hhi, 0.4, label="supply HHI")
    ax.bar(x + 0.2, dhhi, 0.4, label="debt HHI")
    ax.set_xticks(x, book.assets, rotation=30 if book.n_assets > 8 else 0)
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    ax.set_title("Concentration per asset")
    shocks = ", ".join(f"{a} {x * 100:+.1f}%" for a, x in result.shocks.items()) or "none"
    ct = doc["contagion"]
    graph, note = _graphsvg(result)
    liq = Table(
        ["figure", "value"],
        [(k.replace("_", " "), fmt_number(v, 2)) for k, v in doc["liquidation"].items()],
    )
    shown = ", ".join(ct["largest_cascade"][:60])
    more = ct["largest_cascade_size"] - 60
    sections = [
        Section(
            "Concentration and seizures",
            [
                f"Shock: {shocks}. Seized share: units seized when the book is liquidated at the "
                "shocked prices, over units supplied."
            ],
            [conc, liq],
            [Figure(svg(fig))],
        ),
        Section(
            "Liquidation contagion",
            [
                f"{ct['edge_count']:,} edges; the largest cascade reaches "
                f"{ct['largest_cascade_size']:,} accounts from {ct['largest_cascade_source']}"
                f" ({'exact' if ct['exact'] else 'lower bound'}). {note}.",
                f"Largest cascade: {shown}{f' and {more:,} more' if more > 0 else ''}.",
            ],
            figures=[Figure(graph, wide=True)] if graph else [],
        ),
    ]
    if result.clearing is not None:
        e = doc["entities"]
        sections.append(
            Section(
                "Entities: Eisenberg–Noe clearing",
                ["p* = min(p̄, e + Πᵀp*), the greatest clearing vector."],
                [
                    Table(
                        ["entity", "owes", "pays", "shortfall", "losses received", "equity"],
                        [
                            (
                                n,
                                fmt_number(e["total_liabilities"][n], 2),
                                fmt_number(e["payments"][n], 2),
                                fmt_number(e["shortfall"][n], 2),
                                fmt_number(e["creditor_losses"][n], 2),
                                fmt_number(e["equity"][n], 2),
                            )
                            for n in e["payments"]
                        ],
                    ),
                    Table(
                        ["token", "issuer", "recovery", "price before", "price after"],
                        [
                            (
                                t,
                                d["issuer"],
                                fmt_pct(d["recovery"]),
                                fmt_number(d["price_before"], 6),
                                fmt_number(d["price_after"], 6),
                            )
                            for t, d in e["depegs"].items()
                        ],
                        caption="De-pegs fed back into the book (every figure above uses them).",
                    ),
                ],
                [Figure(_entitiessvg(result))],
                [f"defaulted: {', '.join(e['defaulted']) or 'none'}"],
            )
        )
    return render("Network and concentration", sections)
