"""Digest schedules: crontab lines in a time zone, their slots, and which slots are due.

Everything here is a pure function of its arguments (no clock, no database), so tests can
walk a schedule through any sequence of moments without sleeping.

APScheduler 3.x computes the fire times, but its `CronTrigger.from_crontab` numbers weekdays
from Monday = 0 (its issue 286): `0 9 * * 1-5` would fire Tuesday to Saturday. The weekday
field is therefore translated to day names here, with crontab's Sunday = 0 (or 7).
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.errors import UsageError
from bot.numbers import ascii_number

DEFAULT_CRONTAB = "0 9 * * 1-5"
#: A channel gets at most one digest this often (PROMOBOT_DIGEST_MIN_INTERVAL).
DEFAULT_MIN_INTERVAL = timedelta(hours=1)
#: How many upcoming runs check_min_interval compares. This is exact for limits of up to an
#: hour: with one minute value the runs are whole hours apart, and a line with more than
#: one minute value fires twice within an hour in its first firing hour.
_INTERVAL_RUNS = 200
#: At most this many missed slots of one schedule are recorded as skipped (the newest ones).
MAX_SKIPPED_RECORDS = 100
#: Slots older than this (or than the grace period, if longer) are neither posted nor recorded.
MISSED_HORIZON = timedelta(days=7)

_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
#: No crontab field needs a longer number, or a line longer than this.
_MAX_NUMBER_DIGITS = 4
_MAX_CRONTAB_LENGTH = 200
_LONG_NUMBER = re.compile(rf"\d{{{_MAX_NUMBER_DIGITS + 1},}}")
_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_EXAMPLE = "Use a line like `0 9 * * 1-5` (09:00 on weekdays) or `30 8 * * 1` (Mondays 08:30)"


class InvalidScheduleError(UsageError):
    """A crontab line or time zone that cannot be used."""


@dataclass(frozen=True)
class DigestSchedule:
    """When one channel gets its digest.

    `not_before` is when the schedule began: the subscription time, or for the settings'
    channel the process start less the grace period (used only until that channel has a
    recorded slot).
    """

    channel: str
    crontab: str
    timezone: str
    not_before: datetime
    from_settings: bool = False


@dataclass(frozen=True)
class SlotPlan:
    """What to do about the slots since the last recorded one: post one, skip the rest."""

    post: datetime | None
    skip: tuple[datetime, ...]


def check_timezone(name: str) -> ZoneInfo:
    """The zone for an IANA name; InvalidScheduleError names the problem otherwise."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidScheduleError(
            f"'{name}' is not an IANA time zone name. Use one like UTC or Europe/Berlin."
        ) from None


def cron_trigger(crontab: str, timezone: str) -> Any:
    """An APScheduler trigger firing as classic cron would (both day fields: either matches)."""
    from apscheduler.triggers.combining import OrTrigger
    from apscheduler.triggers.cron import CronTrigger

    zone = check_timezone(timezone)
    minute, hour, day, month, weekday = _fields(crontab)
    weekdays = _weekday_names(weekday, crontab)
    try:
        if day.startswith("*") or weekday.startswith("*"):
            return CronTrigger(
                minute=minute,
                hour=hour,
                day=day,
                month=month,
                day_of_week=weekdays,
                timezone=zone,
            )
        return OrTrigger(
            [
                CronTrigger(minute=minute, hour=hour, day=day, month=month, timezone=zone),
                CronTrigger(
                    minute=minute, hour=hour, month=month, day_of_week=weekdays, timezone=zone
                ),
            ]
        )
    except ValueError as exc:
        raise _refused(crontab, str(exc)) from None


def check_crontab(crontab: str, timezone: str = "UTC") -> str:
    """Return the crontab line, normalised, if it is valid and fires at least once."""
    trigger = cron_trigger(crontab, timezone)
    if trigger.get_next_fire_time(None, datetime.now(UTC)) is None:
        raise _refused(crontab, "it never fires (no such date)")
    return " ".join(crontab.split())


def check_min_interval(
    crontab: str, timezone: str, min_interval: timedelta, *, after: datetime
) -> None:
    """Refuse a line whose runs after `after` come closer together than `min_interval`."""
    trigger = cron_trigger(crontab, timezone)
    previous = trigger.get_next_fire_time(None, after)
    for _ in range(_INTERVAL_RUNS):
        if previous is None:
            return
        fire = trigger.get_next_fire_time(None, previous + timedelta(microseconds=1))
        # In UTC: between two times of one zone, Python subtracts wall clock times.
        gap = fire.astimezone(UTC) - previous.astimezone(UTC) if fire is not None else None
        if gap is not None and gap < min_interval:
            raise _refused(
                crontab,
                f"it would post {_every(gap)}, but a channel gets at most one "
                f"digest {_every(min_interval)} (PROMOBOT_DIGEST_MIN_INTERVAL)",
            )
        previous = fire


def spoken_duration(value: timedelta) -> str:
    """`1 minute`, `90 minutes`, `2 hours`, `1 day`: the largest whole unit that fits."""
    seconds = int(value.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{value.total_seconds():g} seconds"


def _every(value: timedelta) -> str:
    return "every " + spoken_duration(value).removeprefix("1 ")


def next_runs(crontab: str, timezone: str, *, after: datetime, count: int = 3) -> list[datetime]:
    """The next `count` slot times after `after`, in the schedule's time zone."""
    trigger = cron_trigger(crontab, timezone)
    runs: list[datetime] = []
    moment = after
    while len(runs) < count:
        fire = trigger.get_next_fire_time(None, moment + timedelta(microseconds=1))
        if fire is None:
            break
        runs.append(fire)
        moment = fire
    return runs


def slots_between(
    crontab: str, timezone: str, *, after: datetime, until: datetime, keep: int
) -> list[datetime]:
    """Slot times in (after, until], in UTC, keeping only the newest `keep` of them."""
    trigger = cron_trigger(crontab, timezone)
    newest: deque[datetime] = deque(maxlen=keep)
    moment = after
    while True:
        fire = trigger.get_next_fire_time(None, moment + timedelta(microseconds=1))
        if fire is None or fire > until:
            return list(newest)
        newest.append(fire.astimezone(UTC))
        moment = fire


def plan_slots(
    crontab: str, timezone: str, *, after: datetime, now: datetime, grace: timedelta
) -> SlotPlan:
    """Decide the slots in (after, now]: `after` is the last recorded slot, or when the
    schedule began if none was recorded.

    Only the newest slot can be posted, and only within `grace` of its time: a slot missed
    while the bot was down is posted on start if it is that recent. Every other slot that
    came due is skipped, so that a long outage never produces a burst of digests.
    """
    after = max(after, now - max(MISSED_HORIZON, grace))
    slots = slots_between(crontab, timezone, after=after, until=now, keep=MAX_SKIPPED_RECORDS + 1)
    if not slots:
        return SlotPlan(None, ())
    newest = slots[-1]
    if now - newest <= grace:
        return SlotPlan(newest, tuple(slots[:-1][-MAX_SKIPPED_RECORDS:]))
    return SlotPlan(None, tuple(slots[-MAX_SKIPPED_RECORDS:]))


def plan_start(schedule: DigestSchedule, last_recorded: datetime | None) -> datetime:
    """The `after` bound for plan_slots: slots before a subscription began are never due."""
    if last_recorded is None:
        return schedule.not_before
    return last_recorded if schedule.from_settings else max(last_recorded, schedule.not_before)


def _fields(crontab: str) -> list[str]:
    if len(crontab) > _MAX_CRONTAB_LENGTH:
        raise _refused(crontab, f"it is longer than {_MAX_CRONTAB_LENGTH} characters")
    text = " ".join(crontab.split())  # any whitespace separates, also a pasted no-break space
    if not text.isascii():
        # APScheduler would read `٣` as 3; a crontab line is plain ASCII, so say so instead.
        raise _refused(crontab, "it may hold only ASCII digits, day names and * , - /")
    long_number = _LONG_NUMBER.search(text)
    if long_number:
        raise _refused(crontab, f"'{_shortened(long_number[0])}' is far too large a number")
    text = _MACROS.get(text.lower(), text)
    fields = text.split(" ")
    if len(fields) != 5 or not text:
        raise _refused(crontab, "it needs 5 fields (minute hour day month weekday)")
    return fields


def _weekday_names(field: str, crontab: str) -> str:
    """Translate crontab's weekday field (0 or 7 = Sunday) into APScheduler day names."""
    if field in {"*", "?"}:
        return "*"
    days: set[int] = set()
    for item in field.split(","):
        span, _, step_text = item.partition("/")
        step = _number(step_text, crontab) if step_text else 1
        if step < 1:
            raise _refused(crontab, "a weekday step must be 1 or more")
        if span == "*":
            first, last = 0, 6
        elif "-" in span:
            low, high = span.split("-", 1)
            first, last = _weekday(low, crontab), _weekday(high, crontab)
        else:
            first = _weekday(span, crontab)
            last = 6 if step_text else first
        if last == 0 and first > 0:
            last = 7  # read `5-0` as `5-7`: Friday to Sunday
        if first > last:
            raise _refused(crontab, f"weekday range '{span}' runs backwards")
        days.update(d % 7 for d in range(first, last + 1, step))
    return ",".join(_DAY_NAMES[d] for d in sorted(days))


def _weekday(text: str, crontab: str) -> int:
    lowered = text.strip().lower()
    if lowered in _DAY_NAMES:
        return _DAY_NAMES.index(lowered)
    number = _number(text, crontab)
    if not 0 <= number <= 7:
        raise _refused(crontab, f"weekday '{text}' must be 0-7 (0 and 7 are Sunday) or mon…sun")
    return number


def _number(text: str, crontab: str) -> int:
    number = ascii_number(text.strip(), max_digits=_MAX_NUMBER_DIGITS)
    if number is None:
        raise _refused(crontab, f"'{_shortened(text)}' is not a number or a day name")
    return number


def _shortened(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _refused(crontab: str, why: str) -> InvalidScheduleError:
    return InvalidScheduleError(
        f"'{_shortened(crontab, 60)}' is not a usable crontab line: {why}. {_EXAMPLE}."
    )
