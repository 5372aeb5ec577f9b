"""Charts for the results pages, drawn on the server by pygal as SVG.

Each chart is a picture of a table the page shows beside it: the table is what screen
readers, keyboards and copy-and-paste use, so the picture is shown as an ``<img>`` with
an empty ``alt`` (a data: URL, which the Content Security Policy allows for images; the
SVG's own styles stay inside the picture and need no exception to ``style-src``). No
JavaScript: pygal's tooltips script is switched off.

pygal (about 2 MB in a process) is imported by the functions that draw, not with this
module: the URLconf imports the results views, and a worker that serves only public pages
need not carry it (``tests/test_lazy_imports.py`` fences it).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree

from django.utils.formats import number_format

if TYPE_CHECKING:
    from pygal.graph.graph import Graph

# Drawn this wide, scaled to the column: on a phone the labels stay legible.
WIDTH = 480

# Pico's colours, readable on white; text dark enough for WCAG AA.
_STYLE: dict[str, Any] = {
    "background": "#ffffff",
    "plot_background": "#ffffff",
    "foreground": "#373c44",
    "foreground_strong": "#23262c",
    "foreground_subtle": "#646b79",
    "opacity": "1",
    "opacity_hover": "1",
    "colors": ("#0172ad", "#a2541b", "#2e7d4f", "#7b3fa0", "#b3261e"),
    "font_family": 'system-ui, "Segoe UI", Roboto, Helvetica, Arial, sans-serif',
    "label_font_size": 15,
    "major_label_font_size": 15,
    "value_font_size": 15,
    "title_font_size": 16,
    "legend_font_size": 15,
    # A bar's number is printed on the bar (in the middle of it): white, which reads on
    # every colour above (at least 4.5:1), ringed with the dark text colour so a number
    # wider than a short bar still reads where it spills onto the white (_VALUE_HALO).
    "value_colors": ("#ffffff",) * 5,
}
# Scoped by the chart's id and marked important: pygal's own rule "#<id> text { stroke:
# none !important }" would win over anything less specific.
_VALUE_HALO = (
    "#{id} .text-overlay text.value {{ paint-order: stroke; stroke: #23262c !important; "
    "stroke-width: 3px; stroke-linejoin: round; }}"
)


@cache
def _style() -> Any:
    from pygal.style import Style  # noqa: PLC0415 (pygal only where a chart is drawn)

    return Style(**_STYLE)


def _number(value: float | None) -> str:
    """Counts as the page writes them (localised, grouped); an axis tick between whole numbers has no label."""
    if value is None or value != int(value):
        return ""
    return number_format(int(value), force_grouping=True)


def _data_url(chart: Graph) -> str:
    # pygal always writes a small <script> with its configuration (for its tooltips);
    # a picture in an <img> never runs it, and leaving it out keeps the SVG script-free.
    tree = chart.render_tree()
    styles = [node for node in tree.iter() if str(node.tag).rpartition("}")[2] == "style"]
    if styles and tree.get("id"):
        styles[-1].text = (styles[-1].text or "") + _VALUE_HALO.format(id=tree.get("id"))
    for parent in tree.iter():
        for child in list(parent):
            if str(child.tag).rpartition("}")[2] == "script":
                parent.remove(child)
    svg = ElementTree.tostring(tree, encoding="utf-8", xml_declaration=True)
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def _base(kind: type[Graph], *, labels: Sequence[str], height: int, legend: bool) -> Graph:
    return kind(
        style=_style(),
        js=[],  # no script: nothing to allow in the CSP, the page reads the same without it
        width=WIDTH,
        height=height,
        show_legend=legend,
        legend_at_bottom=True,
        legend_at_bottom_columns=1,
        print_values=True,
        print_zeroes=False,
        value_formatter=_number,
        x_labels=list(labels),
        truncate_label=-1,
        truncate_legend=-1,
        show_y_guides=True,
        margin=12,
        no_data_text="",
    )


def horizontal_bars(labels: Sequence[str], values: Sequence[int], *, series: str) -> str:
    """One bar a row (a funnel, countries, buckets), top to bottom as in the table."""
    import pygal  # noqa: PLC0415 (pygal only where a chart is drawn)

    chart = _base(
        pygal.HorizontalBar, labels=list(reversed(labels)), height=70 + 40 * max(1, len(labels)), legend=False
    )
    chart.add(series, list(reversed(values)))
    return _data_url(chart)


def grouped_horizontal_bars(labels: Sequence[str], series: Sequence[tuple[str, Sequence[int]]]) -> str:
    """Several bars a row (ways of sending by evidence reached), with a legend below."""
    import pygal  # noqa: PLC0415 (pygal only where a chart is drawn)

    rows = max(1, len(labels))
    chart = _base(pygal.HorizontalBar, labels=list(reversed(labels)), height=130 + 22 * rows * len(series), legend=True)
    for name, values in series:
        chart.add(name, list(reversed(values)))
    return _data_url(chart)


def columns_by_day(labels: Sequence[str], series: Sequence[tuple[str, Sequence[int]]]) -> str:
    """Columns a day, oldest on the left; values are printed only where there is room."""
    import pygal  # noqa: PLC0415 (pygal only where a chart is drawn)

    chart = _base(pygal.Bar, labels=labels, height=380, legend=len(series) > 1)
    chart.config.print_values = len(labels) <= 7
    chart.config.x_label_rotation = 45 if len(labels) > 7 else 0
    chart.config.show_minor_x_labels = False
    chart.config.x_labels_major_every = max(1, len(labels) // 10)
    for name, values in series:
        chart.add(name, list(values))
    return _data_url(chart)
