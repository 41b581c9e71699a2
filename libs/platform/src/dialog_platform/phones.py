"""How a phone number is shown where it must not be readable in full: logs, screens, exports.

One format everywhere (`+7 701 *** ** 67`): the operator code helps when diagnosing SMS
delivery, the last two digits let a citizen or a support person recognise the line, and the
rest cannot be called.
"""

from __future__ import annotations


def masked_kz(operator: str, last_two: str) -> str:
    return f"+7 {operator} *** ** {last_two}"


def mask_phone(phone: str | None) -> str:
    """``+77011234567`` (in any spelling of a Kazakhstan number) -> ``+7 701 *** ** 67``.

    Another country's number keeps its first four characters and last two. Never raises: it is
    used while logging, where an odd value must not turn into a second error.
    """
    if not phone:
        return ""
    digits = "".join(ch for ch in phone if ch.isdigit())
    # +7 … or the domestic 8 …: eleven digits either way (Russia shares +7 and the format).
    if len(digits) == 11 and digits[0] in "78":
        return masked_kz(digits[1:4], digits[9:11])
    if len(phone) <= 6:
        return "*" * len(phone)
    return phone[:4] + "*" * (len(phone) - 6) + phone[-2:]
