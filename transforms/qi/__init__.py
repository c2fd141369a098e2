"""QI statistics engine: run-chart rules, control limits and Making Data Count summaries.

All team x measure series are analysed at once with Polars group-wise expressions; a plain
Python per-series implementation (``loop_reference``) serves as test oracle and benchmark floor.
"""

from .analyse import QIResult, analyse, analyse_one, parts_from_splits
from .bench import bench_series, time_analyse_vs_loop

__all__ = ["QIResult", "analyse", "analyse_one", "bench_series", "parts_from_splits", "time_analyse_vs_loop"]
