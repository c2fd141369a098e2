"""`joyflow chart`: the analysts' contract (JSON shape, exit codes) and drawing as the reports do."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from xml.etree import ElementTree

import pypdfium2

from tests.test_cli import run_cli

Y = [10, 12, 9, 11, 14, 10, 13, 25, 11, 12]


def _csv(tmp_path: Path, rows: list[tuple], header: str) -> Path:
    path = tmp_path / "series.csv"
    path.write_text(header + "\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n")
    return path


def test_i_chart_json_contract_and_limits(tmp_path: Path) -> None:
    path = _csv(tmp_path, list(enumerate(Y, start=1)), "x,y")
    res = run_cli("chart", str(path), "--chart", "i", "--json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert set(out) == {"parts", "points", "series", "rule_sets"}  # issue 16: the summary, every rule set
    assert set(out["parts"][0]) >= {
        "n_useful",
        "longest_run",
        "longest_run_max",
        "crossings",
        "crossings_min",
        "runs_signal",
        "cl",
    }
    assert [p["x"] for p in out["points"]] == list(range(1, 11))
    mean = statistics.fmean(Y)
    mr = statistics.fmean(abs(a - b) for a, b in zip(Y[1:], Y[:-1], strict=True))
    p = out["points"][0]
    assert set(p) >= {"x", "y", "cl", "lcl", "ucl", "sigma_signal", "point_type"}
    assert round(p["cl"], 4) == round(mean, 4)
    # qicharts2's convention: sigma = mean MR / 1.128, limits at 3 sigma (3 / 1.128 = 2.6596, "2.66")
    assert round(p["ucl"], 4) == round(mean + 3 * mr / 1.128, 4)
    assert round(p["lcl"], 4) == round(mean - 3 * mr / 1.128, 4)


def test_p_chart_needs_denominators(tmp_path: Path) -> None:
    path = _csv(tmp_path, list(enumerate(Y, start=1)), "x,y")
    res = run_cli("chart", str(path), "--chart", "p")
    assert res.returncode == 2 and "needs denominators" in res.stderr and "Traceback" not in res.stderr


def test_out_svg_pdf_png(tmp_path: Path) -> None:
    path = _csv(tmp_path, [(f"2025-{m:02d}", y, 40) for m, y in enumerate(Y, start=1)], "x,y,n")
    svg = tmp_path / "c.svg"
    assert (
        run_cli(
            "chart", str(path), "--chart", "p", "--target", "0.3", "--direction", "down", "--out", str(svg)
        ).returncode
        == 0
    )
    root = ElementTree.fromstring(svg.read_text())
    assert root.tag.endswith("svg") and root.get("role") == "img"
    pdf, png = tmp_path / "c.pdf", tmp_path / "c.png"
    assert run_cli("chart", str(path), "--chart", "p", "--out", str(pdf)).returncode == 0
    assert pdf.read_bytes().startswith(b"%PDF") and len(pypdfium2.PdfDocument(str(pdf))) == 1
    assert run_cli("chart", str(path), "--chart", "run", "--out", str(png)).returncode == 0
    assert png.read_bytes().startswith(b"\x89PNG")
