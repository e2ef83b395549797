r"""Pictures of computation graphs (matplotlib; structure and layout through networkx, no graphviz).

``draw(G)`` shows every node with its operation and every edge with its label.
Nodes stand in columns by their distance to the output (the longest path to it),
so the computation runs left to right; a constant sits just left of the nodes it feeds.
Parallel edges (x1 * x1) and edges that skip columns are drawn as arcs, and each
label sits on the middle of its own arc. ``draw(G, at={"x1": -1.2, "x2": 1})``
adds each node's value and adjoint at that point.

``draw_gradient_field(G)`` draws the contour lines of what the graph computes and
the gradient the reverse sweep over the graph's own labels gives, as arrows.

matplotlib and networkx are imported on first use, not with course_lib.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from . import expr_json as ej
from . import graded_run
from . import graph as gr
from .i18n import _

COLOURS = {"input": "#dbeafe", "const": "#eeeeee", "op": "#fef3c7", "output": "#dcfce7", "broken": "#fee2e2"}
COLUMN, ROW = 2.6, 1.25   # spacing of the layout, in data units
SHOWN_WIDTH = 12.0        # inches: about what JupyterLab's output area shows unscaled (at 100 dpi)


def _model(graph) -> gr.Model:
    """The graph (a Graph or its data) read back, with the variables its input leaves name."""
    data = graph.to_data() if isinstance(graph, gr.Graph) else graph
    nodes = data.get("nodes", []) if isinstance(data, dict) else []
    variables = tuple(dict.fromkeys(n.get("copy_of") or n.get("name") for n in nodes
                                    if isinstance(n, dict) and n.get("op") == "input"
                                    and isinstance(n.get("copy_of") or n.get("name"), str)))
    return gr.read(data, variables)


# ====================================================================== layout
def layout(model: gr.Model) -> dict:
    """name -> (x, y): columns by distance to the output; in each column the order that keeps edges short
    (barycentre heuristic), then each node pulled towards the height of its neighbours."""
    import networkx as nx

    g = nx.MultiDiGraph()
    g.add_nodes_from(model.nodes)
    g.add_edges_from((tail, head, slot) for tail, head, slot in _drawable_edges(model))
    column = _columns(model, g)
    columns: dict[int, list] = {}
    for name in model.nodes:   # declaration order is the first guess for the rows
        columns.setdefault(column[name], []).append(name)
    y = {name: -i * ROW for members in columns.values() for i, name in enumerate(members)}
    for sweep in range(8):     # alternately towards the output and away from it
        towards = sweep % 2 == 0
        for c in sorted(columns, reverse=towards):
            wanted = {n: np.mean([y[m] for m in (g.successors(n) if towards else g.predecessors(n))] or [y[n]])
                      for n in columns[c]}
            if sweep < 4:      # first settle the order, then only the heights
                columns[c].sort(key=lambda n: -wanted[n])
            _place(columns[c], wanted, y)
    return {n: (-column[n] * COLUMN, y[n]) for n in model.nodes}


def _place(members: list, wanted: dict, y: dict) -> None:
    """Heights as close to ``wanted`` as the order top to bottom and a gap of ROW allow."""
    heights = []
    for n in members:
        heights.append(min(wanted[n], heights[-1] - ROW) if heights else wanted[n])
    shift = np.mean([wanted[n] - h for n, h in zip(members, heights)])
    for n, h in zip(members, heights):
        y[n] = h + shift


def _drawable_edges(model: gr.Model):
    """Every edge whose two ends are nodes, broken heads included (their inputs may still be names)."""
    for node in model.nodes.values():
        for slot, tail in enumerate(node.inputs):
            if tail in model.nodes:
                yield tail, node.name, slot


def _columns(model: gr.Model, g) -> dict:
    """Longest path to the output for a DAG (shortest if there is a cycle); a constant sits just left of its users."""
    import networkx as nx

    target = model.output or next(reversed(model.nodes), None)
    column: dict[str, int] = {}
    if nx.is_directed_acyclic_graph(g):
        for name in reversed(list(nx.topological_sort(g))):
            column[name] = max((column[h] + 1 for h in g.successors(name)), default=0)
    elif target is not None:
        column = dict(nx.single_source_shortest_path_length(g.reverse(copy=False), target))
    deepest = max(column.values(), default=0)
    for name in model.nodes:
        column.setdefault(name, deepest + 1)
        users = [column[h] for h in g.successors(name) if h in column]
        if model.nodes[name].op == "const" and users:
            column[name] = max(users) + 1
    return column


# ====================================================================== text
def _tex(name: str) -> str:
    return sp.latex(sp.Symbol(name))


def node_text(node: gr.Node) -> str:
    """The node with its operation, as mathtext: "$v_{2} = x_{2} - v_{1}$"."""
    if node.op == "input":
        return f"${_tex(node.name)}$"
    if node.op == "const":
        return f"${_tex(node.name)} = {sp.latex(ej.from_data(node.value))}$" if node.value else f"${_tex(node.name)}$"
    args = [_tex(a) for a in node.inputs]
    op = gr.OPERATIONS.get(node.op)
    if op and len(args) in op.arities and (node.e is not None or not op.exponent):
        body = op.tex(args, node.e)
    else:   # a node that is not valid is drawn as what it says it is
        body = r"\mathrm{" + node.op.replace("_", r"\_")[:16] + "}(" + ", ".join(args) + ")"
    return f"${_tex(node.name)} = {body}$"


def label_text(data) -> tuple[str, str]:
    """(text, colour) for an edge label: the expression, or a red "?" (none) / "!" (unusable)."""
    if data is None:
        return "?", "#b42318"
    if isinstance(data, dict):
        return "!", "#b42318"
    try:
        return f"${sp.latex(ej.from_data(data))}$", "#1f2937"
    except Exception:  # data that validates but SymPy cannot print is shown as unusable
        return "!", "#b42318"


# ====================================================================== draw
def draw(graph, at: dict | None = None, adjoints: dict | None = None, ax=None, title: str | None = None):
    """Draw the graph; with ``at`` = {variable: value} also each node's value and adjoint there.

    The adjoints shown are ``adjoints`` ({node: expression}, e.g. your answer to b3)
    where given, else those of the reverse sweep over the graph's own labels.
    Returns the matplotlib Figure.
    """
    from matplotlib.patches import FancyArrowPatch

    if graded_run.graded():
        return graded_run.unrendered(ax)
    try:
        model = _model(graph)
    except gr.GraphError as e:
        return _note(_axes(ax, (7, 1.5)), _("cannot draw this graph: {error}").format(error=e))
    pos = layout(model)
    numbers = _numbers(model, at, adjoints) if at else {}
    xs, ys = zip(*pos.values()) if pos else ((0,), (0,))
    columns, rows = (max(xs) - min(xs)) / COLUMN + 1, (max(ys) - min(ys)) / ROW + 1
    own = ax is None
    ax = _axes(ax, (min(1.5 + 2.0 * columns, 18), min(1.2 + (1.2 if at else 0.8) * rows, 12)))
    if own:   # the graph fills its figure; no empty margins around the axes
        ax.figure.subplots_adjust(left=0.01, right=0.99, bottom=0.02, top=0.9 if title else 0.98)
    # A figure wider than a notebook's output area (about SHOWN_WIDTH) is shown scaled down: scale the
    # text up by as much, so that it reads at its nominal size on the screen.
    scale = max(1.0, ax.figure.get_figwidth() / SHOWN_WIDTH)
    ax.set_xlim(min(xs) - COLUMN / 2, max(xs) + COLUMN / 2)
    ax.set_ylim(min(ys) - 0.8 * ROW, max(ys) + 0.8 * ROW)
    ax.axis("off")
    boxes = {}
    for name, node in model.nodes.items():
        kind = "broken" if name in model.broken else "output" if name == model.output else \
            node.op if node.op in gr.LEAVES else "op"
        text = node_text(node) + numbers.get(name, "")
        boxes[name] = ax.text(*pos[name], text, ha="center", va="center", fontsize=12 * scale, zorder=3,
                              bbox=dict(boxstyle="round,pad=0.35", fc=COLOURS[kind], lw=1.5 if kind == "broken"
                                        else 0.8, ec="#b42318" if kind == "broken" else "#555"))
    ax.figure.canvas.draw()   # fixes the transforms the arcs are computed in, and the boxes they end at
    edges = [(tail, head, slot, rad) for (tail, head), slots in _grouped(_drawable_edges(model)).items()
             for slot, rad in zip(slots, _rads(ax, pos, tail, head, len(slots)))]
    _fit_arcs(ax, pos, edges)
    taken = [np.asarray(ax.transData.transform(p)) for p in pos.values()]   # label spots to keep clear of
    for tail, head, slot, rad in edges:
        ax.add_patch(FancyArrowPatch(pos[tail], pos[head], connectionstyle=f"arc3,rad={rad}",
                                     arrowstyle="-|>", mutation_scale=12, color="#555", lw=1.0, zorder=1,
                                     shrinkA=_to_border(ax, boxes[tail], pos[tail], pos[head], rad, 0.0),
                                     shrinkB=_to_border(ax, boxes[head], pos[tail], pos[head], rad, 1.0)))
        labels = model.nodes[head].labels
        if slot < len(labels) and not (labels[slot] is None and model.is_constant(tail)):
            text, colour = label_text(labels[slot])
            spot = _label_spot(ax, pos[tail], pos[head], rad, taken, scale)
            ax.text(*ax.transData.inverted().transform(spot), text, ha="center", va="center", fontsize=11 * scale,
                    color=colour, zorder=2, bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none",
                                                      alpha=0.9))
    if title:
        ax.set_title(title)
    return ax.figure


def _fit_arcs(ax, pos, edges, margin: float = 0.3) -> None:
    """Widen the axes' limits until every arc, with ``margin`` (in data units of ROW) to spare, lies inside.

    Arcs bend in display space, so a wider range moves the nodes inwards and the arcs with them;
    a few rounds settle it."""
    for _ in range(4):
        points = np.array([_arc_point(ax, pos[tail], pos[head], rad, t)
                           for tail, head, _slot, rad in edges for t in np.linspace(0, 1, 21)] or [[0, 0]])
        (x0, y0), (x1, y1) = ax.transData.inverted().transform([points.min(axis=0), points.max(axis=0)])
        (left, right), (bottom, top) = ax.get_xlim(), ax.get_ylim()
        wanted = (min(left, x0 - margin * ROW), max(right, x1 + margin * ROW),
                  min(bottom, y0 - margin * ROW), max(top, y1 + margin * ROW))
        if np.allclose(wanted, (left, right, bottom, top)):
            return
        ax.set_xlim(*wanted[:2])
        ax.set_ylim(*wanted[2:])


def _axes(ax, size):
    """``ax``, or the axes of a new figure of ``size`` that is shown once: as the returned figure."""
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=size)
        plt.close(fig)
    return ax


def _note(ax, text: str):
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, wrap=True)
    return ax.figure


def _grouped(edges) -> dict:
    out: dict = {}
    for tail, head, slot in edges:
        out.setdefault((tail, head), []).append(slot)
    return out


def _rads(ax, pos, tail, head, count) -> list:
    """Arc bends: parallel edges fan out symmetrically; any other edge takes the straightest arc that
    passes no other node (or, if every arc does, the one that keeps farthest from them)."""
    if count > 1:
        return list(np.linspace(-0.35, 0.35, count))
    others = [ax.transData.transform(p) for n, p in pos.items() if n not in (tail, head)]
    box = np.abs(ax.transData.transform((0.4 * COLUMN, 0.35 * ROW)) - ax.transData.transform((0, 0)))
    rads = (0.0, 0.12, -0.12, 0.22, -0.22, 0.32, -0.32, 0.45, -0.45)
    clearance = []
    for rad in rads:
        curve = np.array([_arc_point(ax, pos[tail], pos[head], rad, t) for t in np.linspace(0.05, 0.95, 31)])
        clearance.append(min((np.min((np.abs(curve - o) / box).max(axis=1)) for o in others), default=np.inf))
        if clearance[-1] > 1:
            return [rad]
    return [rads[int(np.argmax(clearance))]]


def _arc_point(ax, a, b, rad, t):
    """The point at parameter t of matplotlib's arc3 curve from a to b, in display space (where matplotlib
    bends it): a quadratic Bézier curve whose control point lies rad · |ab| off the middle."""
    (xa, ya), (xb, yb) = ax.transData.transform([a, b])
    control = np.array([(xa + xb) / 2 + rad * (yb - ya), (ya + yb) / 2 - rad * (xb - xa)])
    return (1 - t) ** 2 * np.array([xa, ya]) + 2 * (1 - t) * t * control + t ** 2 * np.array([xb, yb])


def _to_border(ax, box, a, b, rad, t: float) -> float:
    """How far (in points) the arc from a to b runs inside ``box`` at its end t (0: start, 1: end)."""
    extent = box.get_window_extent()
    direction = _arc_point(ax, a, b, rad, abs(t - 0.08)) - _arc_point(ax, a, b, rad, t)   # along the tangent
    dx, dy = np.abs(direction) / max(np.hypot(*direction), 1e-9)
    pixels = min(extent.width / 2 / dx if dx else np.inf, extent.height / 2 / dy if dy else np.inf)
    return float(pixels) * 72 / ax.figure.dpi + 2


def _label_spot(ax, a, b, rad, taken: list, scale: float = 1.0):
    """Where on its arc a label goes: the middle, or the spot nearest to it that keeps clear of the
    labels and nodes already placed (in display space). The spot is added to ``taken``."""
    spots = [_arc_point(ax, a, b, rad, t) for t in (0.5, 0.4, 0.6, 0.32, 0.68, 0.25, 0.75)]
    room = np.array((40, 17)) * scale   # pixels a label needs (at 11 pt, times the text's scale)
    gaps = [min((np.abs(s - p) / room).max() for p in taken) if taken else np.inf for s in spots]
    best = next((s for s, g in zip(spots, gaps) if g >= 1), spots[int(np.argmax(gaps))])
    taken.append(best)
    return best


def _numbers(model: gr.Model, at: dict, adjoints: dict | None) -> dict:
    """name -> extra lines "value …, adjoint …" for the node box."""
    missing = [v for v in model.variables if v not in at]
    if missing:
        raise ValueError(_("at= needs a value for every input: {missing} missing").format(missing=", ".join(missing)))
    ev = gr.evaluate_at(model, {v: np.array([float(at[v])]) for v in model.variables})
    sweep = ev.label_sweep()
    given = {}
    for key, expr in (adjoints or {}).items():
        name = key.name if isinstance(key, sp.Symbol) else str(key)
        value = ev.evaluate(gr.encode_expr(expr))
        given[name] = None if isinstance(value, str) else value
    out = {}
    for name in model.nodes:
        value, adjoint = ev.values.get(name), given.get(name, sweep.get(name))
        out[name] = "\n" + _("value {value}").format(value=f"{value[0]:.4g}" if value is not None else "?")
        if adjoint is not None or not model.is_constant(name):   # constants' adjoints are not asked for
            out[name] += "\n" + _("adjoint {adjoint}").format(adjoint=f"{adjoint[0]:.4g}" if adjoint is not None else "?")
    return out


# ====================================================================== contour plot with gradient arrows
def draw_gradient_field(graph, x1_range=(-2.0, 2.0), x2_range=(-1.0, 3.0), arrows: int = 17, ax=None):
    """Contours of what the graph computes and, as arrows, the gradient from the sweep over its own labels.

    Arrows have one length and show the direction of ∇f (uphill); their colour gives log10 |∇f|.
    Returns the matplotlib Figure.
    """
    if graded_run.graded():
        return graded_run.unrendered(ax)
    ax = _axes(ax, (7.5, 6.5))
    try:
        model = _model(graph)
    except gr.GraphError as e:
        return _note(ax, _("cannot draw this graph: {error}").format(error=e))
    if len(model.variables) != 2 or model.output is None:
        return _note(ax, _("this picture needs a graph with one output and two inputs"))
    (a, b), grid = model.variables, np.meshgrid(np.linspace(*x1_range, 240), np.linspace(*x2_range, 240))
    ev = gr.evaluate_at(model, {a: grid[0].ravel(), b: grid[1].ravel()})
    if model.output not in ev.values:
        return _note(ax, _("cannot evaluate the graph: {why}").format(why=model.why_not_computable(model.output)))
    values = ev.values[model.output].reshape(grid[0].shape)
    finite = values[np.isfinite(values)]
    if finite.size and finite.min() > 0:   # log-spaced levels show the flat valley as well as the steep walls,
        # from three decades below the top: lower levels would crowd into a dark band along the valley floor
        levels = np.geomspace(max(finite.min() * 1.01, finite.max() * 1e-3), finite.max(), 18)
    else:
        levels = 20
    ax.contour(*grid, values, levels=levels, colors="#94a3b8", linewidths=0.8)
    coarse = np.meshgrid(np.linspace(*x1_range, arrows), np.linspace(*x2_range, arrows))
    ev = gr.evaluate_at(model, {a: coarse[0].ravel(), b: coarse[1].ravel()})
    grad = gr.gradient(model, ev.label_sweep())
    if grad[a] is None or grad[b] is None:
        ax.set_title(_("no arrows: some edge label is missing or unusable"))
        return ax.figure
    length = np.hypot(grad[a], grad[b])
    with np.errstate(all="ignore"):
        u, v = np.where(length > 0, grad[a] / length, 0), np.where(length > 0, grad[b] / length, 0)
        magnitude = np.log10(length)
    shown = magnitude[np.isfinite(magnitude)]
    low, high = (np.percentile(shown, [5, 95]) if shown.size else (0, 1))
    quiver = ax.quiver(*coarse, u.reshape(coarse[0].shape), v.reshape(coarse[0].shape),
                       magnitude.reshape(coarse[0].shape), cmap="plasma", clim=(low, high), pivot="mid",
                       scale=30, width=0.005)
    ax.figure.colorbar(quiver, ax=ax, label=f"log10 |∇{model.output}|")
    ax.set_xlabel(a)
    ax.set_ylabel(b)
    ax.set_title(_("contour lines of {output}; arrows: direction of ∇{output}\nfrom the reverse sweep over the graph's "
                   "edge labels").format(output=model.output), fontsize=10)
    return ax.figure
