"""Every venue package is registered, and the core never imports one directly."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import hadron
from hadron.match.pairs import fee_terms
from hadron.model.instrument import split_instrument_id
from hadron.model.venue import VenueInfo, register_venue, venue_info, venue_names
from hadron.venues.base import all_venues, get_venue
from tests import toyvenue

ROOT = Path(hadron.__file__).parent


def test_every_venue_package_is_registered() -> None:
    packages = {p.parent.name for p in (ROOT / "venues").glob("*/__init__.py") if not p.parent.name.startswith("_")}
    built_in = {name for name in venue_names() if venue_info(name).module == f"hadron.venues.{name}"}
    assert packages == built_in
    for name in packages:
        adapter = get_venue(name)
        assert adapter.name == name
        assert callable(adapter.open_stream) and callable(adapter.sniff)


def test_the_core_does_not_import_venue_packages() -> None:
    offenders = []
    for path in ROOT.rglob("*.py"):
        if "venues" in path.relative_to(ROOT).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            offenders += [
                f"{path.name}: {n}" for n in names if n.startswith("hadron.venues.") and n != "hadron.venues.base"
            ]
    assert offenders == []


def test_the_registry_names_the_venues_in_every_unknown_venue_error() -> None:
    assert venue_names()[:2] == ("kalshi", "polymarket")
    with pytest.raises(KeyError, match="registered: kalshi, polymarket"):
        get_venue("nowhere")
    with pytest.raises(ValueError, match="unknown venue 'nowhere'"):
        split_instrument_id("nowhere:X")
    with pytest.raises(ValueError, match="lower-case identifier"):
        register_venue(VenueInfo(name="Bad_Name", module="x"))


def test_a_venue_registered_at_run_time_is_found_by_name() -> None:
    toyvenue.register()
    try:
        assert get_venue("toy") is toyvenue.ADAPTER
        assert any(adapter is toyvenue.ADAPTER for adapter in all_venues())
        assert fee_terms("toy") == ("toy_fee_per_share",)
    finally:
        toyvenue.unregister()
    assert "toy" not in venue_names()


def test_the_template_venue_imports_but_is_not_registered() -> None:
    import hadron.venues._template as template

    assert template.ADAPTER.name == "template" and "template" not in venue_names()
    with pytest.raises(NotImplementedError, match=r"VenueAdapter\.sniff"):
        template.ADAPTER.sniff({})
