"""Property: the vectorised engine equals the independent per-series Python loop on random input."""

from __future__ import annotations

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from bench.qi_loop import analyse_loop
from transforms.qi import QIResult, analyse
from transforms.qi.constants import CHARTS, NHSR_I_FACTOR, QICHARTS2_I_FACTOR
from transforms.qi.rulesets import DEFAULT_RULES, RULE_SETS, RuleSet, rule_set

# every rule set, plus the overrides networks are expected to use
RULE_CHOICES: list[RuleSet] = [
    DEFAULT_RULES,
    rule_set(None, baseline=6),
    *RULE_SETS.values(),
    rule_set("mdc", shift=6, trend=6, min_points=2),
    rule_set("mdc", baseline=12),
    rule_set("ihi", shift=7, trend=6, baseline=6, min_points=4),
    rule_set("healthcare-data-guide", inner_third=5, min_points=3),
]

# values on a quarter grid keep sums exact, so both implementations see identical centre lines


@st.composite
def one_series(draw: st.DrawFn, sid: int) -> pl.DataFrame:
    chart = draw(st.sampled_from(CHARTS))
    size = draw(st.integers(1, 30))
    counts = chart in ("p", "pp", "u", "up", "c")
    with_n = chart in ("p", "pp", "u", "up") or (chart in ("run", "i", "mr") and draw(st.booleans()))
    n = [draw(st.integers(1, 60)) * 1.0 for _ in range(size)] if with_n else [None] * size
    y: list[float | None] = []
    for i in range(size):
        if draw(st.integers(0, 19)) == 0:
            y.append(None)
        elif chart in ("p", "pp"):
            y.append(float(draw(st.integers(0, int(n[i])))))  # type: ignore[arg-type]
        elif counts:
            y.append(float(draw(st.integers(0, 40))))
        else:
            y.append(draw(st.integers(-40, 40)) / 4)
    splits = (
        sorted(draw(st.sets(st.integers(1, max(size - 1, 1)), max_size=2))) if draw(st.booleans()) else []
    )
    part = [1 + sum(1 for s in splits if s < i) for i in range(1, size + 1)]
    freeze = draw(st.one_of(st.none(), st.integers(1, size + 2)))
    # a per-phase baseline length (NHSRplotthedots fix_after_n_points), constant within a part
    fix_by_part = {q: draw(st.one_of(st.none(), st.integers(1, size))) for q in set(part)}
    return pl.DataFrame(
        {
            "series_id": [sid] * size,
            "x": list(range(size)),
            "y": pl.Series(y, dtype=pl.Float64),
            "n": pl.Series(n, dtype=pl.Float64),
            "chart": [chart] * size,
            "direction": pl.Series([draw(st.sampled_from(["up", "down", None]))] * size, dtype=pl.Utf8),
            "target": pl.Series(
                [draw(st.one_of(st.none(), st.integers(-5, 40).map(float)))] * size, dtype=pl.Float64
            ),
            "freeze": pl.Series([freeze] * size, dtype=pl.Int64),
            "fix_after": pl.Series([fix_by_part[q] for q in part], dtype=pl.Int64),
            "part": pl.Series(part, dtype=pl.Int64),
            "exclude": [draw(st.integers(0, 9)) == 0 for _ in range(size)],
            "screen": [draw(st.booleans())] * size,
        }
    )


@st.composite
def many_series(draw: st.DrawFn) -> pl.DataFrame:
    k = draw(st.integers(1, 6))
    frames = [draw(one_series(sid)) for sid in range(k)]
    df = pl.concat(frames)
    return df.sample(fraction=1.0, shuffle=True, seed=draw(st.integers(0, 1000)))  # order must not matter


def assert_same(a: QIResult, b: QIResult) -> None:
    for name in ("points", "parts", "series"):
        fa, fb = getattr(a, name), getattr(b, name)
        assert fa.columns == fb.columns or set(fa.columns) == set(fb.columns), name
        fb = fb.select(fa.columns).cast(dict(fa.schema))
        assert_frame_equal(fa, fb, check_exact=False, rel_tol=1e-9, abs_tol=1e-12)


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(df=many_series(), nhsr=st.booleans(), rules=st.sampled_from(RULE_CHOICES))
def test_vectorised_equals_per_series_loop(df: pl.DataFrame, nhsr: bool, rules: RuleSet) -> None:
    factor = NHSR_I_FACTOR if nhsr else QICHARTS2_I_FACTOR
    assert_same(
        analyse(df, i_factor=factor, rules=rules),
        analyse_loop(df, ["series_id"], i_factor=factor, rules=rules),
    )
