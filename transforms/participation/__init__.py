"""What the network asks of each team besides the monthly return (seed 003): three named roles,
a letter of support, a readiness baseline, and two of its people at every network meeting.

Pure Polars over the warehouse's frames: ``roles`` (who holds which role on a date, and what is
vacant since when), ``meetings`` (which meetings concern which team, and whether two of its named
participants attended), ``watch`` (the teams drifting away, each with its reasons in words).
"""
