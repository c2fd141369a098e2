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
) -> dict:
    from transforms.qi import analyse_one

    if direction not in (None, "up", "down"):
        raise JoyflowError("--direction must be up or down.")
    if chart in ("p", "pp", "u", "up"):
        pass
    frame = read_series(csv_file)
    n = frame.get_column("n").to_list() if "n" in frame.columns else None
    if chart in ("p", "pp", "u", "up") and n is None:
        raise JoyflowError(f"A {chart} chart needs denominators: add an 'n' column to {csv_file}.")
    x = _x_values(frame)
    try:
        result = analyse_one(
            frame.get_column("y").to_list(),
            n=n,
            x=x,
            chart=chart,
            freeze=freeze,
            part=parts or None,
            exclude=exclude or None,
            screen=screen,
            target=target,
            direction=direction,
        )
    except ValueError as exc:
        raise JoyflowError(str(exc)) from None
    if out_file is not None:
        draw(result, chart, target, direction, out_file, title=csv_file.stem)
    return result


def draw(
    result: dict, chart: str, target: float | None, direction: str | None, out_file: Path, title: str
) -> None:
    from reports.charts import spc_chart_svg

    pts = pl.DataFrame(result["points"]).rename({"y": "value"})
    from reports.context import CHART_WORDS

    svg = spc_chart_svg(pts, title=title, target=target, direction=direction, chart_label=CHART_WORDS[chart])
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
