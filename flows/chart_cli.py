"""`joyflow chart`: one series from a CSV, analysed and drawn exactly as the reports do."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from joyflow.errors import JoyflowError


def read_series(csv_file: Path) -> pl.DataFrame:
    try:
        frame = pl.read_csv(csv_file, infer_schema=False)
    except Exception as exc:
        raise JoyflowError(f"{csv_file} cannot be read as CSV: {str(exc)[:200]}") from None
    frame = frame.rename({c: c.strip().lower() for c in frame.columns})
    if "y" not in frame.columns:
        raise JoyflowError(f"{csv_file} needs a 'y' column (and optionally 'n' and 'x').")
    cols = [pl.col("y").str.strip_chars().cast(pl.Float64, strict=False)]
    if "n" in frame.columns:
        cols.append(pl.col("n").str.strip_chars().cast(pl.Float64, strict=False))
    typed = frame.with_columns(cols)
    bad = typed.with_row_index("line", offset=2).filter(
        pl.col("y").is_null() & frame.get_column("y").is_not_null()
    )
    if bad.height:
        raise JoyflowError(f"{csv_file}: y on line {bad.get_column('line')[0]} is not a number.")
    if typed.height == 0:
        raise JoyflowError(f"{csv_file} has no rows.")
    return typed


def _x_values(frame: pl.DataFrame) -> list | None:
    """Numbers stay numbers, ISO months/dates stay text (they sort as time); anything else keeps file order."""
    if "x" not in frame.columns:
        return None
    text = frame.get_column("x").str.strip_chars()
    numbers = text.cast(pl.Float64, strict=False)
    if numbers.null_count() == text.null_count():
        return [int(v) if v is not None and v.is_integer() else v for v in numbers.to_list()]
    if text.str.contains(r"^\d{4}-\d{2}(-\d{2})?$").all():
        return text.to_list()
    return None


def _rebase_splits(x: list | None, size: int, rebase: list[str]) -> list[int]:
    """``--rebase 2026-04``: a new phase starts at that x (its 1-based position becomes a split)."""
    labels = [str(v) for v in (x if x is not None else range(1, size + 1))]
    splits = []
    for value in rebase:
        if value not in labels:
            raise JoyflowError(f"--rebase {value}: no point has x = {value}.")
        splits.append(labels.index(value))
    return splits


def _summary_words(series: dict) -> dict:
    from transforms.qi.mdc import MDC_ASSURANCE_WORDS, MDC_VARIATION_WORDS

    return {
        **series,
        "variation_words": MDC_VARIATION_WORDS.get(series.get("variation") or "", None),
        "assurance_words": MDC_ASSURANCE_WORDS.get(series.get("assurance") or "", None),
    }


def chart_command(
    csv_file: Path,
    chart: str,
    freeze: int | None,
    parts: list[int],
    exclude: list[int],
    screen: bool,
    target: float | None,
    direction: str | None,
    out_file: Path | None,
    rules: str | None = None,
    baseline: int | None = None,
    rebase: list[str] | None = None,
) -> dict:
    """The analysis under the chosen rule set (``result["series"]``: variation, assurance, the
    flagging rule) and, in ``result["rule_sets"]``, the same summary under every rule set."""
    from transforms.qi import RULE_SETS, RuleSetError, analyse_one, rule_set

    if direction not in (None, "up", "down"):
        raise JoyflowError("--direction must be up or down.")
    frame = read_series(csv_file)
    n = frame.get_column("n").to_list() if "n" in frame.columns else None
    if chart in ("p", "pp", "u", "up") and n is None:
        raise JoyflowError(f"A {chart} chart needs denominators: add an 'n' column to {csv_file}.")
    x = _x_values(frame)
    y = frame.get_column("y").to_list()
    splits = sorted({*parts, *_rebase_splits(x, len(y), rebase or [])})
    try:
        chosen = rule_set(rules, **({"baseline": baseline} if baseline is not None else {}))
    except RuleSetError as exc:
        raise JoyflowError(
            str(exc).replace("[statistics] ", "--").replace("[statistics]", "the options")
        ) from None
    common = dict(
        n=n,
        x=x,
        chart=chart,
        freeze=freeze,
        part=splits or None,
        exclude=exclude or None,
        screen=screen,
        target=target,
        direction=direction,
        summary=True,
    )
    try:
        result = analyse_one(y, rules=chosen, **common)
        result["series"] = _summary_words(result["series"])
        every = {}
        for name, rs in {"default": rule_set(None), **RULE_SETS}.items():
            one = analyse_one(y, rules=rs, fix_after=baseline, **common)
            every[name] = {
                "series": _summary_words(one["series"]),
                "points": [
                    {"x": p["x"], "point_type": p["point_type"], "signal_rule": p["signal_rule"]}
                    for p in one["points"]
                ],
            }
        result["rule_sets"] = every
    except ValueError as exc:
        raise JoyflowError(str(exc)) from None
    if out_file is not None:
        draw(result, chart, target, direction, out_file, title=csv_file.stem, rules=chosen.name)
    return result


def draw(
    result: dict,
    chart: str,
    target: float | None,
    direction: str | None,
    out_file: Path,
    title: str,
    rules: str | None = None,
) -> None:
    from reports.charts import spc_chart_svg

    pts = pl.DataFrame(result["points"]).rename({"y": "value"})
    from reports.context import CHART_WORDS

    svg = spc_chart_svg(
        pts, title=title, target=target, direction=direction, chart_label=CHART_WORDS[chart], rules=rules
    )
    suffix = out_file.suffix.lower()
    if suffix == ".svg":
        out_file.write_text(svg, encoding="utf-8")
        return
    if suffix not in (".pdf", ".png"):
        raise JoyflowError("--out must end in .svg, .pdf or .png")
    from markupsafe import escape

    from reports.render import html_to_pdf

    html = (
        f"<!DOCTYPE html><html lang='en'><head><title>{escape(title)}</title></head><body>{svg}</body></html>"
    )
    pdf_path = out_file if suffix == ".pdf" else out_file.with_suffix(".tmp.pdf")
    html_to_pdf(html, pdf_path, css="chart.css")
    if suffix == ".png":
        import pypdfium2

        doc = pypdfium2.PdfDocument(str(pdf_path))
        doc[0].render(scale=2).to_pil().save(out_file)
        doc.close()
        pdf_path.unlink()
