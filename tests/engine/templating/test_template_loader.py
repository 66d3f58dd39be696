"""Loading default templates from a folder and picking the set for a customer's locale."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.templating import (
    TemplateNotFound,
    load_default_templates,
    select_template,
    templates_dir,
)


def write(root: Path, name: str, text: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_defaults_live_in_the_repository_templates_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NUDGE_TEMPLATES_DIR", raising=False)
    assert templates_dir() == Path(__file__).resolve().parents[3] / "templates"
    assert (templates_dir() / "README.md").is_file()


def test_env_var_points_to_another_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "water.leak/sms.de-AT.text.j2", "Leck!")
    monkeypatch.setenv("NUDGE_TEMPLATES_DIR", str(tmp_path))
    assert load_default_templates() == {("water.leak", "sms", "de-AT"): {"text": "Leck!"}}


def test_groups_parts_by_key_channel_and_locale(tmp_path: Path) -> None:
    for part in ("subject", "text", "html"):
        write(tmp_path, f"a.b/email.en.{part}.j2", part)
    write(tmp_path, "a.b/notes.txt", "ignored")
    assert load_default_templates(tmp_path) == {
        ("a.b", "email", "en"): {"subject": "subject", "text": "text", "html": "html"}
    }


@pytest.mark.parametrize("name", ["k/email.en.j2", "k/fax.en.text.j2", "k/sms.en.html.j2"])
def test_misnamed_files_are_an_error(tmp_path: Path, name: str) -> None:
    write(tmp_path, name, "x")
    with pytest.raises(ValueError, match="expected <channel>.<locale>.<part>.j2"):
        load_default_templates(tmp_path)


def test_selects_the_customers_locale_with_fallback() -> None:
    templates = load_default_templates()
    locale, parts = select_template(templates, "checkup.reminder", "sms", "de-AT")
    assert locale == "de" and parts == templates[("checkup.reminder", "sms", "de")]
    assert select_template(templates, "checkup.reminder", "sms", "fr-FR", "de")[0] == "de"
    assert select_template(templates, "checkup.reminder", "sms", "fr-FR")[0] == "en"


def test_unknown_key_or_channel_is_not_found() -> None:
    with pytest.raises(TemplateNotFound):
        select_template(load_default_templates(), "checkup.reminder", "fax", "de")
