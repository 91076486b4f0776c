"""Draw a `tether trace --timeline` file (Chrome JSON trace events) as an
SVG picture: one row per process and thread track, in the order the trace's
sort indices give, spans for lives and system calls, marks for instants
(signals, exec, breakpoint hits), arrows for fork/vfork/clone.

    python docs/draw_timeline.py TRACE.json OUT.svg

It reads only the events `tether trace` writes (the format's phases M, X,
i, s, f); it is how docs/timeline.svg, the README's picture, was made
(from docs/timeline_example.c: its header says how). The same file opens
in the Perfetto UI or chrome://tracing for exploring."""
import html
import json
import sys

ROW, LABEL, WIDTH, TOP = 26, 190, 1100, 34
SYSCALL_COLOURS = ["#4e79a7", "#59a14f", "#edc948", "#b07aa1", "#76b7b2", "#ff9da7", "#9c755f",
                   "#f28e2b"]


def draw(trace: dict) -> str:
    events = trace["traceEvents"]
    order, titles = {}, {}
    for e in events:
        if e["ph"] == "M" and e["name"] == "process_sort_index":
            order[e["pid"]] = e["args"]["sort_index"]
        elif e["ph"] == "M" and e["name"] == "process_name":
            titles[(e["pid"], e["pid"])] = e["args"]["name"]
        elif e["ph"] == "M" and e["name"] == "thread_name" and e["pid"] != e["tid"]:
            titles[(e["pid"], e["tid"])] = e["args"]["name"]
    tracks = sorted({(e["pid"], e["tid"]) for e in events if e["ph"] in "Xi"},
                    key=lambda k: (order.get(k[0], 1 << 30), k[0], k[1] != k[0], k[1]))
    row_of = {k: i for i, k in enumerate(tracks)}
    timed = [e for e in events if e["ph"] in "Xisf"]
    t0 = min(e["ts"] for e in timed)
    t1 = max(e["ts"] + e.get("dur", 0) for e in timed)
    scale = (WIDTH - LABEL - 20) / max(t1 - t0, 1)

    def x(ts):
        return LABEL + (ts - t0) * scale

    def y(key):
        return TOP + row_of[key] * ROW

    counts: dict = {}
    for e in events:
        if e["ph"] == "X" and e["cat"] == "syscall":
            counts[e["name"]] = counts.get(e["name"], 0) + 1
    # The most frequent calls get a colour each (in the legend); the rest grey.
    legend = sorted(counts, key=lambda n: (-counts[n], n))[:len(SYSCALL_COLOURS)]
    colours = dict(zip(legend, SYSCALL_COLOURS))

    def colour_of(name: str) -> str:
        return colours.get(name, "#999999")

    height = TOP + len(tracks) * ROW + 30 + (24 if legend else 0)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
           f'font-family="DejaVu Sans, sans-serif" font-size="12">',
           f'<rect width="{WIDTH}" height="{height}" fill="white"/>',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
           'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#c0392b"/></marker></defs>',
           f'<text x="10" y="20" font-weight="bold">tether trace --timeline: '
           f'{len(tracks)} tracks, {(t1 - t0) / 1000:.1f} ms</text>']
    for key in tracks:
        pid, tid = key
        label = titles.get(key, f"{pid}") if pid == tid else "  " + titles.get(key, f"thread {tid}")
        out.append(f'<text x="10" y="{y(key) + 16}">{html.escape(label)}</text>')
        out.append(f'<line x1="{LABEL}" x2="{WIDTH - 20}" y1="{y(key) + ROW - 2}" '
                   f'y2="{y(key) + ROW - 2}" stroke="#eee"/>')
    for e in events:
        if e["ph"] != "X":
            continue
        key = (e["pid"], e["tid"])
        left, w = x(e["ts"]), max(e["dur"] * scale, 0.8)
        if e["cat"] in ("process", "thread"):
            out.append(f'<rect x="{left:.1f}" y="{y(key) + 3}" width="{w:.1f}" height="{ROW - 8}" '
                       f'fill="#dde6f0" rx="3"><title>{html.escape(e["name"])}</title></rect>')
        else:
            call = e.get("args", {}).get("call", e["name"])
            out.append(f'<rect x="{left:.1f}" y="{y(key) + 6}" width="{w:.1f}" height="{ROW - 14}" '
                       f'fill="{colour_of(e["name"])}"><title>{html.escape(str(call))}</title></rect>')
    for e in events:
        if e["ph"] == "i":
            key = (e["pid"], e["tid"])
            cx, top = x(e["ts"]), y(key) + 2
            out.append(f'<path d="M{cx - 5:.1f},{top} L{cx + 5:.1f},{top} L{cx:.1f},{top + 9}" '
                       f'fill="#c0392b"><title>{html.escape(e["name"])}</title></path>')
            # (the label goes left of a mark near the right edge)
            anchor = ' text-anchor="end"' if cx > WIDTH - 160 else ""
            tx = cx - 7 if anchor else cx + 6
            out.append(f'<text x="{tx:.1f}" y="{top + 9}" font-size="10" fill="#c0392b"{anchor}>'
                       f'{html.escape(e["name"])}</text>')
    starts = {e["id"]: e for e in events if e["ph"] == "s"}
    for e in events:
        if e["ph"] == "f" and e["id"] in starts:
            s = starts[e["id"]]
            a, b = (s["pid"], s["tid"]), (e["pid"], e["tid"])
            if a in row_of and b in row_of:
                out.append(f'<line x1="{x(s["ts"]):.1f}" y1="{y(a) + ROW / 2}" x2="{x(e["ts"]):.1f}" '
                           f'y2="{y(b) + 4}" stroke="#c0392b" stroke-width="1.5" '
                           f'marker-end="url(#arrow)"><title>{html.escape(s["name"])}</title></line>')
    axis = TOP + len(tracks) * ROW + 16
    out.append(f'<text x="{LABEL}" y="{axis}" font-size="10" fill="#666">0 ms</text>')
    out.append(f'<text x="{WIDTH - 20}" y="{axis}" font-size="10" fill="#666" text-anchor="end">'
               f'{(t1 - t0) / 1000:.1f} ms</text>')
    left = LABEL
    for name in legend:
        out.append(f'<rect x="{left}" y="{height - 22}" width="10" height="10" fill="{colour_of(name)}"/>')
        out.append(f'<text x="{left + 14}" y="{height - 13}" font-size="10">{html.escape(name)} '
                   f'({counts[name]})</text>')
        left += 20 + 7 * len(f"{name} ({counts[name]})")
    out.append("</svg>")
    return "\n".join(out)


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        trace = json.load(f)
    svg = draw(trace)
    with open(argv[2], "x", encoding="utf-8") as f:   # never over an existing file
        f.write(svg)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
