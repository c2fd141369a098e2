"""Chart vocabulary and the published constants both implementations share."""

from __future__ import annotations

CHARTS: tuple[str, ...] = ("run", "i", "mr", "p", "pp", "u", "up", "c")
RATIO_CHARTS: tuple[str, ...] = ("p", "pp", "u", "up")  # need a denominator
PROPORTION_CHARTS: tuple[str, ...] = ("p", "pp")  # limits clamped to [0, 1]
NONNEG_CHARTS: tuple[str, ...] = ("p", "pp", "u", "up", "c")  # lower limits clamped at 0
MR_SIGMA_CHARTS: tuple[str, ...] = ("i", "pp", "up")  # sigma from an average moving range

D2 = 1.128  # E[moving range of 2] / sigma (Montgomery; qicharts2)
D4 = 3.267  # upper limit of a moving range / its mean (Nelson 1982 screening; MR chart UCL)
QICHARTS2_I_FACTOR = 3 / D2  # qicharts2: sigma = AMR / 1.128, limits = mean +/- 3 sigma
NHSR_I_FACTOR = 2.66  # NHSRplotthedots hard-codes 2.66 (and 2/3 of it for the 2-sigma lines)

MDC_RUN = 7  # NHSRplotthedots: 7 points one side of the mean
MDC_TREND = 7  # NHSRplotthedots: 7 points strictly increasing / decreasing
IHI_SHIFT = 6  # IHI run-chart shift: >= 6 points one side of the median
IHI_TREND = 5  # IHI run-chart trend: >= 5 points up or down (repeats ignored)
IHI_RUNS_MIN_N = 10  # the IHI runs table starts at 10 useful observations

POINT_TYPES: tuple[str, ...] = (
    "special_cause_improvement",
    "special_cause_concern",
    "special_cause_neutral",
    "common_cause",
)
ASSURANCE_TYPES: tuple[str, ...] = ("consistently_hit", "hit_and_miss", "consistently_miss")
