"""The settings reference in the README, generated from the settings classes.

`python -m dialog_platform.reference` prints it; a test checks the README holds exactly this.
"""

from __future__ import annotations

from typing import Any

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

from .component import Component
from .runner import discover, url_setting
from .settings import CommonSettings

BEGIN = "<!-- settings-reference:begin -->"
END = "<!-- settings-reference:end -->"


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    value: Any = field.get_default(call_default_factory=True)
    if value is None:
        return "unset"
    if hasattr(value, "get_secret_value"):
        return "(development default)" if value.get_secret_value() else "unset"
    return f"`{value}`"


def _rows(cls: type[BaseSettings]) -> list[str]:
    prefix = str(cls.model_config.get("env_prefix", ""))
    rows = []
    for name, field in cls.model_fields.items():
        description = (field.description or "").replace("|", "\\|")
        rows.append(f"| `{prefix}{name.upper()}` | {_default(field)} | {description} |")
    return rows


def _service_url_rows(components: dict[str, Component]) -> list[str]:
    """`DIALOG_<NAME>_URL` of every service another one calls, from the components' `calls`."""
    rows = []
    for name in components:
        callers = [c.name for c in components.values() if name in c.calls]
        callers += [f"{c.name} (if set)" for c in components.values() if name in c.may_call]
        if callers:
            rows.append(
                f"| `{url_setting(name)}` | unset | {name}'s base URL, called by "
                f"{', '.join(callers)}; unset: this process, when it runs {name} too |"
            )
    return rows


def reference() -> str:
    components = discover()
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    lines += _rows(CommonSettings)
    lines += _service_url_rows(components)
    for component in components.values():
        if component.settings is not None:
            lines += _rows(component.settings)
    return "\n".join(lines)


def main() -> None:
    print(reference())


if __name__ == "__main__":
    main()
