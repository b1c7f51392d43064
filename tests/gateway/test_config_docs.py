"""The settings table is the one source: help text, the shipped gateway.ini and the README's
reference all come from it, and these tests fail when they drift apart."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from gateway.config import (
    README_BEGIN,
    README_END,
    SECTION_TYPES,
    SECTIONS,
    SETTINGS,
    Setting,
    load_settings,
    parse_settings,
    render_reference_ini,
    render_reference_markdown,
    settings_in,
)

ROOT = Path(__file__).resolve().parents[2]
REGENERATE = "regenerate: smsgw config reference --format {fmt}"


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: f"{s.section}.{s.key}")
def test_every_key_has_help_and_a_form(setting: Setting) -> None:
    assert setting.help.strip(), f"[{setting.section}] {setting.key} has no help text"
    assert setting.help.rstrip().endswith((".", ")")), "help is a sentence"
    assert setting.type.form.strip()
    if setting.required:
        assert setting.example, "a required key needs an example for gateway.ini"
        setting.type.parse(setting.example)
    else:
        # The documented default is a value the key itself accepts.
        setting.type.parse(setting.type.render(setting.default))


def test_every_section_has_help() -> None:
    for section in SECTIONS:
        assert section.help.strip(), section.name
        assert settings_in(section.name), f"[{section.name}] declares no keys"


def test_dataclasses_have_exactly_the_table_keys() -> None:
    for section in SECTIONS:
        fields = {f.name for f in dataclasses.fields(SECTION_TYPES[section.name])}
        fields.discard("name")  # [modem:NAME]: the name comes from the section header
        assert fields == {s.key for s in settings_in(section.name)}, section.name


def test_shipped_gateway_ini_is_the_rendered_reference() -> None:
    shipped = (ROOT / "gateway.ini").read_text(encoding="utf-8")
    assert shipped == render_reference_ini(), (
        REGENERATE.format(fmt="ini") + " > gateway.ini"
    )


def test_shipped_gateway_ini_works_with_no_hardware() -> None:
    settings = load_settings(ROOT / "gateway.ini")
    assert settings.modems == ()
    assert settings.simulator.enabled
    defaults = parse_settings(
        "[gateway]\ndefault_region = GB\n",
        base_dir=ROOT,
        source=str(ROOT / "gateway.ini"),
    )
    assert settings == defaults


def test_shipped_gateway_ini_mentions_every_key() -> None:
    shipped = (ROOT / "gateway.ini").read_text(encoding="utf-8")
    for setting in SETTINGS:
        pattern = rf"^(# )?{re.escape(setting.key)} ="
        assert re.search(pattern, shipped, re.MULTILINE), setting.key


def test_readme_has_the_generated_reference() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert README_BEGIN in readme
    assert README_END in readme
    start = readme.index(README_BEGIN)
    end = readme.index(README_END) + len(README_END) + 1
    assert readme[start:end] == render_reference_markdown(), (
        REGENERATE.format(fmt="markdown") + ", and paste it over the README's block"
    )


def test_readme_names_every_key() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for setting in SETTINGS:
        assert f"| `{setting.key}` |" in readme, f"[{setting.section}] {setting.key}"


def test_rendered_ini_uncommented_parses_to_the_defaults(tmp_path: Path) -> None:
    # Uncommenting every default line of the reference must give the same settings.
    # The [modem:usb0] section is an example only: leave it out.
    reference = render_reference_ini().split("# [modem:usb0]")[0]
    lines = []
    for line in reference.splitlines():
        match = re.fullmatch(r"# ([a-z_]+ =.*)", line)
        if match:
            lines.append(match[1])
        elif not line.startswith("#"):
            lines.append(line)
    text = "\n".join(lines)
    settings = parse_settings(text, base_dir=tmp_path)
    defaults = parse_settings("[gateway]\ndefault_region = GB\n", base_dir=tmp_path)
    assert settings == dataclasses.replace(defaults, source=settings.source)
