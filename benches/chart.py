#!/usr/bin/env python3
"""Draw pvm's time ratios to each peer runtime as an SVG bar chart.

Input is the JSON that `compare.py --json FILE` writes; output is a standalone
SVG (no plotting library needed, so the chart can be regenerated anywhere):

    python3 ../shared/bench/compare.py --pvm 'target/release/pvm run {}' \
        --clox PATH --json benches/results.json
    python3 benches/chart.py benches/results.json benches/ratios.svg

Each program gets one group of bars, one bar per peer: pvm's median time divided
by the peer's (below the dashed line at 1.0, pvm is faster). The last group is
the geometric mean.
"""

import json
import math
import sys

PEERS = ["lua5.4", "clox", "luajit-joff", "python3"]
COLOURS = {"lua5.4": "#4c72b0", "clox": "#dd8452", "luajit-joff": "#55a868", "python3": "#c44e52"}
BAR, GAP, GROUP_GAP = 14, 2, 26
HEIGHT, TOP, LEFT, BOTTOM = 300, 40, 50, 60


def groups(summary):
    result = []
    for row in summary["rows"]:
        if not row.get("ok") or not row.get("pvm"):
            continue
        ratios = {}
        for peer in PEERS:
            if row.get(peer):
                ratios[peer] = row["pvm"][0] / row[peer][0]
        result.append((row["name"], ratios))
    result.append(("geomean", {p: g for p, g in summary.get("geomean", {}).items() if p in PEERS}))
    return result


def svg(summary):
    data = groups(summary)
    peers = [p for p in PEERS if any(p in ratios for _, ratios in data)]
    largest = max([r for _, ratios in data for r in ratios.values()] + [1.0])
    scale_top = math.ceil(largest * 2) / 2
    group_width = len(peers) * (BAR + GAP) + GROUP_GAP
    width = LEFT + len(data) * group_width + 20
    total_height = TOP + HEIGHT + BOTTOM

    def y(value):
        return TOP + HEIGHT - value / scale_top * HEIGHT

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{total_height + 30}" '
        f'font-family="sans-serif" font-size="11">',
        f'<text x="{LEFT}" y="20" font-size="14">pvm time / peer time (lower is better; below 1.0 pvm is faster)</text>',
    ]
    tick = 0.0
    while tick <= scale_top + 1e-9:
        out.append(f'<line x1="{LEFT}" x2="{width - 10}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick:.1f}</text>')
        tick += 0.5
    out.append(f'<line x1="{LEFT}" x2="{width - 10}" y1="{y(1):.1f}" y2="{y(1):.1f}" '
               f'stroke="#000" stroke-dasharray="4 3"/>')
    for index, (name, ratios) in enumerate(data):
        x0 = LEFT + index * group_width + GROUP_GAP / 2
        for slot, peer in enumerate(peers):
            if peer not in ratios:
                continue
            value = ratios[peer]
            x = x0 + slot * (BAR + GAP)
            out.append(f'<rect x="{x:.1f}" y="{y(value):.1f}" width="{BAR}" '
                       f'height="{TOP + HEIGHT - y(value):.1f}" fill="{COLOURS[peer]}">'
                       f'<title>{name} vs {peer}: {value:.2f}</title></rect>')
        label_x = x0 + len(peers) * (BAR + GAP) / 2
        out.append(f'<text x="{label_x:.1f}" y="{TOP + HEIGHT + 16}" text-anchor="middle">{name}</text>')
    for slot, peer in enumerate(peers):
        x = LEFT + slot * 110
        out.append(f'<rect x="{x}" y="{total_height + 5}" width="12" height="12" fill="{COLOURS[peer]}"/>')
        out.append(f'<text x="{x + 16}" y="{total_height + 15}">{peer}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: chart.py RESULTS.json OUT.svg")
    with open(sys.argv[1]) as f:
        summary = json.load(f)
    with open(sys.argv[2], "w") as f:
        f.write(svg(summary))


if __name__ == "__main__":
    main()
