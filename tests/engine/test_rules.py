"""Routing rules as data: YAML policy files, their behaviour and their errors."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from routing_world import LOCATIONS, NIGHT, OPEN, REGIONS, SKUS, order, packages, reasons, world

from engine import Ledger, Network, RuleError
from engine.routing import (
    Router,
    available_policies,
    filters,
    get_policy,
    load_policy_file,
    policy_from_rules,
    ranking,
)

POLICY_DIR = Path(__file__).resolve().parents[2] / "scenarios" / "policies"


@pytest.mark.parametrize("path", sorted(POLICY_DIR.glob("*.yaml")), ids=lambda p: p.name)
def test_example_rule_files_load(path):
    policies = load_policy_file(path)
    assert policies
    for p in policies:
        assert p.name in available_policies()
        assert get_policy(p.name) is p


def test_regional_first_example_routes():
    load_policy_file(POLICY_DIR / "regional_first.yaml")
    stock = {("ST1", "A"): 1, ("DC1", "A"): 1, ("ST2", "A"): 1}
    router, _, _ = world(stock, policy="regional_first")
    # In region (EAST): ST1, DC1; warehouses before stores -> DC1.
    assert router.route(order(("A", 1)), OPEN).locations == ("DC1",)


def test_multi_policy_file_registers_each():
    names = [p.name for p in load_policy_file(POLICY_DIR / "store_rules.yaml")]
    assert names == ["nearby_stores_then_dc", "cheapest_dc"]
    stock = {("ST2", "A"): 1, ("DC1", "A"): 1}
    router, _, _ = world(stock, policy="nearby_stores_then_dc")
    assert router.route(order(("A", 1)), OPEN).locations == ("ST2",)
    d = router.route(order(("A", 1)), NIGHT)  # stores closed: open_now filter
    assert d.locations == ("DC1",) and reasons(d)["ST2"]["excluded"] == "CLOSED"
    router, _, _ = world(stock, policy="cheapest_dc")
    d = router.route(order(("A", 1)), OPEN)
    assert d.locations == ("DC1",) and reasons(d)["ST2"]["excluded"] == "RULE_FILTER"
    assert get_policy("cheapest_dc").max_packages == 2


def test_rule_filters_and_sorts():
    policy = policy_from_rules(
        {
            "name": "t",
            "filters": [{"exclude": ["DC1"]}, {"max_distance_miles": 200}],
            "sort": [{"priority": ["ST2"]}, "distance"],
        }
    )
    stock = {("ST1", "A"): 1, ("ST2", "A"): 1, ("DC1", "A"): 1, ("DC2", "A"): 1}
    router, _, _ = world(stock, policy=policy)
    d = router.route(order(("A", 1)), OPEN)
    assert d.locations == ("ST2",)
    r = reasons(d)
    assert r["DC1"]["excluded"] == "EXCLUDED" and r["DC2"]["excluded"] == "TOO_FAR"
    assert r["ST2"]["rank"] == 0 and r["ST1"]["rank"] == 1
    d = router.route(order(("A", 2)), OPEN)
    assert packages(d) == {"ST2": {"A": 1}, "ST1": {"A": 1}}


def test_sort_by_ats_and_days_of_cover_and_in_region_filter():
    stock = {("ST1", "A"): 1, ("DC1", "A"): 4, ("ST2", "A"): 9}
    router, _, _ = world(stock, policy=policy_from_rules({"name": "t", "sort": ["ats"]}))
    assert router.route(order(("A", 3)), OPEN).locations == ("ST2",)
    rules = {"name": "t", "filters": [{"in_region": True}], "sort": ["days_of_cover"]}
    router, _, _ = world(stock, policy=policy_from_rules(rules))
    d = router.route(order(("A", 1)), OPEN)
    assert d.locations == ("DC1",) and reasons(d)["ST2"]["excluded"] == "RULE_FILTER"


def test_rule_caches_are_per_network_not_per_id(monkeypatch):
    # A rule policy is shared between routers and caches rows per network. A network
    # created after another is freed often gets the freed one's id(); it must not reuse
    # that network's exclusion rows or priority positions (DC2 takes ST1's row here).
    # Whether CPython reuses an id is luck: make the clash certain by giving every object
    # the same id() (and hash()) in the modules that hold the caches.
    for module in (filters, ranking):
        monkeypatch.setattr(module, "id", lambda obj: 1, raising=False)
        monkeypatch.setattr(module, "hash", lambda obj: 1, raising=False)
    policy = policy_from_rules(
        {"name": "t", "filters": [{"exclude": ["DC2"]}], "sort": [{"priority": ["ST1", "ST2"]}]}
    )
    stock = {("ST1", "A"): 1, ("ST2", "A"): 1, ("DC2", "A"): 1}

    def reversed_router() -> Router:
        network = Network(LOCATIONS[::-1], REGIONS)  # DC2 first, ST1 last
        ledger = Ledger([x.id for x in network.locations], SKUS)
        for (loc, sku), qty in stock.items():
            ledger.set_stock(loc, sku, qty)
        return Router(network, ledger, policy=policy)

    first, _, _ = world(stock, policy=policy)
    assert first.route(order(("A", 1)), OPEN).locations == ("ST1",)  # fills the caches
    second = reversed_router()  # both networks alive
    assert second.route(order(("A", 1)), OPEN).locations == ("ST1",)
    assert first.route(order(("A", 1)), OPEN).locations == ("ST1",)
    del first, second
    gc.collect()
    third = reversed_router()  # after the others were freed
    assert third.route(order(("A", 1)), OPEN).locations == ("ST1",)


def write(tmp_path, text, name="rules.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: p\nfilters:\n  - capability: ship\n  - teleport: true\n",
         r"policy 'p' filters\[1\]: unknown filter 'teleport'"),
        ("name: p\nsort:\n  - distance\n  - vibes\n", r"policy 'p' sort\[1\]: unknown sort key 'vibes'"),
        ("name: p\nfilters:\n  - max_distance_miles: far\n",
         r"policy 'p' filters\[0\] \(max_distance_miles\): .*number"),
        ("name: p\nfilters:\n  - kinds: warehouse\n", r"filters\[0\] \(kinds\): kinds needs a list"),
        ("name: p\nfilters:\n  - kinds: [castle]\n", r"filters\[0\] \(kinds\): unknown location kind 'castle'"),
        ("name: p\nfilters:\n  - open_now: yes please\n", r"filters\[0\] \(open_now\): .*true or false"),
        ("name: p\nfilters:\n  - capability: fly\n", r"filters\[0\] \(capability\): unknown capability 'fly'"),
        ("name: p\nsort:\n  - priority: DC1\n", r"sort\[0\] \(priority\): .*list of location ids"),
        ("name: p\nsort:\n  - kind: {order: [moon]}\n", r"sort\[0\] \(kind\): unknown location kind"),
        ("name: p\nsplit: scatter\n", r"policy 'p' split: unknown strategy 'scatter'"),
        ("name: p\nmax_packages: 0\n", r"policy 'p' max_packages: must be an integer >= 1"),
        ("name: p\nfilter: []\n", r"policy 'p': unknown key\(s\) \['filter'\]"),
        ("filters: []\n", r"policy needs a non-empty string 'name'"),
        ("polices:\n  - name: a\n", r"unknown top-level key\(s\) \['polices'\] \(known: 'policies'"),
        ("name: p\nfilters: {capability: ship}\n", r"policy 'p': filters must be a list"),
        ("name: p\nfilters:\n  - {capability: ship, kinds: [store]}\n", r"filters\[0\]: expected a name or a one-key"),
        ("policies:\n  - name: a\n  - name: a\n", r"policy 'a' policies\[1\]: duplicate name"),
        ("policies: []\n", r"'policies' must be a non-empty list"),
        ("name: p\nsort: [distance\n", r"invalid YAML"),
        ("", r"rule file is empty"),
        ("name: closest\n", r"policy 'closest' policies\[0\]: name clashes with a built-in"),
        ("name: ranked\n", r"policy 'ranked' policies\[0\]: name clashes with a built-in"),
    ],
)  # fmt: skip
def test_invalid_rule_file_names_file_rule_and_reason(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(RuleError, match=expected) as info:
        load_policy_file(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("name", ["lookahead", "batch", "lp_rounding"])
def test_rule_file_cannot_replace_lp_policies(tmp_path, name):
    builtin = get_policy(name)
    path = write(tmp_path, f"policies:\n  - name: mine\n  - name: {name}\n")
    with pytest.raises(RuleError, match=rf"policy '{name}' policies\[1\]: name clashes"):
        load_policy_file(path)
    assert type(get_policy(name)) is type(builtin)
    assert "mine" not in available_policies()  # nothing registered from the file


def test_rule_file_can_replace_its_own_policies(tmp_path):
    load_policy_file(write(tmp_path, "name: own_rule\nsplit: no_split\n"))
    load_policy_file(write(tmp_path, "name: own_rule\nsplit: min_packages\n"))
    assert get_policy("own_rule").split == "min_packages"


def test_missing_rule_file(tmp_path):
    with pytest.raises(RuleError, match="cannot read rule file"):
        load_policy_file(tmp_path / "nope.yaml")


def test_invalid_policy_in_multi_file_names_its_index(tmp_path):
    text = "policies:\n  - name: ok\n  - name: bad\n    sort: [nope]\n"
    with pytest.raises(RuleError, match=r"policies\[1\]: policy 'bad' sort\[0\]: unknown sort key"):
        load_policy_file(write(tmp_path, text))
    assert "ok" not in available_policies()  # nothing registered from an invalid file


def test_a_relative_rules_file_spec_is_read_from_the_given_folder(tmp_path):
    from engine.routing.rules import policy_spec_from

    here = tmp_path.resolve()
    assert policy_spec_from("team.yaml", tmp_path) == str(here / "team.yaml")
    assert policy_spec_from("sub/../team.YML:fast", tmp_path) == f"{here / 'team.YML'}:fast"
    assert policy_spec_from("~/team.yaml", tmp_path) == str(Path.home().resolve() / "team.yaml")
    for unchanged in ("closest", "my_pkg.policies:fast", "/abs/team.yaml:fast"):
        assert policy_spec_from(unchanged, tmp_path) == unchanged
    # written relative to another folder, an absolute FILE too
    sub = tmp_path / "sub"
    assert policy_spec_from("team.yaml:fast", tmp_path, relative_to=sub) == "../team.yaml:fast"
    assert policy_spec_from(str(here / "t.yml"), "/elsewhere", relative_to=sub) == "../t.yml"
    assert policy_spec_from("my_pkg.policies:fast", tmp_path, relative_to=sub) == (
        "my_pkg.policies:fast"
    )
