"""Rule sets a network chooses: which special-cause rules flag a point, with which thresholds.

One frozen ``RuleSet`` per published rule set; the engine (``analyse``) and the per-series
reference loop both read their thresholds from here, so a network switches rule set by one line
of ``network.toml`` (``[statistics] rules = "mdc"``; see ``rule_set_from_mapping``).

Sources, and where they disagree:

* ``ihi`` -- Perla, Provost & Murray (2011) "The run chart: a simple analytical tool for learning
  from variation in healthcare processes", BMJ Qual Saf 20:46-51: shift >= 6 points one side of
  the median, trend >= 5 points all going up or all going down, too few / too many runs (their
  Table 1), astronomical point (judgement: not automated; on control charts a point beyond the
  3-sigma limits stands in for it). A point on the median neither adds to nor breaks a shift; of
  equal consecutive values only one is counted in a trend.
* ``anhoej`` -- Anhøj & Olesen (2014) PLoS ONE 9(11): e113825, as in qicharts2 0.8: a run longer
  than round(log2 n) + 3 or fewer crossings than qbinom(0.05, n - 1, 0.5) (n = points not on the
  centre line), plus Shewhart's 3-sigma rule on control charts. No trend rule (Anhøj & Olesen
  found it "virtually useless"), so a trend override is refused. The run limit grows with n, so
  there is no fixed shift to override either.
* ``mdc`` -- NHS England Making Data Count, as coded in NHSRplotthedots 0.2 (``ptd_spc``): a
  point beyond the 3-sigma process limits, a run of 7 one side of the mean, a trend of 7 points
  each strictly above (below) the previous one, 2 of 3 consecutive points beyond 2 sigma all on
  the same side. A point on the mean and a tie both break a run/trend. The MDC Excel tool v5
  uses 6 for shift and trend: ``shift = 6``/``trend = 6`` are accepted overrides. Precedence is
  NHSRplotthedots' ``case_when`` order (beyond limits, trend, 2 of 3, shift). NHS Digital's
  design system documents another order (trend, shift, 2 of 3, single point); joyflow follows
  NHSRplotthedots because its numbers are the ones the tests reproduce. The latest point's type
  sets the variation icon. ``fix_after_n_points`` must be >= 12 there, so is ``baseline``.
  NHSRplotthedots still draws trial limits (with a warning) on fewer than 12 points; the MDC
  guidance asks for at least 12, and joyflow shows "too few points for limits" below 12 unless a
  network lowers ``min_points``.
* ``healthcare-data-guide`` -- Provost & Murray, The Health Care Data Guide (2011; 2nd ed. 2022),
  Shewhart chart rules: 1 point beyond the limits, 8 or more consecutive points one side of the
  centre line, 6 consecutive points all increasing or all decreasing, 2 of 3 consecutive points
  in the outer third (beyond 2 sigma) on one side, 15 consecutive points in the inner third.
  Centre-line points and ties are treated as in the authors' run-chart rules (neither count nor
  break). Precedence follows the order the book lists its rules. The floor of 12 baseline points
  for limits is joyflow's choice (the same as MDC's), not a number from the book; a network can
  lower it with ``min_points``.
* ``default`` -- exactly what joyflow computed before rule sets existed, so networks that choose
  nothing do not change silently: MDC point types (7/7, NHSRplotthedots), the Anhøj runs test
  for ``runs_signal`` and IHI (6/5) shift/trend bands for ``shift_point``/``trend_point``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from .constants import IHI_SHIFT, IHI_TREND, MDC_RUN, MDC_TREND

_BASE = frozenset({"baseline", "min_points"})  # every rule set accepts these

RULES: tuple[str, ...] = ("beyond_limits", "trend", "two_of_three", "shift", "longest_run", "inner_third")
"""Names of the point rules, as written in ``signal_rule``."""

Handling = Literal["ignore", "break"]


class RuleSetError(ValueError):
    """A rule-set choice a network cannot make; the message says what to change."""


@dataclass(frozen=True)
class RuleSet:
    """One rule set: thresholds, tie/centre-line handling, precedence, baseline.

    ``shift``/``trend``/``inner_third`` are run lengths (None: the rule is not part of the set);
    ``longest_run`` is Anhøj's data-dependent run rule. ``on_centre_line``: "ignore" -- a point on
    the centre line neither counts nor breaks a run (excluded and missing points are skipped too);
    "break" -- it ends the run (so do missing points; NHSRplotthedots). ``ties``: the same for two
    equal consecutive values in a trend. ``runs_test`` sets the per-part ``runs_signal``.
    ``bands`` (legacy default only): shift/trend lengths for ``shift_point``/``trend_point`` when
    they differ from the colouring rules. ``baseline``: points of each phase that fix its limits
    (None: all). ``min_points``: fewest baseline points for control limits.
    """

    name: str
    shift: int | None
    trend: int | None
    two_of_three: bool
    beyond_limits: bool
    inner_third: int | None
    longest_run: bool
    on_centre_line: Handling
    ties: Handling
    runs_test: Literal["anhoej", "ihi"] | None
    precedence: tuple[str, ...]
    min_points: int
    baseline: int | None = None
    bands: tuple[int, int] | None = None
    overridable: frozenset[str] = field(default_factory=frozenset)
    min_baseline: int = 1
    source: str = ""

    def with_overrides(self, **overrides: int | None) -> RuleSet:
        """A copy with the thresholds this set defines changed; anything else is refused."""
        for key, value in overrides.items():
            if key not in self.overridable:
                raise RuleSetError(_refusal(self, key))
            _check_value(self, key, value)
        return replace(self, **overrides)  # type: ignore[arg-type]

    def rules_used(self) -> tuple[str, ...]:
        """The point rules this set applies, in precedence order."""
        on = {
            "beyond_limits": self.beyond_limits,
            "trend": self.trend is not None,
            "two_of_three": self.two_of_three,
            "shift": self.shift is not None,
            "longest_run": self.longest_run,
            "inner_third": self.inner_third is not None,
        }
        return tuple(r for r in self.precedence if on[r])


def _refusal(rs: RuleSet, key: str) -> str:
    if key == "trend" and rs.name == "anhoej":
        return (
            "The Anhøj rules have no trend rule (Anhøj & Olesen 2014 found it adds false signals): "
            'remove \'trend\' from [statistics], or choose rules = "ihi", "mdc" or "healthcare-data-guide".'
        )
    if key == "shift" and rs.name == "anhoej":
        return (
            "The Anhøj run limit grows with the number of points (round(log2 n) + 3), so there is no "
            "fixed 'shift' to set: remove 'shift' from [statistics], or choose another rule set."
        )
    if rs.name == "default":
        return (
            f'\'{key}\' can only be set together with a named rule set: add rules = "ihi", "anhoej", '
            '"mdc" or "healthcare-data-guide" to [statistics].'
        )
    allowed = ", ".join(sorted(rs.overridable)) or "nothing"
    return (
        f"The {rs.name} rule set does not define '{key}': remove it from [statistics] (it accepts {allowed})."
    )


def _check_value(rs: RuleSet, key: str, value: Any) -> None:
    if value is None and key == "baseline":
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise RuleSetError(f"[statistics] {key} must be a whole number, not {value!r}.")
    if key == "shift" and rs.name == "mdc" and value not in (6, 7):
        raise RuleSetError(
            f"Making Data Count uses a shift of 7 (NHSRplotthedots) or 6 (MDC Excel tool v5), not {value}: "
            "set shift = 6 or shift = 7."
        )
    if key == "trend" and rs.name == "mdc" and value not in (6, 7):
        raise RuleSetError(
            f"Making Data Count uses a trend of 7 (NHSRplotthedots) or 6 (MDC Excel tool v5), not {value}: "
            "set trend = 6 or trend = 7."
        )
    if key in ("shift", "trend", "inner_third") and not 3 <= value <= 30:
        raise RuleSetError(f"[statistics] {key} = {value} is outside 3-30 points: choose a published value.")
    if key == "baseline" and value < rs.min_baseline:
        raise RuleSetError(
            f"The {rs.name} rule set fixes limits on at least {rs.min_baseline} points: "
            f"set baseline to {rs.min_baseline} or more (it is {value})."
        )
    if key == "min_points" and value < 1:
        raise RuleSetError(f"[statistics] min_points must be at least 1 (it is {value}).")


DEFAULT_RULES = RuleSet(
    name="default",
    shift=MDC_RUN,
    trend=MDC_TREND,
    two_of_three=True,
    beyond_limits=True,
    inner_third=None,
    longest_run=False,
    on_centre_line="break",
    ties="break",
    runs_test="anhoej",
    precedence=("beyond_limits", "trend", "two_of_three", "shift"),
    min_points=1,
    bands=(IHI_SHIFT, IHI_TREND),
    overridable=_BASE,
    source="joyflow before issue 16: NHSRplotthedots 0.2 point types, Anhøj runs test, IHI 6/5 bands",
)

RULE_SETS: dict[str, RuleSet] = {
    "ihi": RuleSet(
        name="ihi",
        shift=IHI_SHIFT,
        trend=IHI_TREND,
        two_of_three=False,
        beyond_limits=True,
        inner_third=None,
        longest_run=False,
        on_centre_line="ignore",
        ties="ignore",
        runs_test="ihi",
        precedence=("beyond_limits", "shift", "trend"),
        min_points=1,
        overridable=_BASE | {"shift", "trend"},
        source="Perla, Provost & Murray 2011, BMJ Qual Saf 20:46-51",
    ),
    "anhoej": RuleSet(
        name="anhoej",
        shift=None,
        trend=None,
        two_of_three=False,
        beyond_limits=True,
        inner_third=None,
        longest_run=True,
        on_centre_line="ignore",
        ties="ignore",
        runs_test="anhoej",
        precedence=("beyond_limits", "longest_run"),
        min_points=1,
        overridable=_BASE,
        source="Anhøj & Olesen 2014, PLoS ONE 9(11): e113825; qicharts2 0.8",
    ),
    "mdc": RuleSet(
        name="mdc",
        shift=MDC_RUN,
        trend=MDC_TREND,
        two_of_three=True,
        beyond_limits=True,
        inner_third=None,
        longest_run=False,
        on_centre_line="break",
        ties="break",
        runs_test=None,
        precedence=("beyond_limits", "trend", "two_of_three", "shift"),
        min_points=12,
        overridable=_BASE | {"shift", "trend"},
        min_baseline=12,
        source="NHS England Making Data Count; NHSRplotthedots 0.2",
    ),
    "healthcare-data-guide": RuleSet(
        name="healthcare-data-guide",
        shift=8,
        trend=6,
        two_of_three=True,
        beyond_limits=True,
        inner_third=15,
        longest_run=False,
        on_centre_line="ignore",
        ties="ignore",
        runs_test=None,
        precedence=("beyond_limits", "shift", "trend", "two_of_three", "inner_third"),
        min_points=12,
        overridable=_BASE | {"shift", "trend", "inner_third"},
        source="Provost & Murray, The Health Care Data Guide (2011), Shewhart chart rules",
    ),
}

MAPPING_KEYS: tuple[str, ...] = ("rules", "shift", "trend", "inner_third", "baseline", "min_points")


def rule_set(name: str | None = None, **overrides: int | None) -> RuleSet:
    """A rule set by name (None or "default": today's), with threshold overrides."""
    if name is None or name == "default":
        base = DEFAULT_RULES
    else:
        key = str(name).strip().lower().replace("_", "-")
        key = {"hcdg": "healthcare-data-guide", "anhøj": "anhoej"}.get(key, key)
        if key not in RULE_SETS:
            names = ", ".join(f'"{n}"' for n in RULE_SETS)
            raise RuleSetError(f"Unknown rule set {name!r} in [statistics] rules: choose one of {names}.")
        base = RULE_SETS[key]
    return base.with_overrides(**overrides) if overrides else base


def rule_set_from_mapping(table: Mapping[str, Any] | None) -> RuleSet:
    """The rule set described by ``network.toml``'s ``[statistics]`` table (as a plain mapping)."""
    table = dict(table or {})
    unknown = sorted(set(table) - set(MAPPING_KEYS))
    if unknown:
        raise RuleSetError(
            f"Unknown setting(s) {', '.join(unknown)} in [statistics]: the rule settings are "
            f"{', '.join(MAPPING_KEYS)}."
        )
    name = table.pop("rules", None)
    if name is not None and not isinstance(name, str):
        raise RuleSetError(f"[statistics] rules must be a name in quotes, not {name!r}.")
    return rule_set(name, **table)
