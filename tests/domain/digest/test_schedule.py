"""Digest schedules as pure functions: crontab meaning, time zones, and which slots are due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.digest.schedule import (
    MAX_SKIPPED_RECORDS,
    DigestSchedule,
    InvalidScheduleError,
    check_crontab,
    check_min_interval,
    next_runs,
    plan_slots,
    plan_start,
)

MONDAY = datetime(2026, 11, 23, tzinfo=UTC)  # 2026-11-23 is a Monday
HOUR = timedelta(hours=1)


def _days(crontab: str, timezone: str = "UTC", count: int = 7) -> list[str]:
    runs = next_runs(crontab, timezone, after=MONDAY - timedelta(seconds=1), count=count)
    return [f"{run:%a %H:%M}" for run in runs]


def test_weekdays_follow_crontab_numbering_not_apschedulers() -> None:
    """APScheduler 3's from_crontab reads 1-5 as Tuesday-Saturday; a crontab means Mon-Fri."""
    assert _days("0 9 * * 1-5", count=6) == [
        "Mon 09:00",
        "Tue 09:00",
        "Wed 09:00",
        "Thu 09:00",
        "Fri 09:00",
        "Mon 09:00",
    ]


@pytest.mark.parametrize("weekday", ["0", "7", "sun", "SUN"])
def test_sunday_is_zero_seven_or_its_name(weekday: str) -> None:
    assert _days(f"30 8 * * {weekday}", count=2) == ["Sun 08:30", "Sun 08:30"]


def test_weekday_lists_steps_and_ranges_ending_on_sunday() -> None:
    assert _days("0 12 * * mon,wed,5", count=3) == ["Mon 12:00", "Wed 12:00", "Fri 12:00"]
    assert _days("0 12 * * */2", count=4) == ["Tue 12:00", "Thu 12:00", "Sat 12:00", "Sun 12:00"]
    assert _days("0 12 * * 5-7", count=3) == ["Fri 12:00", "Sat 12:00", "Sun 12:00"]


def test_day_of_month_and_weekday_together_match_either_as_in_cron() -> None:
    runs = next_runs("0 9 1 * 1", "UTC", after=datetime(2026, 11, 24, tzinfo=UTC), count=3)
    assert [f"{r:%Y-%m-%d %a}" for r in runs] == [
        "2026-11-30 Mon",
        "2026-12-01 Tue",  # the 1st, though not a Monday
        "2026-12-07 Mon",
    ]


def test_macros_are_understood() -> None:
    assert _days("@daily", count=2) == ["Mon 00:00", "Tue 00:00"]
    assert _days("@weekly", count=1) == ["Sun 00:00"]


def test_slots_are_in_the_schedules_time_zone_across_a_dst_change() -> None:
    """09:00 in Berlin is 08:00 UTC in winter and 07:00 UTC in summer."""
    march = datetime(2026, 3, 27, tzinfo=UTC)  # Berlin moves to summer time on 2026-03-29
    runs = next_runs("0 9 * * *", "Europe/Berlin", after=march, count=4)
    assert [r.hour for r in runs] == [9, 9, 9, 9]
    assert [r.astimezone(UTC).strftime("%d %H:%M") for r in runs] == [
        "27 08:00",
        "28 08:00",
        "29 07:00",
        "30 07:00",
    ]


@pytest.mark.parametrize(
    ("crontab", "message"),
    [
        ("0 9 * *", "needs 5 fields"),
        ("61 9 * * *", "higher than the maximum value (59)"),
        ("0 9 * * 8", "weekday '8' must be 0-7"),
        ("0 9 * * fri-mon", "runs backwards"),
        ("0 9 * * funday", "'funday'"),
        ("0 9 30 2 *", "never fires"),
        ("", "needs 5 fields"),
    ],
)
def test_bad_crontab_lines_are_refused_with_a_clear_message(crontab: str, message: str) -> None:
    with pytest.raises(InvalidScheduleError) as caught:
        check_crontab(crontab)
    assert message in caught.value.message
    assert "0 9 * * 1-5" in caught.value.message  # every refusal shows a working example


@pytest.mark.parametrize(
    "crontab",
    [
        "0 9 * * ²",
        "0 9 * * ٣",
        "٣ 9 * * *",
        "0 9 * * 1/²",
        "0 9 * * 1-" + "9" * 5000,
        "0 9 * * */" + "9" * 50,
        "0 " + "9" * 5000 + " * * *",
        "0 9 * * " + "1," * 300 + "2",
    ],
)
def test_unicode_digits_and_huge_numbers_are_refused_with_a_usage_message(crontab: str) -> None:
    with pytest.raises(InvalidScheduleError) as caught:
        check_crontab(crontab)
    assert "is not a usable crontab line" in caught.value.message
    assert len(caught.value.message) < 300  # the line is quoted shortened, not in full


def test_a_pasted_no_break_space_still_separates_fields() -> None:
    assert check_crontab("0\u00a09 * * 1-5") == "0 9 * * 1-5"


@pytest.mark.parametrize(
    ("crontab", "every"),
    [
        ("* * * * *", "every minute"),
        ("*/5 9 * * *", "every 5 minutes"),
        ("0,30 * * * *", "every 30 minutes"),
        ("59 8 * * *", None),
        ("0 * * * *", None),
        ("@hourly", None),
        ("0 9 * * 1-5", None),
        ("0 0,23 * * *", None),  # 23:00 then 00:00: exactly an hour
        ("50 8 * * * ", None),
        ("10,50 23 * * *", "every 40 minutes"),
    ],
)
def test_a_schedule_may_post_at_most_once_an_hour(crontab: str, every: str | None) -> None:
    if every is None:
        check_min_interval(crontab, "Europe/Berlin", timedelta(hours=1), after=MONDAY)
        return
    with pytest.raises(InvalidScheduleError) as caught:
        check_min_interval(crontab, "Europe/Berlin", timedelta(hours=1), after=MONDAY)
    assert f"it would post {every}, but a channel gets at most one digest every hour" in (
        caught.value.message
    )
    assert "PROMOBOT_DIGEST_MIN_INTERVAL" in caught.value.message


def test_the_minimum_interval_is_a_setting() -> None:
    check_min_interval("* * * * *", "UTC", timedelta(minutes=1), after=MONDAY)
    with pytest.raises(InvalidScheduleError, match="every 2 hours"):
        check_min_interval("0 */2 * * *", "UTC", timedelta(days=1), after=MONDAY)
    with pytest.raises(InvalidScheduleError, match="every 2 hours"):  # 23:00, then 01:00
        check_min_interval("0 1,23 * * *", "UTC", timedelta(hours=3), after=MONDAY)


def test_the_interval_is_measured_in_real_time_across_a_dst_change() -> None:
    """Berlin skips 02:00-03:00 on 2026-03-29: 01:00 and 03:00 that day are an hour apart."""
    spring = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    check_min_interval("0 1,3 * * *", "Europe/Berlin", timedelta(hours=1), after=spring)
    with pytest.raises(InvalidScheduleError, match="every hour"):
        check_min_interval("0 1,3 * * *", "Europe/Berlin", timedelta(hours=2), after=spring)


def test_unknown_time_zone_is_refused() -> None:
    with pytest.raises(InvalidScheduleError, match="not an IANA time zone name"):
        next_runs("0 9 * * *", "Mars/Olympus_Mons", after=MONDAY)


def test_slot_on_time_is_posted() -> None:
    now = MONDAY + timedelta(hours=9, seconds=1)
    plan = plan_slots("0 9 * * 1-5", "UTC", after=MONDAY, now=now, grace=HOUR)
    assert plan.post == MONDAY + timedelta(hours=9)
    assert plan.skip == ()


def test_nothing_is_due_before_the_next_slot_or_at_the_recorded_one() -> None:
    nine = MONDAY + timedelta(hours=9)
    assert (
        plan_slots(
            "0 9 * * *", "UTC", after=MONDAY, now=nine - timedelta(seconds=1), grace=HOUR
        ).post
        is None
    )
    plan = plan_slots("0 9 * * *", "UTC", after=nine, now=nine + timedelta(minutes=30), grace=HOUR)
    assert plan == plan.__class__(None, ())


def test_missed_slot_inside_grace_is_posted_on_start() -> None:
    now = MONDAY + timedelta(hours=9, minutes=59)
    plan = plan_slots("0 9 * * *", "UTC", after=MONDAY, now=now, grace=HOUR)
    assert plan.post == MONDAY + timedelta(hours=9)


def test_missed_slot_outside_grace_is_skipped() -> None:
    now = MONDAY + timedelta(hours=10, minutes=1)
    plan = plan_slots("0 9 * * *", "UTC", after=MONDAY, now=now, grace=HOUR)
    assert plan.post is None
    assert plan.skip == (MONDAY + timedelta(hours=9),)


def test_after_a_long_outage_only_the_newest_slot_can_be_posted() -> None:
    """Down from Monday 08:00 to Thursday 09:30: Mon, Tue, Wed skipped; Thu posted."""
    now = MONDAY + timedelta(days=3, hours=9, minutes=30)
    plan = plan_slots("0 9 * * *", "UTC", after=MONDAY + timedelta(hours=8), now=now, grace=HOUR)
    assert plan.post == MONDAY + timedelta(days=3, hours=9)
    assert [f"{s:%a}" for s in plan.skip] == ["Mon", "Tue", "Wed"]


def test_skipped_records_are_bounded_for_dense_schedules() -> None:
    now = MONDAY + timedelta(days=2)
    plan = plan_slots("* * * * *", "UTC", after=MONDAY, now=now, grace=timedelta(seconds=30))
    assert plan.post == now
    assert len(plan.skip) == MAX_SKIPPED_RECORDS
    assert plan.skip[-1] == now - timedelta(minutes=1)  # the newest are kept


def test_subscription_slots_start_after_subscribing_settings_slots_after_the_last_record() -> None:
    subscribed = DigestSchedule("C1", "0 9 * * *", "UTC", not_before=MONDAY + 10 * HOUR)
    assert plan_start(subscribed, None) == MONDAY + 10 * HOUR
    assert plan_start(subscribed, MONDAY) == MONDAY + 10 * HOUR
    settings = DigestSchedule("C2", "0 9 * * *", "UTC", MONDAY + 10 * HOUR, from_settings=True)
    assert plan_start(settings, None) == MONDAY + 10 * HOUR  # first start: nothing was missed
    assert plan_start(settings, MONDAY) == MONDAY  # a restart: slots since the last record
