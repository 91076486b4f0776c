"""docs/draw_timeline.py, which made the README's picture, draws what a real
`tether trace --timeline` run wrote: a row per process and thread, a span
per traced call, an arrow per fork."""
import importlib.util
import json
import pathlib
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SVG = "{http://www.w3.org/2000/svg}"


def load_drawer():
    spec = importlib.util.spec_from_file_location("draw_timeline", ROOT / "docs" / "draw_timeline.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.timeout(60)
def test_the_picture_of_a_forking_run(target, tmp_path):
    trace = tmp_path / "t.json"
    run = subprocess.run([sys.executable, "-m", "tether", "trace", "-f", "-e", "trace=all",
                          "--timeline", str(trace), "-o", str(tmp_path / "out.txt"), "--",
                          target("mp_fork")], capture_output=True, timeout=50)
    assert run.returncode == 43, run.stderr
    document = json.loads(trace.read_text())
    out = tmp_path / "t.svg"
    assert load_drawer().main(["draw_timeline.py", str(trace), str(out)]) == 0
    svg = ET.parse(out).getroot()
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    # Two processes (parent and child), one thread each: two rows named after them.
    assert sum(1 for t in texts if t and t.startswith("mp_fork ")) == 2
    arrows = [line for line in svg.iter(f"{SVG}line") if line.get("marker-end")]
    assert len(arrows) == 1   # the fork
    calls = sum(1 for e in document["traceEvents"] if e["ph"] == "X" and e["cat"] == "syscall")
    spans = [r for r in svg.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    lives = sum(1 for e in document["traceEvents"] if e["ph"] == "X" and e["cat"] in ("process", "thread"))
    assert len(spans) == calls + lives
    # It never writes over an existing file.
    with pytest.raises(FileExistsError):
        load_drawer().main(["draw_timeline.py", str(trace), str(out)])
