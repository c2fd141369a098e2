"""QI statistics engine: run-chart rules, control limits and Making Data Count summaries.

All team x measure series of a run are analysed at once with Polars (``analyse``); a plain
Python per-series implementation (``bench/qi_loop.py``) is the test oracle and benchmark floor.

Input (long, one row per point): the series key columns, ``x`` (order within a series), ``y``
and optionally ``n``, ``chart`` (run, i, mr, p, pp, u, up, c), ``direction`` (up/down/null),
``target``, ``freeze``, ``fix_after``, ``part``, ``exclude``, ``screen``. Semantics follow
qicharts2 0.8:

* plotted value: y/n for p, pp, u, up; y/n for run, i and mr when the series has denominators;
  the count y for c; MR charts plot |value - previous value| within a part;
* ``part``: a new part starts where the value changes; each part has its own centre line,
  limits and runs analysis (qicharts2 ``part``; ``analyse_one`` takes split points like
  ``part = c(12, 24)``);
* ``freeze``: the first ``freeze`` points of the series are the baseline of the first part
  (qicharts2 ``freeze``);
* ``fix_after``: the first ``fix_after`` points of the row's part are its baseline
  (NHSRplotthedots ``fix_after_n_points``, which applies per rebase group), so a re-baselined
  phase can have its own baseline length; without either, the rule set's ``baseline`` applies
  to every part, and without that all points of a part are its baseline;
* ``exclude``: the point is left out of centre line, limits, moving ranges (bridged) and the
  runs analysis, but is still plotted and classified;
* ``screen``: Nelson's moving-range screening for I, P' and U' charts -- ranges >= 3.267 x their
  mean are dropped before re-averaging. qicharts2 (once attached) and NHSRplotthedots both
  screen by default; here it is off unless asked for (null = False);
* I chart limits: mean +/- 3 x AMR / 1.128 (qicharts2); pass ``i_factor=NHSR_I_FACTOR`` (2.66)
  to reproduce NHSRplotthedots to the last digit.

Which special-cause rules flag a point is the network's rule set (``rulesets``: ``ihi``,
``anhoej``, ``mdc``, ``healthcare-data-guide``; ``analyse(..., rules=...)``). Every rule runs
within one part, never across a phase break. Each point names the rule that flagged it
(``signal_rule``); the series summary names the rule behind its variation (``variation_rule``)
and whether its latest phase had too few points for limits (``too_few_points``; the rule set's
``min_points``). The default rule set reproduces the engine before rule sets existed:

Run-chart rules per part: Anhøj (longest run > round(log2 n) + 3, crossings <
qbinom(0.05, n - 1, 0.5); qicharts2 applies them with every chart's centre line, never on MR
charts) and IHI (shift >= 6, trend >= 5 ignoring repeats, too few/many runs from the exact
Swed-Eisenhart distribution, 2.5 % per tail). The IHI "astronomical point" rule needs human
judgement and is not automated; on control charts ``sigma_signal`` is its objective stand-in.
Point types follow NHSRplotthedots 0.2 (see ``mdc``); a series' variation is its latest point's
type, and assurance compares the target with the latest point's limits.
"""

from .analyse import QIResult, analyse, analyse_one, parts_from_splits
from .rulesets import DEFAULT_RULES, RULE_SETS, RuleSet, RuleSetError, rule_set, rule_set_from_mapping

__all__ = [
    "DEFAULT_RULES",
    "RULE_SETS",
    "QIResult",
    "RuleSet",
    "RuleSetError",
    "analyse",
    "analyse_one",
    "parts_from_splits",
    "rule_set",
    "rule_set_from_mapping",
]
