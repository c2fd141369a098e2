"""QI statistics engine: run-chart rules, control limits and Making Data Count summaries.

All team x measure series of a run are analysed at once with Polars (``analyse``); a plain
Python per-series implementation (``bench/qi_loop.py``) is the test oracle and benchmark floor.

Input (long, one row per point): the series key columns, ``x`` (order within a series), ``y``
and optionally ``n``, ``chart`` (run, i, mr, p, pp, u, up, c), ``direction`` (up/down/null),
``target``, ``freeze``, ``part``, ``exclude``, ``screen``. Semantics follow qicharts2 0.8:

* plotted value: y/n for p, pp, u, up; y/n for run, i and mr when the series has denominators;
  the count y for c; MR charts plot |value - previous value| within a part;
* ``part``: a new part starts where the value changes; each part has its own centre line,
  limits and runs analysis (qicharts2 ``part``; ``analyse_one`` takes split points like
  ``part = c(12, 24)``);
* ``freeze``: the first ``freeze`` points of the series are the baseline of the first part
  (qicharts2 ``freeze``; later parts always use all their points);
* ``exclude``: the point is left out of centre line, limits, moving ranges (bridged) and the
  runs analysis, but is still plotted and classified;
* ``screen``: Nelson's moving-range screening for I, P' and U' charts -- ranges >= 3.267 x their
  mean are dropped before re-averaging. qicharts2 (once attached) and NHSRplotthedots both
  screen by default; here it is off unless asked for (null = False);
* I chart limits: mean +/- 3 x AMR / 1.128 (qicharts2); pass ``i_factor=NHSR_I_FACTOR`` (2.66)
  to reproduce NHSRplotthedots to the last digit.

Run-chart rules per part: Anhøj (longest run > round(log2 n) + 3, crossings <
qbinom(0.05, n - 1, 0.5); qicharts2 applies them with every chart's centre line, never on MR
charts) and IHI (shift >= 6, trend >= 5 ignoring repeats, too few/many runs from the exact
Swed-Eisenhart distribution, 2.5 % per tail). The IHI "astronomical point" rule needs human
judgement and is not automated; on control charts ``sigma_signal`` is its objective stand-in.
Point types follow NHSRplotthedots 0.2 (see ``mdc``); a series' variation is its latest point's
type, and assurance compares the target with the latest point's limits.
"""

from .analyse import QIResult, analyse, analyse_one, parts_from_splits

__all__ = ["QIResult", "analyse", "analyse_one", "parts_from_splits"]
