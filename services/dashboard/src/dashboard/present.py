"""How values are shown to officials: masked phones, dates in local time."""

from __future__ import annotations

from datetime import date, datetime

from dialog_platform.calendar import ALMATY as LOCAL


def _groups(phone: str) -> tuple[str, str, str, str, str] | None:
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) != 11 or not digits.startswith("7"):
        return None
    return digits[1:4], digits[4:7], digits[7:9], digits[9:11], digits[0]


def mask_iin(iin: str | None) -> str:
    """900101400013 → "•••• •••• ••13": the first six digits are the birth date."""
    if not iin:
        return ""
    return "•••• •••• ••" + iin[-2:]


def video_length(seconds: object) -> str:
    """A video's length as m:ss (the inbox's column)."""
    if not isinstance(seconds, int | float) or seconds < 0:
        return ""
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def format_phone(phone: str | None) -> str:
    if not phone:
        return ""
    groups = _groups(phone)
    if groups is None:
        return phone
    operator, first, second, last, country = groups
    return f"+{country} {operator} {first} {second} {last}"


def parse_dt(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def stamp(value: object) -> float:
    """A time as seconds since the epoch, for comparing (0 when there is none)."""
    found = parse_dt(value)
    if found is None:
        return 0.0
    return found.timestamp() if found.tzinfo else found.replace(tzinfo=LOCAL).timestamp()


def local_dt(value: object) -> str:
    found = parse_dt(value)
    if found is None:
        return ""
    if found.tzinfo is None:
        return found.strftime("%d.%m.%Y %H:%M")
    return found.astimezone(LOCAL).strftime("%d.%m.%Y %H:%M")


def local_date(value: object) -> str:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value).strftime("%d.%m.%Y")
        except ValueError:
            return value
    found = parse_dt(value)
    return found.astimezone(LOCAL).strftime("%d.%m.%Y") if found else ""
