"""The booth computer's files: systemd accepts both units as written, the udev rule hands the
printer to the agent's group only, the installer is valid shell, and the test print prints."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from deploy_support import REPO

BOOTH = REPO / "deploy" / "booth"
UNITS = ("dialog-printer-agent.service", "dialog-kiosk.service")
# Where install.sh puts the programs the units start, and the same programs in this checkout.
INSTALLED = {
    "/opt/dialog/venv/bin/dialog": REPO / ".venv" / "bin" / "dialog",
    "/usr/local/lib/dialog/kiosk-browser": BOOTH / "kiosk-browser",
}


def unit(name: str) -> dict[str, dict[str, list[str]]]:
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for line in (BOOTH / name).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
        elif line and not line.startswith("#"):
            key, _, value = line.partition("=")
            current.setdefault(key, []).append(value)
    return sections


def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.fail("systemd-analyze is missing (Debian: apt-get install systemd)")
    for name in UNITS:
        text = (BOOTH / name).read_text(encoding="utf-8")
        for installed, here in INSTALLED.items():
            text = text.replace(installed, str(here))
        (tmp_path / name).write_text(text, encoding="utf-8")
    result = subprocess.run(
        [analyze, "verify", *(str(tmp_path / n) for n in UNITS)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # Unknown keys and bad values are only warnings to systemd: any output is a finding.
    own = [line for line in result.stderr.splitlines() if str(tmp_path) in line or "dialog" in line]
    assert result.returncode == 0 and not own, result.stderr


def test_the_units_run_unprivileged_from_root_only_settings() -> None:
    for name in UNITS:
        service = unit(name)["Service"]
        assert service["User"][0] not in ("root", "0"), name
        assert service["NoNewPrivileges"] == ["yes"], name
        (env_file,) = service["EnvironmentFile"]
        assert env_file.startswith("/etc/dialog/"), name
        assert unit(name)["Install"]["WantedBy"], name
    agent = unit("dialog-printer-agent.service")["Service"]
    command = agent["ExecStart"][0].split()
    assert command[1:4] == ["run", "--target", "printer-agent"]
    assert command[command.index("--host") + 1] == "127.0.0.1"
    kiosk = unit("dialog-kiosk.service")
    assert kiosk["Service"]["TTYPath"] == ["/dev/tty1"]
    assert "getty@tty1.service" in kiosk["Unit"]["Conflicts"]


def test_the_browser_opens_the_booth_ui_in_kiosk_mode_with_the_camera_allowed() -> None:
    script = (BOOTH / "kiosk-browser").read_text(encoding="utf-8")
    assert script.startswith("#!/bin/sh")
    assert subprocess.run(["sh", "-n", str(BOOTH / "kiosk-browser")], check=False).returncode == 0
    assert "--kiosk" in script and '"$DIALOG_KIOSK_URL"' in script
    assert (BOOTH / "kiosk-browser").stat().st_mode & 0o111, "must be executable"
    policy = json.loads((BOOTH / "chromium-policy.json").read_text(encoding="utf-8"))
    for key in ("VideoCaptureAllowedUrls", "AudioCaptureAllowedUrls", "URLAllowlist"):
        assert policy[key] == ["__BOOTH_ORIGIN__"], key
    assert policy["URLBlocklist"] == ["*"]
    enrol = (BOOTH / "kiosk.env.example").read_text(encoding="utf-8")
    assert re.search(r"^DIALOG_KIOSK_URL=https://.+/kiosk/enrol\?token=", enrol, re.MULTILINE)


def test_the_udev_rule_gives_the_printer_to_the_agents_group_only() -> None:
    rules = [
        line
        for line in (BOOTH / "60-dialog-receipt-printer.rules").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    groups = unit("dialog-printer-agent.service")["Service"]["SupplementaryGroups"]
    assert len(rules) == 2
    for rule in rules:
        pairs = re.findall(r'([A-Za-z_]+(?:\{[^}]+\})?)(==|!=|\+=|:=|=)"([^"]*)"', rule)
        # Everything on the line is a well-formed KEY op "value" pair.
        assert re.sub(r'[A-Za-z_]+(\{[^}]+\})?(==|!=|\+=|:=|=)"[^"]*"', "", rule).strip(" ,") == ""
        fields = {key: (op, value) for key, op, value in pairs}
        vendor = fields.get("ATTR{idVendor}") or fields["ATTRS{idVendor}"]
        product = fields.get("ATTR{idProduct}") or fields["ATTRS{idProduct}"]
        assert vendor[0] == "==" and re.fullmatch(r"[0-9a-f]{4}", vendor[1])
        assert product[0] == "==" and re.fullmatch(r"[0-9a-f]{4}", product[1])
        assert fields["MODE"] == ("=", "0660")
        assert fields["GROUP"][1] in groups
    # install.sh puts the site's ids in place of these two.
    installer = (BOOTH / "install.sh").read_text(encoding="utf-8")
    assert "s/04b8/$vendor/g; s/0e15/$product/g" in installer


def test_the_installer_is_valid_shell_that_refuses_to_run_half_configured() -> None:
    installer = BOOTH / "install.sh"
    assert subprocess.run(["sh", "-n", str(installer)], check=False).returncode == 0
    text = installer.read_text(encoding="utf-8")
    for name in (
        *UNITS,
        "60-dialog-receipt-printer.rules",
        "chromium-policy.json",
        "kiosk-browser",
    ):
        assert name in text, f"install.sh does not install {name}"
    assert "install -m 0600" in text and "install -d -m 0700 /etc/dialog" in text
    # Not root: refused before it changes anything.
    result = subprocess.run(
        ["sh", str(installer), "04b8:0e15"],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": "/tmp"},
        user=65534 if _is_root() else None,
    )
    assert result.returncode == 1 and "run as root" in result.stderr


def _is_root() -> bool:
    return os.geteuid() == 0


def test_test_print_prints_a_sample_receipt(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(BOOTH / "test-print.py"), "--printer", f"png://{tmp_path}"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    (png,) = tmp_path.glob("*.png")
    assert png.read_bytes().startswith(b"\x89PNG")
    assert (tmp_path / (png.stem + ".bin")).stat().st_size > 1000  # the ESC/POS raster job


def test_test_print_says_why_it_cannot_print() -> None:
    result = subprocess.run(
        [sys.executable, str(BOOTH / "test-print.py"), "--printer", "usb://ffff:fffe"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert "басып шығару сәтсіз" in result.stderr and "печать не удалась" in result.stderr
