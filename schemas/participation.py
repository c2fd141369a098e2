"""What the network counts as taking part, as set in ``network.toml``'s ``[participation]`` table."""

from __future__ import annotations

from dataclasses import dataclass, fields

from joyflow.errors import ConfigError


@dataclass(frozen=True)
class ParticipationSettings:
    """Thresholds for attendance and for the watch list of teams drifting away."""

    min_minutes: int = 30  # present at least this long counts as attending a meeting
    recent_meetings: int = 4  # the watch list looks at each team's last this-many meetings
    missed_meetings: int = 2  # ... and lists a team that had fewer than two named people at this many
    vacancy_days: int = 30  # a role vacant this long puts the team on the watch list
    recent_periods: int = 3  # the last this-many months of returns ...
    late_returns: int = 2  # ... of which this many late, missing or rejected put a team on the list
    stalled_months: int = 4  # a self-assessed progress score unchanged this long (below 4.0) does too

    @classmethod
    def from_table(cls, table: dict, where: str) -> ParticipationSettings:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(table) - known)
        if unknown:
            raise ConfigError(
                f"{where}: [participation] has no setting '{unknown[0]}'; the settings are {', '.join(sorted(known))}."
            )
        values = {}
        for name, value in table.items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(
                    f"{where}: [participation] {name} must be a whole number above 0, not {value!r}."
                )
            values[name] = value
        return cls(**values)
