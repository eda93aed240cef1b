"""Scenario files load, build and fail with one-line errors naming file, field and reason."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sim import Scenario, ScenarioError, load_scenario
from sim.scenario.build import build_catalogue, build_network, initial_stock
from sim.scenario.loader import (
    SCENARIOS_DIR,
    apply_overrides,
    available_scenarios,
    check_file,
    check_policy,
)

SCENARIO_FILES = sorted(SCENARIOS_DIR.glob("*.yaml"))


def test_named_scenarios_exist() -> None:
    assert {"default", "peak", "store_network", "outage"} <= set(available_scenarios())


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: p.stem)
def test_every_scenario_file_loads_and_builds(path: Path) -> None:
    scn = check_file(path)
    assert scn.name == path.stem
    network = build_network(scn)
    catalogue = build_catalogue(scn)
    on_hand, safety = initial_stock(scn, network, catalogue)
    assert on_hand.shape == safety.shape == (len(network.locations), len(catalogue))
    assert on_hand.sum() > 0
    # The resolved form reloads to the same scenario (runs save it next to results).
    assert load_scenario(yaml.safe_load(scn.to_yaml())) == scn
    assert load_scenario(scn.resolved()) == scn


def test_minimal_scenario_is_valid_and_matches_default_yaml() -> None:
    minimal = load_scenario({"name": "x"})
    default = load_scenario("default")
    assert minimal.network.location_ids() == default.network.location_ids()
    # default.yaml spells out the schema defaults, so the short scenario files that rely on
    # defaults really are "default plus a change".
    resolved = default.resolved() | {"name": "x", "description": ""}
    assert resolved == minimal.resolved()


def test_outage_is_default_plus_an_outage() -> None:
    outage, default = load_scenario("outage").resolved(), load_scenario("default").resolved()
    changed = {k for k in default if default[k] != outage[k]}
    assert changed == {"name", "description", "disruptions"}
    assert outage["disruptions"]["outages"] == [
        {"location": "DC-EAST", "start_day": 10.0, "days": 2.0}
    ]


def test_profiles_are_normalised() -> None:
    scn = load_scenario({"name": "x", "demand": {"hour_profile": [1] * 24, "day_profile": [2] * 7}})
    assert sum(scn.demand.hour_profile) == pytest.approx(1.0)
    assert scn.demand.day_profile == pytest.approx([1.0] * 7)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    return path


BAD_CASES = {
    "unknown_key_at_depth": (
        "name: x\ndemand:\n  channels:\n    web:\n      ordres_per_day: 3\n",
        "demand.channels.web.ordres_per_day",
        "unknown key",
    ),
    "wrong_type": (
        "name: x\nhorizon_days: lots\n",
        "horizon_days",
        "Input should be a number, not 'lots'",
    ),
    "flag_for_a_number": (  # YAML true, or a quoted number, is a mistake: never 1 or 30
        "name: x\ndemand:\n  channels:\n    web:\n      orders_per_day: true\n",
        "demand.channels.web.orders_per_day",
        "Input should be a number, not true",
    ),
    "text_for_a_number": (
        "name: x\ninventory:\n  safety_stock_days: '2'\n",
        "inventory.safety_stock_days",
        "Input should be a number, not '2'",
    ),
    "text_in_a_list_of_numbers": (  # items of lists and mappings too
        "name: x\ndemand:\n  day_profile: [1, 1, '2', 1, 1, 1, 1]\n",
        "demand.day_profile.2",
        "Input should be a number, not '2'",
    ),
    "flag_in_a_mapping_of_numbers": (
        "name: x\ncarriers:\n  transit_days: {1: 1, 2: true, 3: 3, 4: 3, 5: 4, 6: 5, 7: 5, 8: 5}\n",
        "carriers.transit_days.2",
        "Input should be a number, not true",
    ),
    "number_for_a_flag": (
        "name: x\nnetwork:\n  store_defaults: {ship_from_store: 1}\n",
        "network.store_defaults.ship_from_store",
        "Input should be true or false, not 1",
    ),
    "a_number_for_a_section": (  # no Python class names in the reason
        "name: x\nnetwork:\n  stores: 5\n",
        "network.stores",
        "Input should be a mapping of settings (key: value lines) (got 5)",
    ),
    "text_for_hours": (
        "name: x\nnetwork:\n  store_defaults:\n    hours: nine to five\n",
        "network.store_defaults.hours",
        "Input should be always, or a mapping {open, close, closed_weekdays}",
    ),
    "too_many_skus": (  # refused before generating a single SKU id
        "name: x\ncatalogue: {skus: 100000000000}\n",
        "catalogue.skus",
        "less than or equal to 1000000",
    ),
    "too_many_location_sku_pairs": (
        "name: x\ncatalogue: {skus: 900000}\n",
        "catalogue.skus",
        "44 locations x 900,000 SKUs make 39,600,000 location-SKU pairs, more than the "
        "20,000,000 allowed",
    ),
    "negative_rate": (
        "name: x\ndemand:\n  channels:\n    web:\n      orders_per_day: -5\n",
        "demand.channels.web.orders_per_day",
        "greater than or equal to 0",
    ),
    "share_above_one": (
        "name: x\noperations:\n  no_show_rate: 1.5\n",
        "operations.no_show_rate",
        "less than or equal to 1",
    ),
    "methods_do_not_sum_to_one": (
        "name: x\ndemand:\n  channels:\n    app:\n      methods: {ship: 0.5, bopis: 0.2}\n",
        "demand.channels.app.methods",
        "must sum to 1",
    ),
    "unknown_outage_location": (
        "name: x\ndisruptions:\n  outages:\n    - {location: DC-MOON, start_day: 1, days: 2}\n",
        "disruptions.outages.0.location",
        "unknown location 'DC-MOON'",
    ),
    "unknown_ranked_priority": (
        "name: x\nrouting:\n  policy: ranked\n  params: {priority: [DC-WEST, STORE-99]}\n",
        "routing.params.priority.1",
        "unknown location 'STORE-99'",
    ),
    "unknown_sku_override": (
        "name: x\ninventory:\n  overrides:\n    - {location: DC-EAST, sku: SKU-99999, on_hand: 1}\n",
        "inventory.overrides.0.sku",
        "unknown SKU 'SKU-99999'",
    ),
    "warmup_not_below_horizon": (
        "name: x\nhorizon_days: 5\nwarmup_days: 5\n",
        "warmup_days",
        "warmup_days (5) must be less than horizon_days (5): set warmup_days below it, "
        "e.g. warmup_days: 2",
    ),
    "default_warmup_not_below_horizon": (  # no warm-up written: the message says how to fix it
        "name: x\nhorizon_days: 3\n",
        "warmup_days",
        "warmup_days (3, the default) must be less than horizon_days (3): set warmup_days "
        "below it, e.g. warmup_days: 1",
    ),
    "unknown_city": (
        "name: x\nnetwork:\n  warehouses:\n    - {id: DC-1, city: 'Atlantis, ZZ'}\n",
        "network.warehouses.0.city",
        "unknown city",
    ),
    "duplicate_location_id": (
        "name: x\nnetwork:\n  warehouses:\n    - {id: A, city: 'Boston, MA'}\n"
        "    - {id: A, city: 'Denver, CO'}\n",
        "network.warehouses.1.id",
        "duplicate location id",
    ),
    "bad_profile_length": (
        "name: x\ndemand:\n  day_profile: [1, 2, 3]\n",
        "demand.day_profile",
        "needs 7 weights",
    ),
    "unknown_key_in_store_placement": (
        "name: x\nnetwork:\n  stores: {count: 3, where: anywhere}\n",
        "network.stores.where",
        "unknown key 'where'",
    ),
    "no_such_date": ("name: x\nstart: 2026-02-30\n", "start", "valid date"),
    "no_such_peak_date": (
        "name: x\ndemand:\n  peaks: [{start: 2026-13-01, multiplier: 2}]\n",
        "demand.peaks.0.start",
        "valid date",
    ),
    "start_too_late": ("name: x\nstart: 9999-12-31\n", "start", "less than or equal to 2999"),
    "seed_too_big": ("name: x\nseed: 9007199254740992\n", "seed", "less than or equal"),
    "infinite_volume": (
        "name: x\ndemand:\n  channels:\n    web: {orders_per_day: .inf}\n",
        "demand.channels.web.orders_per_day",
        "finite number",
    ),
    "absurd_volume": (
        "name: x\ndemand:\n  channels:\n    web: {orders_per_day: 1.0e+12}\n",
        "demand.channels.web.orders_per_day",
        "less than or equal to 10000000",
    ),
    "infinite_safety_stock": (
        "name: x\ninventory: {safety_stock_days: .inf}\n",
        "inventory.safety_stock_days",
        "finite number",
    ),
    "horizon_is_not_a_flag": ("name: x\nhorizon_days: true\n", "horizon_days", "not true"),
    "horizon_over_a_year": ("name: x\nhorizon_days: 400\n", "horizon_days", "less than or equal"),
    "more_stores_than_metros": (
        "name: x\nnetwork:\n  stores: {count: 100000}\n",
        "network.stores.count",
        "metros are 30 miles apart; lower count or min_miles",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_input_names_file_field_and_reason(tmp_path: Path, case: str) -> None:
    text, field, reason = BAD_CASES[case]
    path = _write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    err = info.value
    assert err.file == str(path)
    assert err.field == field
    assert reason in err.reason
    assert str(err) == f"{path}: {field}: {err.reason}"
    assert "\n" not in str(err)


def test_invalid_yaml_reports_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "name: x\ndemand:\n  regions: [1, 2\n  peaks: {\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value).startswith(f"{path}: invalid YAML at line ")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("name: x\ndescription: " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
        ("name: x\nstart: !!timestamp 2026-13-45\n", "month must be in 1..12"),
    ],
)
def test_yaml_that_cannot_be_read_is_one_line(tmp_path: Path, text: str, reason: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value) == f"{path}: invalid YAML: {reason}"


def test_horizon_takes_numpy_and_whole_float_days() -> None:
    import numpy as np

    scenario = load_scenario({"name": "x", "horizon_days": np.int64(5), "warmup_days": 1.0})
    assert (scenario.horizon_days, scenario.warmup_days) == (5, 1)


def test_dates_are_read_by_the_schema(tmp_path: Path) -> None:
    scenario = load_scenario(_write(tmp_path, "name: x\nstart: 2027-01-04\n"))
    assert scenario.start.isoformat() == "2027-01-04"


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(ScenarioError, match="file not found") as info:
        load_scenario(path)
    assert str(info.value) == f"{path}: file not found"


def test_unknown_scenario_name_lists_named_ones() -> None:
    with pytest.raises(ScenarioError, match="default"):
        load_scenario("no_such_scenario")


@pytest.mark.parametrize(
    ("text", "got"),
    [
        ("- a\n- b\n", "a list"),
        ("", "an empty file"),
        ("just text\n", "the text 'just text'"),
        ("42\n", "the number 42"),
        ("true\n", "the flag true"),
    ],
)
def test_top_level_must_be_a_mapping(tmp_path: Path, text: str, got: str) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(_write(tmp_path, text))
    assert info.value.reason == f"top level must be a mapping of sections, got {got}"


def test_several_errors_are_counted() -> None:
    with pytest.raises(ScenarioError, match=r"\(and 1 more\)") as info:
        load_scenario({"name": "x", "seed": -1, "horizon_days": 0})
    assert info.value.file == "<dict>"
    assert info.value.field == "seed"


def test_overrides() -> None:
    scn = load_scenario(
        "default",
        {
            "demand.channels.web.orders_per_day": 3000,
            "network.stores.count": 12,
            "carriers.transit_days.8": 6,
            "network.warehouses.0.city": "Boston, MA",
            "routing.params.priority": ["DC-WEST"],
        },
    )
    assert scn.demand.channels.web.orders_per_day == 3000
    assert len(scn.network.location_ids()) == 4 + 12
    assert scn.carriers.transit_days[8] == 6
    assert scn.network.warehouses[0].city == "Boston, MA"
    assert scn.routing.params == {"priority": ["DC-WEST"]}
    # the input dict is not changed
    raw = {"name": "x"}
    apply_overrides(raw, {"seed": 7})
    assert raw == {"name": "x"}


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("demand.channels.wbe.orders_per_day", "unknown setting 'wbe'"),
        ("network.warehouses.9.city", "no list item '9'"),
        ("seed.value", "is a value, not a section"),
        ("carriers.transit_days.9.x", "unknown key '9'"),
    ],
)
def test_unknown_override_paths_fail(path: str, reason: str) -> None:
    with pytest.raises(ScenarioError, match=reason) as info:
        load_scenario("default", {path: 1})
    assert info.value.field == path


def test_override_values_are_validated() -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario("default", {"returns.mail_share": 2})
    assert info.value.field == "returns.mail_share"


def test_scenario_model_forbids_extra_keys_everywhere() -> None:
    def walk(model: type) -> None:
        assert model.model_config.get("extra") == "forbid", model.__name__
        for info in model.model_fields.values():
            for sub in _models_in(info.annotation):
                walk(sub)

    walk(Scenario)


def _models_in(annotation: object) -> list[type]:
    import typing

    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def test_scenario_error_pickles() -> None:
    import pickle

    err = ScenarioError("a.yaml", "seed", "bad")
    again = pickle.loads(pickle.dumps(err))
    assert (again.file, again.field, again.reason, str(again)) == (
        "a.yaml",
        "seed",
        "bad",
        str(err),
    )


def test_a_repeated_key_is_an_error_naming_the_line(tmp_path) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text("name: a\nhorizon_days: 7\nname: b\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert str(err.value).startswith(f"{path}: ")
    assert "duplicate key 'name'" in str(err.value) and "line 3" in str(err.value)


def test_a_rules_file_in_routing_policy_is_read_from_the_scenario_folder(
    tmp_path, monkeypatch
) -> None:
    folder = tmp_path / "team"
    folder.mkdir()
    rules = folder / "rules.yaml"
    rules.write_text((SCENARIOS_DIR / "policies" / "store_rules.yaml").read_text())
    path = folder / "scn.yaml"
    path.write_text("name: x\nrouting:\n  policy: rules.yaml:cheapest_dc\n")
    monkeypatch.chdir(tmp_path)  # not the scenario's folder
    expected = f"{rules.resolve()}:cheapest_dc"
    assert check_file(path).routing.policy == expected
    assert load_scenario(load_scenario(path).resolved()).routing.policy == expected
    (folder / "abs.yaml").write_text(f"name: x\nrouting:\n  policy: {expected}\n")
    assert check_file(folder / "abs.yaml").routing.policy == expected  # absolute: as it is
    # A scenario without a file (a dict, an upload in the app) reads it from the current folder.
    unfiled = load_scenario(yaml.safe_load(path.read_text()))
    assert unfiled.routing.policy == "rules.yaml:cheapest_dc"
    with pytest.raises(ScenarioError, match="routing.policy: policy file 'rules.yaml' not found"):
        check_policy(unfiled)
