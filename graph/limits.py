"""The limits every input reader applies, taken from :class:`graph.settings.Settings` in one object.

Readers are called from the CLI, the nightly job, the API and tests, each with its own settings;
passing one frozen object down (instead of reading the process-wide settings deep inside a reader)
keeps a reader a pure function of its arguments. The defaults are read off the settings' own field
defaults, so a number is written once, in ``graph/settings.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from graph.settings import Settings

if TYPE_CHECKING:
    from typing import Self

# ReadLimits field -> the Settings field it comes from.
_SOURCES = {
    "max_field_chars": "max_field_chars",
    "max_results": "max_results_per_search",
    "max_id_chars": "max_id_chars",
    "max_name_chars": "max_name_chars",
    "max_list_items": "max_list_items",
    "max_record_bytes": "max_record_bytes",
    "max_input_bytes": "max_input_bytes",
    "max_signal_value": "max_signal_value",
    "max_price_per_mtok": "max_price_per_mtok",
    "ts_earliest": "ts_earliest",
    "ts_future_tolerance_s": "ts_future_tolerance_s",
}


def _default(name: str) -> Any:
    return Settings.model_fields[_SOURCES[name]].default


@dataclass(frozen=True)
class ReadLimits:
    """Sizes, value ranges and the time window a reader accepts; build with :meth:`from_settings`."""

    max_field_chars: int = _default("max_field_chars")
    max_results: int = _default("max_results")
    max_id_chars: int = _default("max_id_chars")
    max_name_chars: int = _default("max_name_chars")
    max_list_items: int = _default("max_list_items")
    max_record_bytes: int = _default("max_record_bytes")
    max_input_bytes: int = _default("max_input_bytes")
    max_signal_value: float = _default("max_signal_value")
    max_price_per_mtok: float = _default("max_price_per_mtok")
    ts_earliest: date = _default("ts_earliest")
    ts_future_tolerance_s: float = _default("ts_future_tolerance_s")

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        return cls(**{f.name: getattr(settings, _SOURCES[f.name]) for f in fields(cls)})

    def ts_window(self, now: datetime | None = None) -> tuple[datetime, datetime]:
        """The earliest and the latest accepted timestamp (UTC), as of ``now``."""
        now = now or datetime.now(UTC)
        earliest = datetime.combine(self.ts_earliest, time(), tzinfo=UTC)
        return earliest, now + timedelta(seconds=self.ts_future_tolerance_s)

    def latest_date(self, now: datetime | None = None) -> date:
        """The last accepted day for a date without a time (a release date)."""
        return self.ts_window(now)[1].date()


DEFAULT_LIMITS = ReadLimits()
"""The limits of default settings, for callers (and record models) given none."""
