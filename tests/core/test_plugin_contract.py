"""The plugin contract: composition, field conflicts, unknown hooks, clean start-up errors."""

from __future__ import annotations

import types

import pluggy
import pytest
import strawberry
from factories import member, register
from sqlalchemy import inspect as sa_inspect

from conftest import EXAMPLE, settings_for
from minzheng.core import hookspecs
from minzheng.core.hookspecs import SchemaContribution, hookimpl
from minzheng.core.plugins import PluginError, PluginInfo, load, resolve
from minzheng.gateway.app import create_app
from minzheng.schema.builder import SchemaConflict, build_schema
from minzheng.schema.loaders import REGIONS


def _module(name: str, **hooks: object) -> str:
    """Register a throwaway hooks module under ``name`` and return its dotted path."""
    import sys

    module = types.ModuleType(name)
    for key, value in hooks.items():
        setattr(module, key, value)
    sys.modules[name] = module
    return name


def _person_field_plugin(plugin_name: str, field_name: str) -> PluginInfo:
    def resolver(self) -> str:  # type: ignore[no-untyped-def]
        return plugin_name

    PersonFields = strawberry.type(
        type("PersonFields", (), {field_name: strawberry.field(resolver=resolver)})
    )

    @hookimpl
    def contribute_schema() -> SchemaContribution:
        return SchemaContribution(person=PersonFields)

    path = _module(f"_plugin_{plugin_name}", contribute_schema=contribute_schema)
    return PluginInfo(name=plugin_name, title="测试", version="0", hooks=path)


def test_example_plugin_adds_fields_when_enabled_and_none_when_disabled():
    with_example = str(build_schema(load("all", extra=[EXAMPLE])))
    for needle in (
        "exampleNotes: [ExampleNote!]!",
        "exampleNoteCount: Int",
        "addExampleNote(",
        "type ExampleNote",
    ):
        assert needle in with_example
    without = str(build_schema(load([], extra=[EXAMPLE])))
    assert "ExampleNote" not in without and "exampleNote" not in without


def test_two_plugins_defining_one_field_stop_startup_naming_both():
    a = _person_field_plugin("alpha", "shared_flag")
    b = _person_field_plugin("beta", "shared_flag")
    with pytest.raises(SchemaConflict) as err:
        build_schema(load(["alpha", "beta"], extra=[a, b]))
    assert "Person.shared_flag" in str(err.value)
    assert "'alpha'" in str(err.value) and "'beta'" in str(err.value)


def test_plugin_redefining_a_core_field_is_refused():
    c = _person_field_plugin("gamma", "name")
    with pytest.raises(SchemaConflict, match="already defined by 'core'"):
        build_schema(load(["gamma"], extra=[c]))


def test_hook_without_spec_fails_at_startup():
    @hookimpl
    def contribute_shema() -> None:  # misspelled on purpose
        return None

    info = PluginInfo(
        name="typo",
        title="错",
        version="0",
        hooks=_module("_plugin_typo", contribute_shema=contribute_shema),
    )
    with pytest.raises(PluginError, match=r"plugin 'typo'.*contribute_shema"):
        load(["typo"], extra=[info])


def test_unknown_plugin_and_missing_dependency_are_one_line_errors():
    with pytest.raises(PluginError) as err:
        load(["nonesuch"], extra=[EXAMPLE])
    assert str(err.value).startswith("plugin 'nonesuch': not installed")
    needy = PluginInfo(name="needy", title="依赖", version="0", hooks="x", requires=("example",))
    with pytest.raises(
        PluginError, match="plugin 'needy': requires plugin 'example', which is not enabled"
    ):
        load(["needy"], extra=[EXAMPLE, needy])
    statuses = resolve([EXAMPLE, needy], ["example"])
    assert [(s.info.name, s.enabled, s.reason) for s in statuses] == [
        ("example", True, ""),
        ("needy", False, "not listed in MINZHENG_PLUGINS"),
    ]


def test_plugin_that_fails_to_import_names_itself():
    broken = PluginInfo(name="broken", title="坏", version="0", hooks="no.such.module")
    with pytest.raises(PluginError, match=r"plugin 'broken': failed to import no\.such\.module"):
        load(["broken"], extra=[broken])


def test_every_hook_is_documented_in_spec_and_guide():
    from pathlib import Path

    guide = (Path(__file__).parents[2] / "docs" / "plugins.md").read_text(encoding="utf-8")
    for name in hookspecs.HOOK_NAMES:
        spec = getattr(hookspecs.Spec, name)
        assert spec.__doc__ and len(spec.__doc__.strip()) > 30, f"{name} has no docstring"
        assert f"### `{name}`" in guide, f"docs/plugins.md has no section for {name}"


def test_hook_markers_are_the_projects():
    assert isinstance(hookimpl, pluggy.HookimplMarker)
    assert hookimpl.project_name == "minzheng"


async def test_example_plugin_resolves_over_http_without_n_plus_one(make_api):
    api = make_api()
    for i in range(6):
        h = await register(api, members=[member(f"户{i}"), member(f"配{i}", "SPOUSE", male=False)])
        await api.gql(
            """mutation($i: AddExampleNoteInput!) { addExampleNote(input: $i) {
            note { text } errors { code } } }""",
            {"i": {"personId": h["members"][0]["person"]["id"], "text": f"note {i}"}},
        )
    query = """query($n: Int!) { households(first: $n) { edges { node { number
        head { name } region { name parent { name } }
        enrolments { programme } incomes { amountFen }
        members { relation person { name exampleNotes { text } enrolments { programme }
                                    household { number } } } } } } }"""
    # both read the divisions (kept per database once read): the same batches
    REGIONS.clear()
    with api.count_statements() as small:
        data = await api.gql(query, {"n": 2})
    REGIONS.clear()
    with api.count_statements() as large:
        data = await api.gql(query, {"n": 6})
    assert len(data["households"]["edges"]) == 6
    notes = [
        m["person"]["exampleNotes"]
        for e in data["households"]["edges"]
        for m in e["node"]["members"]
    ]
    assert sum(len(n) for n in notes) == 6
    assert len(small) == len(large), (small, large)
    assert len(large) <= 12


async def test_plugin_event_handler_failure_rolls_back_the_mutation(make_api):
    from example_plugin import hooks as example_hooks
    from example_plugin.models import ExampleNote
    from sqlalchemy import func, select

    from minzheng.core.models import Person

    api = make_api()
    h = await register(api)
    pid = h["members"][0]["person"]["id"]
    q = """mutation($i: RecordDeathInput!) { recordDeath(input: $i) {
        person { alive } errors { __typename code message ... on PluginError { plugin } } } }"""
    example_hooks.FAIL_ON_DEATH.append(True)
    try:
        data = await api.gql(q, {"i": {"personId": pid, "diedOn": "2026-02-01"}})
    finally:
        example_hooks.FAIL_ON_DEATH.clear()
    err = data["recordDeath"]["errors"][0]
    assert err["__typename"] == "PluginError" and err["plugin"] == "example"
    assert "refuses deaths" in err["message"]
    async with api.engine.connect() as conn:
        assert (
            await conn.scalar(
                select(func.count()).select_from(Person).where(Person.died_on.is_not(None))
            )
            == 0
        )
    ok = await api.gql(q, {"i": {"personId": pid, "diedOn": "2026-02-01"}})
    assert ok["recordDeath"]["person"] == {"alive": False}
    async with api.engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(ExampleNote)) == 1


async def test_startup_with_unknown_plugin_refuses_before_serving(db_url):
    with pytest.raises(PluginError, match="plugin 'nope'"):
        create_app(settings_for(db_url, plugins="example,nope"), extra_plugins=[EXAMPLE])


def test_disabled_plugin_tables_not_in_metadata_of_fresh_core_db(tmp_path):
    from sqlalchemy import create_engine as sync_engine

    from minzheng.core import migrate

    path = tmp_path / "core.db"
    migrate.upgrade(f"sqlite+aiosqlite:///{path}", load([], extra=[EXAMPLE]), [EXAMPLE])
    tables = set(sa_inspect(sync_engine(f"sqlite:///{path}")).get_table_names())
    assert "person" in tables and "example_note" not in tables


def test_describe_lists_why_a_plugin_does_not_run():
    from minzheng.core.plugins import describe

    needy = PluginInfo(name="needy", title="依赖", version="0", hooks="x", requires=("example",))
    statuses = {
        s.info.name: (s.enabled, s.reason) for s in describe([EXAMPLE, needy], ["needy", "ghost"])
    }
    assert statuses == {
        "example": (False, "not listed in MINZHENG_PLUGINS"),
        "needy": (False, "requires example, not enabled"),
        "ghost": (False, "listed in MINZHENG_PLUGINS but not installed"),
    }


def test_after_orders_plugins_without_requiring_them():
    first = PluginInfo(name="zzz_first", title="先", version="0", hooks="x")
    second = PluginInfo(name="aaa_second", title="后", version="0", hooks="x", after=("zzz_first",))
    order = [s.info.name for s in resolve([first, second], "all") if s.enabled]
    assert order == ["zzz_first", "aaa_second"]
    alone = [s.info.name for s in resolve([first, second], ["aaa_second"]) if s.enabled]
    assert alone == ["aaa_second"]


def test_hooks_run_in_dependency_order():
    order = [n for n, _ in load("all").results("declare_programmes")]
    assert order.index("social_assistance") < order.index("disability")


def test_loaders_are_built_when_a_request_first_asks_for_them():
    from strawberry.dataloader import DataLoader

    from minzheng.schema.loaders import Loaders

    built: list[str] = []

    def make(name: str) -> DataLoader:
        built.append(name)
        return DataLoader(load_fn=lambda keys: [name] * len(keys))  # type: ignore[arg-type, return-value]

    ready = DataLoader(load_fn=lambda keys: keys)  # type: ignore[arg-type, return-value]
    loaders = Loaders()
    loaders.add({"a": lambda: make("a"), "b": lambda: make("b"), "ready": ready})
    assert "a" in loaders and "ready" in loaders and "nope" not in loaders
    assert built == [] and list(loaders) == ["ready"]
    first = loaders["a"]
    assert loaders["a"] is first and built == ["a"], "built once, then kept"
    assert loaders.get("b") is not None and built == ["a", "b"]
    assert loaders.get("nope") is None
    with pytest.raises(KeyError):
        loaders["nope"]
    # a later plugin's loader of the same name replaces the earlier one
    loaders.add({"a": ready, "ready": lambda: make("ready")})
    assert loaders["a"] is ready
    assert loaders["ready"] is not ready and built[-1] == "ready"


async def test_a_request_builds_only_the_loaders_it_uses(make_api):
    api = make_api()
    created: list[int] = []
    import minzheng.schema.loaders as loaders_module

    original = loaders_module.DataLoader.__init__

    def counting(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        created.append(1)
        original(self, *args, **kwargs)

    loaders_module.DataLoader.__init__ = counting  # type: ignore[method-assign]
    try:
        body = await api.gql('{ region(code: "410800") { code name } }')
    finally:
        loaders_module.DataLoader.__init__ = original  # type: ignore[method-assign]
    assert body["region"]["code"] == "410800000000"
    assert len(created) <= 2, f"{len(created)} dataloaders built for one field"
