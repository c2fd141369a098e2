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
    # The network's own staff who host meetings besides the coaches (facilitators, faculty,
    # administrators), by email: like the coaches of the registry, never listed as unmatched.
    staff: tuple[str, ...] = ()

    @classmethod
    def from_table(cls, table: dict, where: str) -> ParticipationSettings:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(table) - known)
        if unknown:
            raise ConfigError(
                f"{where}: [participation] has no setting '{unknown[0]}'; the settings are {', '.join(sorted(known))}."
            )
        values: dict[str, object] = {}
        for name, value in table.items():
            if name == "staff":
                values[name] = _emails(value, where)
                continue
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(
                    f"{where}: [participation] {name} must be a whole number above 0, not {value!r}."
                )
            values[name] = value
        return cls(**values)


def _emails(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and "@" in v for v in value):
        raise ConfigError(
            f"{where}: [participation] staff must be a list of email addresses, "
            f'e.g. staff = ["facilitator@network.example"], not {value!r}.'
        )
    return tuple(v.strip().lower() for v in value)
