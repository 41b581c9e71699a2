"""`make settings-reference` rewrites README's settings table from the settings classes, and
`--check` tells a stale one without touching it (README's own match is tested in libs/platform)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from deploy_support import REPO

from dialog_platform.reference import BEGIN, END

SCRIPT = REPO / "scripts" / "settings-reference.py"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_stale_reference_is_reported_then_regenerated(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    row = "| `DIALOG_GONE` | `1` | a setting that no longer exists |"
    stale = f"# x\n\n{BEGIN}\n{row}\n{END}\n\nafter\n"
    readme.write_text(stale, encoding="utf-8")

    checked = run("--check", "--readme", str(readme))
    assert checked.returncode == 1 and "make settings-reference" in checked.stdout
    assert readme.read_text(encoding="utf-8") == stale

    assert run("--readme", str(readme)).returncode == 0
    text = readme.read_text(encoding="utf-8")
    assert "DIALOG_GONE" not in text and "`DIALOG_SECRET_KEY`" in text
    assert "`DIALOG_PRINTER_AGENT_KIOSK_ID`" in text and text.endswith(f"{END}\n\nafter\n")
    assert run("--check", "--readme", str(readme)).returncode == 0


def test_a_readme_without_the_markers_is_refused(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# no table here\n", encoding="utf-8")
    result = run("--readme", str(readme))
    assert result.returncode == 2 and BEGIN in result.stderr
    assert readme.read_text(encoding="utf-8") == "# no table here\n"
