"""A deterministic registry of 焦作: households, persons, incomes and assets.

The same ``seed`` (and ``today``) gives the same rows, byte for byte, so demo
data, tests and benchmarks can be reproduced anywhere.  Rows are plain tuples in
the column order of :data:`COLUMNS`, generated in batches of whole households;
:func:`seed_registry` writes them with bulk ``executemany`` on SQLite and
``COPY`` on PostgreSQL — never one ORM object at a time — so a city of a million
persons loads in well under a minute.

The proportions follow published figures where there are any (household size
about 2.5, disability certificates about 6 % of residents, serious illness about
3 %) and plausible local ones elsewhere: rural working-age adults often work
away, so there are left-behind children and elderly; rural elderly living alone
often have little more than the basic pension, so there are households that a
minimum-living-guarantee plugin will find eligible.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import datetime as dt
import gc
import math
import os
import pickle
import random
import shutil
import sqlite3
import struct
import sys
import tempfile
import time
import traceback
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Generic, TypeVar

from sqlalchemy import Index, Table, func, insert, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from minzheng.core.divisions import RegionLevel
from minzheng.core.models import (
    AssetKind,
    DisabilityCategory,
    Household,
    HouseholdAsset,
    HouseholdIncome,
    HukouType,
    IncomeSource,
    LabourCapacity,
    Membership,
    Person,
    Region,
    Relation,
    Whereabouts,
)
from minzheng.core.regions import Division, demo_villages, jiaozuo

T = TypeVar("T")

#: Column order of the tuples in a :class:`Batch`, per table.  Income and asset
#: rows leave their ids to the database (nothing refers to them).
COLUMNS: dict[str, tuple[str, ...]] = {
    "person": (
        "id", "id_number", "name", "sex", "birth_date", "phone", "address",
        "residence_region_code", "labour_capacity", "serious_illness", "disability_category",
        "disability_grade", "whereabouts", "away_since", "in_school", "guardian_person_id",
        "died_on", "version", "created_at", "updated_at", "region_code", "county_code",
        "township_code",
    ),
    "household": (
        "id", "number", "address", "hukou_type", "head_person_id", "version", "created_at",
        "updated_at", "region_code", "county_code", "township_code",
    ),
    "membership": ("id", "household_id", "person_id", "relation", "joined_on"),
    "household_income": (
        "household_id", "person_id", "source", "period_start", "period_end",
        "amount_fen", "employment_cost_fen", "note", "recorded_at", "region_code",
        "county_code", "township_code",
    ),
    "household_asset": (
        "household_id", "kind", "as_of", "value_fen", "note", "region_code",
        "county_code", "township_code",
    ),
}  # fmt: skip

#: Tables in the order they are written (foreign keys point backwards).
TABLES: tuple[Table, ...] = (
    Person.__table__,  # type: ignore[assignment]
    Household.__table__,  # type: ignore[assignment]
    Membership.__table__,  # type: ignore[assignment]
    HouseholdIncome.__table__,  # type: ignore[assignment]
    HouseholdAsset.__table__,  # type: ignore[assignment]
)

#: Households per batch: about 10,000 persons, the size of one executemany.
BATCH_HOUSEHOLDS = 4000

#: Relative size of a rural village against an urban community.
RURAL_WEIGHT = 1.5

VILLAGES_PER_TOWNSHIP = 4


# ------------------------------------------------------------------ tables of odds


class _Pick(Generic[T]):
    """Weighted choice by bisection over cumulative weights (much faster than
    ``random.choices`` for one item)."""

    __slots__ = ("cum", "items", "total")

    def __init__(self, pairs: Sequence[tuple[T, float]]) -> None:
        self.items = [p[0] for p in pairs]
        self.cum: list[float] = []
        acc = 0.0
        for _, w in pairs:
            acc += w
            self.cum.append(acc)
        self.total = acc

    def __call__(self, rnd: Callable[[], float]) -> T:
        return self.items[bisect.bisect(self.cum, rnd() * self.total)]


def _uniform(words: str) -> _Pick[str]:
    return _Pick([(w, 1) for w in words.split()])


# Household size (persons): 2020 census shapes, rural households larger.
_SIZE_RURAL = _Pick([(1, 22), (2, 32), (3, 19), (4, 15), (5, 8), (6, 4)])
_SIZE_URBAN = _Pick([(1, 30), (2, 33), (3, 21), (4, 11), (5, 4), (6, 1)])

# Surnames, roughly by frequency in Henan.
_SURNAME = _Pick([
    ("王", 84), ("李", 80), ("张", 78), ("刘", 60), ("陈", 32), ("杨", 30), ("赵", 28),
    ("郭", 22), ("孙", 18), ("马", 18), ("朱", 16), ("胡", 15), ("周", 15), ("吴", 14),
    ("徐", 14), ("高", 14), ("宋", 12), ("何", 10), ("段", 9), ("牛", 9), ("贾", 9),
    ("韩", 9), ("冯", 8), ("许", 8), ("程", 8), ("申", 7), ("崔", 7), ("范", 7),
    ("毋", 5), ("薛", 6), ("董", 6), ("田", 6), ("史", 6), ("曹", 6), ("原", 4),
    ("秦", 5), ("卫", 4), ("闫", 6), ("侯", 5), ("苗", 4), ("路", 3), ("常", 4),
])  # fmt: skip

# Given names by generation (born before 1965, 1965–1994, from 1995) and sex.
_GIVEN: dict[tuple[int, str], _Pick[str]] = {
    (0, "male"): _uniform(
        "建国 国庆 建华 建军 国强 志强 长江 永福 金山 有才 德胜 振华 学文 保国 文明 "
        "玉山 卫东 新民 树林 春生 铁柱 富贵 根生 明礼 守业 福林 广田 秋生"),
    (0, "female"): _uniform(
        "秀英 桂兰 玉兰 淑珍 凤英 秀兰 桂英 玉珍 素梅 爱华 翠花 金凤 春梅 彩霞 "
        "月娥 巧云 兰芳 雪梅 秀芝 瑞英 花 芳 英 兰 珍"),
    (1, "male"): _uniform(
        "伟 强 磊 军 勇 杰 涛 斌 超 明 刚 平 辉 鹏 华 飞 鑫 波 宁 峰 海涛 建伟 "
        "晓东 志刚 红军 卫国 俊峰 永强 亚飞 利军"),
    (1, "female"): _uniform(
        "丽 静 娟 艳 敏 燕 霞 玲 芳 娜 丹 萍 红 莉 婷 晓燕 丽娟 艳红 海燕 春燕 "
        "玉洁 亚楠 晓丽 文静 冬梅 丽丽"),
    (2, "male"): _uniform(
        "浩然 子轩 宇轩 浩宇 梓豪 俊熙 博文 一鸣 皓轩 子墨 明轩 天佑 奕辰 嘉豪 "
        "宇航 睿 泽 浩 铭 昊 航 晨阳 志远 家乐 梓睿 宸"),
    (2, "female"): _uniform(
        "欣怡 梓涵 一诺 雨桐 子涵 可馨 诗涵 若曦 思彤 佳琪 梦瑶 语嫣 雨欣 紫涵 "
        "心怡 佳怡 诗琪 梓萱 欣妍 雅婷 悦 婧 萱 彤 琳 瑶"),
}  # fmt: skip

#: given-name pickers indexed by era (0, 2, 4) + male (0 or 1)
_GIVEN_BY = [_GIVEN[(era, sex)] for era in range(3) for sex in ("female", "male")]

_DISABILITY_CATEGORY = _Pick([
    (DisabilityCategory.PHYSICAL.value, 36), (DisabilityCategory.HEARING.value, 15),
    (DisabilityCategory.VISUAL.value, 12), (DisabilityCategory.MENTAL.value, 13),
    (DisabilityCategory.INTELLECTUAL.value, 10), (DisabilityCategory.MULTIPLE.value, 10),
    (DisabilityCategory.SPEECH.value, 4),
])  # fmt: skip
_DISABILITY_GRADE = _Pick([(1, 15), (2, 25), (3, 25), (4, 35)])
_PHONE_PREFIX = _Pick([(p * 10**9, 1) for p in (13, 15, 17, 18, 19)])

_FULL, _PARTIAL, _NONE = (
    LabourCapacity.FULL.value,
    LabourCapacity.PARTIAL.value,
    LabourCapacity.NONE.value,
)
_LABOUR_BY_AGE = (  # (up to age, picker)
    (15, _Pick([(_NONE, 1)])),
    (59, _Pick([(_FULL, 92), (_PARTIAL, 6), (_NONE, 2)])),
    (69, _Pick([(_FULL, 55), (_PARTIAL, 35), (_NONE, 10)])),
    (79, _Pick([(_FULL, 20), (_PARTIAL, 50), (_NONE, 30)])),
    (200, _Pick([(_FULL, 3), (_PARTIAL, 37), (_NONE, 60)])),
)
# (up to age, P(serious illness), P(disability certificate), P(died in the last two years))
_HEALTH_BY_AGE = (
    (17, 0.004, 0.012, 0.0),
    (44, 0.012, 0.030, 0.0005),
    (59, 0.030, 0.060, 0.002),
    (69, 0.055, 0.100, 0.006),
    (79, 0.080, 0.150, 0.015),
    (200, 0.100, 0.220, 0.040),
)
_MAX_AGE = 120
#: per age: P(serious illness), P(disability), P(died lately), labour capacity picker
_BY_AGE = [
    (*next(h[1:] for h in _HEALTH_BY_AGE if a <= h[0]),
     next(p for upto, p in _LABOUR_BY_AGE if a <= upto))
    for a in range(_MAX_AGE + 1)
]  # fmt: skip
_ORD_1965 = dt.date(1965, 1, 1).toordinal()
_ORD_1995 = dt.date(1995, 1, 1).toordinal()
_exp = math.exp

_HEAD, _SPOUSE, _CHILD, _PARENT, _GRANDCHILD, _OTHER = (
    Relation.HEAD.value,
    Relation.SPOUSE.value,
    Relation.CHILD.value,
    Relation.PARENT.value,
    Relation.GRANDCHILD.value,
    Relation.OTHER.value,
)
_AT_HOME, _AWAY = Whereabouts.AT_HOME.value, Whereabouts.WORKING_AWAY.value
_MALE, _FEMALE = "male", "female"

_INC_WAGES, _INC_BASIC_PENSION, _INC_TRANSFER, _INC_SCHOLARSHIP = (
    IncomeSource.WAGES.value,
    IncomeSource.BASIC_PENSION.value,
    IncomeSource.TRANSFER.value,
    IncomeSource.SCHOLARSHIP.value,
)
_INC_BUSINESS, _INC_PROPERTY, _INC_PREFERENTIAL, _INC_AWARD = (
    IncomeSource.BUSINESS.value,
    IncomeSource.PROPERTY.value,
    IncomeSource.PREFERENTIAL.value,
    IncomeSource.AWARD.value,
)
_ASSET_DEPOSIT, _ASSET_VEHICLE, _ASSET_REAL_ESTATE, _ASSET_SECURITIES, _ASSET_BUSINESS = (
    AssetKind.DEPOSIT.value,
    AssetKind.VEHICLE.value,
    AssetKind.REAL_ESTATE.value,
    AssetKind.SECURITIES.value,
    AssetKind.BUSINESS.value,
)
_IMPRISONED, _MISSING, _IN_INSTITUTION = (
    Whereabouts.IMPRISONED.value,
    Whereabouts.MISSING.value,
    Whereabouts.IN_INSTITUTION.value,
)
_HUKOU_RURAL, _HUKOU_URBAN = HukouType.RURAL.value, HukouType.URBAN.value


def _guardian(members: list[_Member], m: _Member) -> int | None:
    """A minor's guardian: a parent at home, else an adult at home, else a parent."""
    for p in m.parents:
        parent = members[p]
        if parent.whereabouts == _AT_HOME and parent.age >= 18:
            return parent.person_id
    for other in members:
        if other is not m and other.age >= 18 and other.whereabouts == _AT_HOME:
            return other.person_id
    return members[m.parents[0]].person_id if m.parents else None


@dataclass(frozen=True, slots=True)
class _Place:
    """A village with the strings every row in it repeats."""

    code: str
    county: str
    township: str
    county6: str
    address: str
    rural: bool
    hukou: str


@dataclass(slots=True)
class _Member:
    relation: str
    age: int
    sex: str
    #: indices (in the household's member list) of the parents living with them
    parents: tuple[int, ...] = ()
    whereabouts: str = _AT_HOME
    person_id: int = 0
    died: bool = False


class _IdNumbers:
    """Unique GB 11643 numbers, built as :func:`~minzheng.core.idnumber.make_id_number`
    builds them but with the weighted sums of the address, birth-date and
    sequence parts cached (a million numbers cost seconds less)."""

    def __init__(self) -> None:
        self._address: dict[str, int] = {}
        #: (address, birth day) → [first 14 characters, their weighted sum,
        #: next female k, next male k]; sequence = 2k + 2 (female) or 2k + 1 (male)
        self._day: dict[tuple[str, int], list[Any]] = {}
        self._sequence = [(f"{n:03d}", _weighted(f"{n:03d}", 14)) for n in range(1000)]

    def make(self, address: str, birth_ord: int, male: bool, rnd: Callable[[], float]) -> str:
        """The next unused number for this address code, birth date and sex
        (odd sequence = male); sequences start at a random point, like real ones."""
        entry = self._day.get((address, birth_ord))
        if entry is None:
            a = self._address.get(address)
            if a is None:
                a = self._address[address] = _weighted(address, 0)
            digits = dt.date.fromordinal(birth_ord).strftime("%Y%m%d")
            entry = [address + digits, a + _weighted(digits, 6), None, None]
            self._day[(address, birth_ord)] = entry
        slot = 3 if male else 2
        k = entry[slot]
        if k is None:
            k = int(rnd() * 300)
        elif k >= 499:
            raise OverflowError(f"ID sequences exhausted for {address}, day {birth_ord}")
        entry[slot] = k + 1
        s_digits, s = self._sequence[2 * k + 1 if male else 2 * k + 2]
        return f"{entry[0]}{s_digits}{_CHECK[(entry[1] + s) % 11]}"


_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def _weighted(digits: str, offset: int) -> int:
    return sum(int(c) * _WEIGHTS[offset + i] for i, c in enumerate(digits))


# ------------------------------------------------------------------ plan and batches


@dataclass
class Batch:
    """Rows for whole households, one list of tuples per table (see :data:`COLUMNS`)."""

    person: list[tuple[Any, ...]] = field(default_factory=list)
    household: list[tuple[Any, ...]] = field(default_factory=list)
    membership: list[tuple[Any, ...]] = field(default_factory=list)
    household_income: list[tuple[Any, ...]] = field(default_factory=list)
    household_asset: list[tuple[Any, ...]] = field(default_factory=list)

    def rows(self, table: str) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = getattr(self, table)
        return rows

    def counts(self) -> dict[str, int]:
        return {t: len(self.rows(t)) for t in COLUMNS}


def region_rows(villages_per_township: int = VILLAGES_PER_TOWNSHIP) -> list[dict[str, Any]]:
    """Rows for ``region``: 焦作's divisions and the generated villages, parents first."""
    return [d.row() for d in (*jiaozuo(), *demo_villages(villages_per_township))]


def allocate(households: int, rng: random.Random, villages: Sequence[Division]) -> list[int]:
    """Households per village: rural villages weigh :data:`RURAL_WEIGHT`, every
    village a random size factor; counts add up to ``households`` exactly."""
    weights = [
        (RURAL_WEIGHT if v.urban_rural == "rural" else 1.0) * rng.lognormvariate(0.0, 0.35)
        for v in villages
    ]
    total = sum(weights)
    exact = [households * w / total for w in weights]
    counts = [int(x) for x in exact]
    short = households - sum(counts)
    by_remainder = sorted(range(len(exact)), key=lambda i: (counts[i] - exact[i], i))
    for i in by_remainder[:short]:
        counts[i] += 1
    return counts


@cache
def _places(villages_per_township: int) -> tuple[_Place, ...]:
    names = {d.code: d.name for d in jiaozuo() if d.level != RegionLevel.VILLAGE}
    return tuple(
        _Place(
            code=v.code, county=v.code[:6] + "000000", township=v.code[:9] + "000",
            county6=v.code[:6], address=names[v.code[:6] + "000000"] + v.name,
            rural=v.urban_rural == "rural",
            hukou=_HUKOU_RURAL if v.urban_rural == "rural" else _HUKOU_URBAN,
        )
        for v in demo_villages(villages_per_township)
    )  # fmt: skip


@dataclass(frozen=True)
class Shard:
    """Whole counties' share of the generated registry, generated on its own
    random stream: shards can be generated in parallel and still give the
    same rows.  A county never spans two shards, so ID numbers (whose address
    part is the county) stay unique without coordination."""

    index: int
    counties: tuple[str, ...]
    #: (index into the villages, households in it), in village order
    villages: tuple[tuple[int, int], ...]
    #: every household's size, in order
    sizes: bytes
    first_person_id: int
    first_household_id: int
    first_membership_id: int

    @property
    def households(self) -> int:
        return len(self.sizes)

    @property
    def persons(self) -> int:
        return sum(self.sizes)


@dataclass(frozen=True)
class Plan:
    """Which households go where, how big they are, and the ids they get:
    everything the shards need to be generated independently."""

    households: int
    seed: int
    today: dt.date
    villages_per_township: int
    shards: tuple[Shard, ...]

    @property
    def persons(self) -> int:
        return sum(s.persons for s in self.shards)


#: At most this many shards (SQLite attaches one database per shard).
MAX_SHARDS = 8


def plan(
    households: int,
    seed: int,
    *,
    today: dt.date | None = None,
    first_ids: dict[str, int] | None = None,
    villages_per_township: int = VILLAGES_PER_TOWNSHIP,
    max_shards: int = MAX_SHARDS,
) -> Plan:
    """Allocate ``households`` to villages and draw their sizes; group counties
    into at most ``max_shards`` shards of similar size."""
    if households < 0:
        raise ValueError("households must not be negative")
    places = _places(villages_per_township)
    villages = list(demo_villages(villages_per_township))
    counts = allocate(households, random.Random(seed), villages)
    groups: list[list[int]] = []  # village indices per county, counties in order
    for i, place in enumerate(places):
        if groups and places[groups[-1][0]].county6 == place.county6:
            groups[-1].append(i)
        else:
            groups.append([i])
    while len(groups) > max(1, max_shards):  # merge the smallest neighbouring pair
        totals = [sum(counts[i] for i in g) for g in groups]
        j = min(range(len(groups) - 1), key=lambda k: (totals[k] + totals[k + 1], k))
        groups[j : j + 2] = [groups[j] + groups[j + 1]]
    ids = {"person": 1, "household": 1, "membership": 1, **(first_ids or {})}
    person_id, household_id, membership_id = ids["person"], ids["household"], ids["membership"]
    shards = []
    for index, group in enumerate(groups):
        counties = tuple(dict.fromkeys(places[i].county6 for i in group))
        rnd = random.Random(f"{seed}/sizes/{'+'.join(counties)}").random
        sizes = bytearray()
        for i in group:
            pick = _SIZE_RURAL if places[i].rural else _SIZE_URBAN
            sizes.extend(pick(rnd) for _ in range(counts[i]))
        shard = Shard(
            index=index, counties=counties, villages=tuple((i, counts[i]) for i in group),
            sizes=bytes(sizes), first_person_id=person_id, first_household_id=household_id,
            first_membership_id=membership_id,
        )  # fmt: skip
        shards.append(shard)
        person_id += shard.persons
        membership_id += shard.persons
        household_id += shard.households
    return Plan(households, seed, today or dt.date.today(), villages_per_township,
                tuple(shards))  # fmt: skip


class ShardGenerator:
    """Yields :class:`Batch` es of one shard's households, deterministically.

    Dates and timestamps are :mod:`datetime` objects, or with ``dates_as_text``
    the text the SQLite driver stores for them (``date.isoformat()``,
    ``datetime.isoformat(" ")``).  Income and asset rows carry no id: the
    database numbers them in the order they are written.
    """

    def __init__(
        self,
        plan: Plan,
        shard: Shard,
        *,
        dates_as_text: bool = False,
        batch_households: int = BATCH_HOUSEHOLDS,
    ) -> None:
        self.plan = plan
        self.shard = shard
        self.batch_households = max(1, batch_households)
        self._places = _places(plan.villages_per_township)
        self._rng = random.Random(f"{plan.seed}/{'+'.join(shard.counties)}")
        self._ids = _IdNumbers()
        self._person_id = shard.first_person_id
        self._household_id = shard.first_household_id
        self._membership_id = shard.first_membership_id
        t = plan.today
        self._today_ord = t.toordinal()
        month_start = t.replace(day=1)
        period_end = month_start - dt.timedelta(days=1)
        y, m = month_start.year, month_start.month - 12
        if m <= 0:
            y, m = y - 1, m + 12
        period_start = dt.date(y, m, 1)
        stamp = dt.datetime(t.year, t.month, t.day, 8, 0, tzinfo=dt.UTC)
        if dates_as_text:
            days: dict[int, Any] = {}

            def day(ordinal: int) -> Any:
                try:
                    return days[ordinal]
                except KeyError:
                    text = days[ordinal] = dt.date.fromordinal(ordinal).isoformat()
                    return text

            self._day: Callable[[int], Any] = day
            self.period_start: Any = period_start.isoformat()
            self.period_end: Any = period_end.isoformat()
            self.stamp: Any = stamp.isoformat(" ")
        else:
            self._day = dt.date.fromordinal
            self.period_start, self.period_end, self.stamp = period_start, period_end, stamp

    def __iter__(self) -> Iterator[Batch]:
        sizes = self.shard.sizes
        j = 0
        batch = Batch()
        for village, n in self.shard.villages:
            place = self._places[village]
            for number in range(1, n + 1):
                self._household(batch, place, number, sizes[j])
                j += 1
                if len(batch.household) == self.batch_households:
                    yield batch
                    batch = Batch()
        if batch.household:
            yield batch

    # ---------------------------------------------------------------- households

    def _household(self, b: Batch, place: _Place, number: int, size: int) -> None:
        rnd = self._rng.random
        rural = place.rural
        members = self._compose(size, rural)
        self._whereabouts(members, rural)

        code, county, township = place.code, place.county, place.township
        hh_id = self._household_id
        self._household_id = hh_id + 1
        address = f"{place.address}{number}号"
        today_ord = self._today_ord
        stamp = self.stamp
        day = self._day
        surname = _SURNAME(rnd)
        make_id = self._ids.make
        county6 = place.county6
        persons = b.person
        memberships = b.membership
        pid = self._person_id
        for m in members:
            m.person_id = pid
            pid += 1
        self._person_id = pid
        mid = self._membership_id

        for i, m in enumerate(members):
            age = m.age
            male = m.sex == _MALE
            birth_ord = today_ord - age * 365 - age // 4 - int(rnd() * 365)
            birth = day(birth_ord)
            id_number = make_id(county6, birth_ord, male, rnd)
            relation = m.relation
            # children take the head's surname (as the head's father does)
            if relation in (_SPOUSE, _OTHER) or (relation == _PARENT and not male):
                family = _SURNAME(rnd)
            else:
                family = surname
            era = 0 if birth_ord < _ORD_1965 else 2 if birth_ord < _ORD_1995 else 4
            name = family + _GIVEN_BY[era + male](rnd)

            p_ill, p_dis, p_die, labour_pick = _BY_AGE[age if age < _MAX_AGE else _MAX_AGE]
            ill = rnd() < p_ill
            if rnd() < p_dis:
                category: str | None = _DISABILITY_CATEGORY(rnd)
                grade: int | None = _DISABILITY_GRADE(rnd)
            else:
                category = grade = None
            labour = labour_pick(rnd)
            if labour == _FULL and (ill or (grade is not None and grade <= 2)):
                labour = _PARTIAL if rnd() < 0.4 else _NONE
            died_on = None
            if i and rnd() < p_die:
                m.died = True
                died_on = day(today_ord - 1 - int(rnd() * 700))
            whereabouts = m.whereabouts
            if whereabouts == _AWAY:
                away_since = day(today_ord - 60 - int(rnd() * 2920))
                residence = None
            else:
                away_since = None
                residence = code
            if 16 <= age <= 85 and rnd() < (0.92 if age < 75 else 0.45):
                phone: str | None = str(_PHONE_PREFIX(rnd) + int(rnd() * 1e9))
            else:
                phone = None
            in_school = 6 <= age <= 17 or (18 <= age <= 22 and rnd() < 0.45)
            guardian = _guardian(members, m) if age < 18 else None
            persons.append((
                m.person_id, id_number, name, m.sex, birth, phone, address, residence,
                labour, ill, category, grade, whereabouts, away_since, in_school,
                guardian, died_on, 1, stamp, stamp, code, county, township,
            ))  # fmt: skip
            if age < 30 and (relation in (_CHILD, _GRANDCHILD)):
                joined = birth
            else:
                joined = day(max(birth_ord + 6570, today_ord - 9125 + int(rnd() * 8760)))
            memberships.append((mid, hh_id, m.person_id, relation, joined))
            mid += 1
        self._membership_id = mid

        b.household.append((
            hh_id, f"{code}{number:05d}", address, place.hukou, members[0].person_id, 1,
            stamp, stamp, code, county, township,
        ))  # fmt: skip
        self._incomes(b, hh_id, members, place)
        self._assets(b, hh_id, place)

    def _compose(self, size: int, rural: bool) -> list[_Member]:
        """Relations, ages and sexes of one household; the head comes first and
        every guardian before the children in their care."""
        rng = self._rng
        rnd = rng.random

        def ri(lo: int, hi: int) -> int:
            return lo + int(rnd() * (hi - lo + 1))

        def sex() -> str:
            return _MALE if rnd() < 0.515 else _FEMALE

        def other(s: str) -> str:
            return _FEMALE if s == _MALE else _MALE

        def children(
            members: list[_Member], n: int, oldest: int, relation: str, parents: tuple[int, ...]
        ) -> None:
            age = max(0, oldest)
            for _ in range(n):
                members.append(_Member(relation, age, sex(), parents))
                age = max(0, age - ri(1, 6))

        if size == 1:
            if rnd() < (0.45 if rural else 0.35):
                return [_Member(_HEAD, ri(60, 92), _FEMALE if rnd() < 0.55 else _MALE)]
            return [_Member(_HEAD, ri(20, 59), sex())]
        if size == 2:
            roll = rnd()
            if roll < 0.58:  # a couple, often an empty nest
                age = ri(60, 88) if rnd() < 0.5 else ri(22, 59)
                head_sex = _MALE if rnd() < 0.85 else _FEMALE
                return [
                    _Member(_HEAD, age, head_sex),
                    _Member(_SPOUSE, max(20, age + ri(-4, 3)), other(head_sex)),
                ]
            if roll < 0.82:  # a single parent and a child
                age = ri(32, 75)
                members = [_Member(_HEAD, age, sex())]
                children(members, 1, age - ri(22, 34), _CHILD, (0,))
                return members
            age = ri(25, 52)  # an adult and one of their parents
            return [_Member(_HEAD, age, sex()), _Member(_PARENT, age + ri(22, 34), sex())]

        head_sex = _MALE if rnd() < 0.82 else _FEMALE
        roll = rnd()
        elder_headed = roll < (0.35 if rural else 0.15)
        with_parents = not elder_headed and roll < (0.6 if rural else 0.3)
        if elder_headed:
            # grandparents head the household; children and grandchildren live in it
            age = ri(50, 78)
            members = [
                _Member(_HEAD, age, head_sex),
                _Member(_SPOUSE, max(20, age + ri(-4, 3)), other(head_sex)),
            ]
            rest = size - 2
            if rest >= 3 or (rest == 2 and rnd() < 0.5):
                child_age = age - ri(22, 32)
                child_sex = sex()
                members.append(_Member(_CHILD, child_age, child_sex, (0, 1)))
                members.append(_Member(_OTHER, max(18, child_age + ri(-3, 3)), other(child_sex)))
                rest -= 2
                parents: tuple[int, ...] = (2, 3)
                oldest = child_age - ri(22, 30)
            else:
                # skip-generation household: the grandchildren's parents are elsewhere
                parents = ()
                oldest = min(17, age - ri(44, 56))
            children(members, rest, oldest, _GRANDCHILD, parents)
            return members

        age = ri(24, 55)
        members = [
            _Member(_HEAD, age, head_sex),
            _Member(_SPOUSE, max(20, age + ri(-4, 3)), other(head_sex)),
        ]
        rest = size - 2
        if with_parents and rest >= 1:
            n_parents = 2 if rest >= 3 and rnd() < 0.5 else 1
            p_age = age + ri(22, 32)
            p_sex = sex()
            members.append(_Member(_PARENT, p_age, p_sex))
            if n_parents == 2:
                members.append(_Member(_PARENT, max(40, p_age + ri(-4, 3)), other(p_sex)))
            rest -= n_parents
        children(members, rest, age - ri(22, 34), _CHILD, (0, 1))
        return members

    def _whereabouts(self, members: list[_Member], rural: bool) -> None:
        """Working-age adults working away.  Rural parents of young children
        often go together when a grandparent at home can look after them, so
        there are left-behind children; grandparents then stay."""
        rnd = self._rng.random
        young = [m for m in members if m.age < 16]
        parents = sorted({p for m in young for p in m.parents})
        together = False
        if rural and young:
            carer = any(
                i not in parents and (m.relation == _PARENT or m.age >= 50)
                for i, m in enumerate(members)
            )
            together = rnd() < (0.55 if carer else 0.02)
        for i, m in enumerate(members):
            if not 18 <= m.age <= 55:
                continue
            if i in parents:
                if together and (i == parents[0] or rnd() < 0.8):
                    m.whereabouts = _AWAY
            elif young and (m.relation == _PARENT or m.age >= 50 or not parents):
                continue  # the children's carers stay at home
            elif rnd() < (0.38 if rural else 0.06):
                m.whereabouts = _AWAY
        if self._rng.random() < 0.002:
            adults = [m for m in members if 18 <= m.age <= 60]
            if adults:
                m = adults[0]
                m.whereabouts = _IMPRISONED if rnd() < 0.6 else _MISSING
        for m in members:
            if m.age >= 80 and rnd() < 0.02:
                m.whereabouts = _IN_INSTITUTION

    # ---------------------------------------------------------------- money

    def _incomes(self, b: Batch, hh_id: int, members: list[_Member], place: _Place) -> None:
        """Income of the last 12 full months, in fen: one row per source (and per
        earner for wages and pensions)."""
        rnd = self._rng.random
        gauss = self._rng.gauss
        rural = place.rural
        rows: list[tuple[Any, ...]] = []

        def add(person_id: int | None, source: str, yuan: float, cost_share: float = 0.0) -> None:
            rows.append((person_id, source, int(yuan) * 100, int(yuan * cost_share) * 100))

        for m in members:
            if m.died:
                continue
            age = m.age
            if 16 <= age <= 64:
                if m.whereabouts == _AWAY:
                    add(m.person_id, _INC_WAGES, _exp(10.75 + 0.35 * gauss()),
                        0.12 + rnd() * 0.08)  # fmt: skip
                elif age >= 18 and m.whereabouts == _AT_HOME:
                    p = 0.62 if rural else 0.8
                    if age > 55:
                        p *= 0.5
                    if rnd() < p:
                        add(m.person_id, _INC_WAGES,
                            _exp((10.05 if rural else 10.6) + 0.4 * gauss()),
                            0.03 + rnd() * 0.05)  # fmt: skip
            if age >= 60:
                if rural:
                    add(m.person_id, _INC_BASIC_PENSION, 12 * (123 + int(rnd() * 80)))
                elif rnd() < 0.7:  # employees' pension, a transfer income
                    add(m.person_id, _INC_TRANSFER, _exp(10.45 + 0.3 * gauss()))
                else:
                    add(m.person_id, _INC_BASIC_PENSION, 12 * (150 + int(rnd() * 80)))
            elif 18 <= age <= 22 and rnd() < 0.04:
                add(m.person_id, _INC_SCHOLARSHIP, 2000 + int(rnd() * 4000))

        if rural:
            if rnd() < 0.78:
                add(None, _INC_BUSINESS, _exp(9.2 + 0.5 * gauss()))  # farming, net
        elif rnd() < 0.08:
            add(None, _INC_BUSINESS, _exp(10.8 + 0.5 * gauss()))
        if rnd() < 0.08:
            add(None, _INC_PROPERTY, _exp(8.5 + 0.8 * gauss()))
        if members[0].age >= 55 and rnd() < 0.75:
            add(None, _INC_TRANSFER, _exp(8.9 + 0.5 * gauss()))  # support from children
        if rnd() < 0.004:
            add(None, _INC_PREFERENTIAL, 10000 + int(rnd() * 20000))
        if rnd() < 0.004:
            add(None, _INC_AWARD, 500 + int(rnd() * 5000))

        start, end, stamp = self.period_start, self.period_end, self.stamp
        code, county, township = place.code, place.county, place.township
        out = b.household_income
        for person_id, source, fen, cost in rows:
            out.append((hh_id, person_id, source, start, end, fen, cost, None, stamp,
                        code, county, township))  # fmt: skip

    def _assets(self, b: Batch, hh_id: int, place: _Place) -> None:
        """A few assets: deposits, vehicles, property, securities, business assets."""
        rnd = self._rng.random
        gauss = self._rng.gauss
        rural = place.rural
        kinds: list[tuple[str, float]] = []
        if rnd() < (0.18 if rural else 0.26):
            kinds.append((_ASSET_DEPOSIT, _exp(10.6 + gauss())))
        if rnd() < (0.10 if rural else 0.16):
            kinds.append((_ASSET_VEHICLE, _exp(11.1 + 0.5 * gauss())))
        if rnd() < (0.03 if rural else 0.06):
            kinds.append((_ASSET_REAL_ESTATE, _exp(12.8 + 0.5 * gauss())))
        if rnd() < 0.02:
            kinds.append((_ASSET_SECURITIES, _exp(10.5 + gauss())))
        if rnd() < (0.02 if rural else 0.03):
            kinds.append((_ASSET_BUSINESS, _exp(11.5 + 0.8 * gauss())))
        for kind, yuan in kinds:
            as_of = self._day(self._today_ord - 1 - int(rnd() * 365))
            b.household_asset.append((hh_id, kind, as_of, int(yuan) * 100, None,
                                      place.code, place.county, place.township))  # fmt: skip


def generate(
    households: int,
    seed: int,
    *,
    today: dt.date | None = None,
    dates_as_text: bool = False,
    batch_households: int = BATCH_HOUSEHOLDS,
) -> Iterator[Batch]:
    """Batches of ``households`` generated households, shard after shard: the
    same rows :func:`seed_registry` writes for this ``seed`` and ``today``."""
    p = plan(households, seed, today=today)
    for shard in p.shards:
        yield from ShardGenerator(p, shard, dates_as_text=dates_as_text,
                                  batch_households=batch_households)  # fmt: skip


# ------------------------------------------------------------------ writing


@dataclass
class SeedSummary:
    """What :func:`seed_registry` wrote, and where the time went."""

    households: int = 0
    rows: dict[str, int] = field(default_factory=lambda: {t: 0 for t in COLUMNS})
    regions_added: int = 0
    #: worker processes that generated rows (0 = generated in this process)
    workers: int = 0
    #: wall time of the load (without ``analyze``), and parts of it
    seconds: float = 0.0
    wait_seconds: float = 0.0
    write_seconds: float = 0.0
    index_seconds: float = 0.0
    analyze_seconds: float = 0.0

    @property
    def persons(self) -> int:
        return self.rows["person"]


Progress = Callable[[int], object]
"""Called with the number of households just written (a click progress bar's
``update`` fits)."""


class RegistryNotEmpty(RuntimeError):
    """Generated households are only written into a registry without households."""


#: From this many households on (and given an engine), shards are generated
#: by worker processes and secondary indexes are rebuilt after the load.
BULK_THRESHOLD = 20_000


async def seed_registry(
    target: AsyncEngine | AsyncSession,
    households: int,
    seed: int,
    *,
    today: dt.date | None = None,
    progress: Progress | None = None,
    analyze: bool = True,
    workers: int | None = None,
    rebuild_indexes: bool | None = None,
) -> SeedSummary:
    """Write ``households`` generated households (and 焦作's regions, where
    missing) into a registry that has no households yet; return what was written.

    With an engine, the load is one transaction, committed at the end (on
    SQLite with foreign-key checks off during it: the generator keeps every
    reference valid).  With a session the rows join the session's transaction,
    the caller commits, and rows are generated in this process.

    ``workers`` processes generate the shards of :func:`plan` in parallel (0 =
    in this process; default: the CPU count, up to 4, from
    :data:`BULK_THRESHOLD` households).  On SQLite each worker writes its
    shard into a scratch database that is copied in with ``INSERT … SELECT``;
    otherwise rows reach the database by ``executemany`` of compiled
    ``insert()`` statements (SQLite) or ``COPY`` (PostgreSQL).
    ``rebuild_indexes`` drops the tables' secondary indexes for the load and
    builds them afterwards (default: from :data:`BULK_THRESHOLD` households).
    ``analyze`` refreshes the planner's statistics (timed apart).  The rows
    are the same whichever way they are written.
    """
    if households < 0:
        raise ValueError("households must not be negative")
    big = households >= BULK_THRESHOLD
    if workers is None:
        workers = min(os.cpu_count() or 1, 4) if big else 0
    if isinstance(target, AsyncSession):
        workers = 0
    rebuild = big if rebuild_indexes is None else rebuild_indexes
    load = _Load(households, seed, today or dt.date.today(), progress, workers, rebuild)
    started = time.perf_counter()
    if isinstance(target, AsyncSession):
        conn = await target.connection()
        summary = await load.run(conn)
        summary.seconds = time.perf_counter() - started
        if analyze:
            summary.analyze_seconds = await _analyze(conn)
        return summary
    async with target.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:  # before the transaction begins, or the pragma is ignored
            await conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            await conn.commit()
        try:
            async with conn.begin():
                summary = await load.run(conn)
        finally:
            await load.cleanup(conn)
            if sqlite:
                await conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                await conn.commit()
        summary.seconds = time.perf_counter() - started
        if analyze:
            async with conn.begin():
                summary.analyze_seconds = await _analyze(conn)
    return summary


@dataclass
class _Load:
    households: int
    seed: int
    today: dt.date
    progress: Progress | None
    workers: int
    rebuild_indexes: bool
    attached: list[str] = field(default_factory=list)
    scratch: str | None = None
    reported: int = 0

    async def run(self, conn: AsyncConnection) -> SeedSummary:
        dialect = conn.dialect.name
        if dialect not in ("sqlite", "postgresql"):
            raise NotImplementedError(f"bulk seeding is not implemented for {dialect}")
        summary = SeedSummary(workers=self.workers)
        summary.regions_added = await _ensure_regions(conn)
        if await conn.scalar(select(func.count()).select_from(Household.__table__)):
            raise RegistryNotEmpty(
                "the registry already holds households; generated data goes into an empty one"
            )
        first_ids = {}
        for table in TABLES:
            top = await conn.scalar(select(func.max(table.c.id)))
            first_ids[table.name] = (top or 0) + 1
        the_plan = plan(self.households, self.seed, today=self.today, first_ids=first_ids)
        writer: _Writer = _SqliteWriter(conn) if dialect == "sqlite" else _PostgresWriter(conn)
        await writer.prepare()
        dropped = await _drop_indexes(conn) if self.rebuild_indexes else []
        clock = time.perf_counter
        try:
            if self.workers and dialect == "sqlite":
                await self._merge_scratch_databases(conn, the_plan, summary)
            else:
                batches = self._batches(the_plan, text_dates=dialect == "sqlite")
                assert isinstance(batches, AsyncGenerator)
                try:
                    mark = clock()
                    async for batch in batches:
                        now = clock()
                        summary.wait_seconds += now - mark
                        for table in TABLES:
                            rows = batch.rows(table.name)
                            if rows:
                                await writer.write(table, rows)
                            summary.rows[table.name] += len(rows)
                        summary.households += len(batch.household)
                        self._report(summary)
                        mark = clock()
                        summary.write_seconds += mark - now
                finally:
                    await batches.aclose()
            mark = clock()
            for index in dropped:
                await conn.run_sync(index.create)
            summary.index_seconds = clock() - mark
        finally:
            await writer.close()
        return summary

    def _report(self, summary: SeedSummary) -> None:
        if self.progress is not None:
            self.progress(summary.households - self.reported)
        self.reported = summary.households

    async def _batches(self, the_plan: Plan, *, text_dates: bool) -> AsyncIterator[Batch]:
        if not self.workers:
            for shard in the_plan.shards:
                for batch in ShardGenerator(the_plan, shard, dates_as_text=text_dates):
                    yield batch
                    await asyncio.sleep(0)
            return
        async with _Workers(self.workers) as pool:
            queues = [pool.stream(the_plan, shard.index, text_dates) for shard in the_plan.shards]
            for queue in queues:
                while (item := await queue.get()) is not None:
                    if isinstance(item, _Failed):
                        raise item.error
                    yield item

    async def _merge_scratch_databases(
        self, conn: AsyncConnection, the_plan: Plan, summary: SeedSummary
    ) -> None:
        """Workers write the shards into scratch SQLite files; each is attached
        (detaching waits for the end of the transaction) and copied in order."""
        self.scratch = tempfile.mkdtemp(prefix="minzheng-seed-")
        clock = time.perf_counter
        async with _Workers(self.workers) as pool:
            done = []
            for shard in the_plan.shards:
                path = os.path.join(self.scratch, f"shard-{shard.index}.db")
                done.append((shard, path, pool.scratch(the_plan, shard.index, path)))
            for shard, path, finished in done:
                mark = clock()
                counts = await finished
                now = clock()
                summary.wait_seconds += now - mark
                name = f"seed_shard_{shard.index}"
                await conn.exec_driver_sql(f"ATTACH DATABASE ? AS {name}", (path,))
                self.attached.append(name)
                for table in TABLES:
                    cols = ", ".join(COLUMNS[table.name])
                    await conn.exec_driver_sql(
                        f"INSERT INTO main.{table.name} ({cols}) "
                        f"SELECT {cols} FROM {name}.{table.name} ORDER BY rowid"
                    )
                    summary.rows[table.name] += counts[table.name]
                summary.households += shard.households
                summary.write_seconds += clock() - now
                self._report(summary)

    async def cleanup(self, conn: AsyncConnection) -> None:
        """Detach and delete the scratch databases (after the transaction)."""
        for name in self.attached:
            with contextlib.suppress(Exception):
                await conn.exec_driver_sql(f"DETACH DATABASE {name}")
        self.attached.clear()
        if self.scratch:
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None


async def _ensure_regions(conn: AsyncConnection) -> int:
    have = set((await conn.scalars(select(Region.code))).all())
    missing = [r for r in region_rows() if r["code"] not in have]
    if missing:
        await conn.execute(insert(Region), missing)
    return len(missing)


async def _drop_indexes(conn: AsyncConnection) -> list[Index]:
    """Drop the loaded tables' non-unique indexes (those in the metadata that
    exist), to be rebuilt in one pass after the load."""

    def run(sync: Any) -> list[Index]:
        inspector = inspect(sync)
        existing = {(t.name, ix["name"]) for t in TABLES for ix in inspector.get_indexes(t.name)}
        dropped = []
        for table in TABLES:
            for index in sorted(table.indexes, key=lambda i: str(i.name)):
                if (table.name, index.name) in existing and not index.unique:
                    index.drop(sync)
                    dropped.append(index)
        return dropped

    return await conn.run_sync(run)


async def _analyze(conn: AsyncConnection) -> float:
    started = time.perf_counter()
    if conn.dialect.name == "sqlite":
        await conn.exec_driver_sql("ANALYZE")
    elif conn.dialect.name == "postgresql":
        for name in (*(t.name for t in TABLES), "region"):
            await conn.exec_driver_sql(f"ANALYZE {name}")
    return time.perf_counter() - started


class _Writer:
    async def prepare(self) -> None:
        return None

    async def write(self, table: Table, rows: list[tuple[Any, ...]]) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        return None


class _SqliteWriter(_Writer):
    """``executemany`` of the compiled ``insert()``; rows arrive with dates as
    text already (``dates_as_text``)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self.sql = {
            t.name: str(insert(t).values({c: None for c in COLUMNS[t.name]}).compile(
                dialect=conn.dialect))
            for t in TABLES
        }  # fmt: skip

    async def prepare(self) -> None:
        # a large page cache keeps the indexes of a million rows in memory
        await self.conn.exec_driver_sql("PRAGMA cache_size=-262144")

    async def write(self, table: Table, rows: list[tuple[Any, ...]]) -> None:
        await self.conn.exec_driver_sql(self.sql[table.name], rows)  # type: ignore[arg-type]

    async def close(self) -> None:
        await self.conn.exec_driver_sql("PRAGMA cache_size=-2000")


class _PostgresWriter(_Writer):
    """``COPY … FROM STDIN`` through asyncpg, then sequences moved past the new ids."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self.raw: Any = None

    async def prepare(self) -> None:
        await self.conn.execute(text("SELECT 1"))  # make sure the transaction has begun
        fairy = await self.conn.get_raw_connection()
        self.raw = fairy.driver_connection

    async def write(self, table: Table, rows: list[tuple[Any, ...]]) -> None:
        await self.raw.copy_records_to_table(
            table.name, records=rows, columns=list(COLUMNS[table.name])
        )

    async def close(self) -> None:
        for table in TABLES:
            await self.conn.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table.name}), false)"
            )


# ------------------------------------------------------------------ worker processes

_FRAME = struct.Struct("<cQ")


class _Workers:
    """Python worker processes that generate shards: ``stream`` sends a shard's
    batches back (pickled), ``scratch`` writes it into a scratch SQLite file.
    Jobs are taken in submission order; each worker does one at a time."""

    def __init__(self, n: int) -> None:
        self.n = max(1, n)
        self.jobs: asyncio.Queue[Any] = asyncio.Queue()
        self.tasks: list[asyncio.Task[None]] = []
        self.procs: list[asyncio.subprocess.Process] = []

    async def __aenter__(self) -> _Workers:
        for _ in range(self.n):
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-c", "from minzheng.core.demo import _worker_main; _worker_main()",
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                limit=64 * 2**20,
            )  # fmt: skip
            self.procs.append(proc)
            self.tasks.append(asyncio.create_task(self._serve(proc)))
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in self.tasks:
            task.cancel()
        for proc in self.procs:
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
            await proc.wait()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    def stream(self, the_plan: Plan, shard: int, text_dates: bool) -> asyncio.Queue[Any]:
        """A queue that receives the shard's batches, then ``None``."""
        queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=4)
        self.jobs.put_nowait((("stream", the_plan, shard, text_dates), queue, None))
        return queue

    def scratch(self, the_plan: Plan, shard: int, path: str) -> asyncio.Future[dict[str, int]]:
        """A future for the shard's row counts, once it is written to ``path``."""
        done: asyncio.Future[dict[str, int]] = asyncio.get_running_loop().create_future()
        self.jobs.put_nowait((("scratch", the_plan, shard, path), None, done))
        return done

    async def _serve(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdin is not None and proc.stdout is not None
        while True:
            job, queue, done = await self.jobs.get()
            data = pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)
            proc.stdin.write(_FRAME.pack(b"J", len(data)) + data)
            try:
                await proc.stdin.drain()
                while True:
                    kind, size = _FRAME.unpack(await proc.stdout.readexactly(_FRAME.size))
                    payload = await proc.stdout.readexactly(size)
                    if kind == b"B":
                        await queue.put(pickle.loads(payload))
                    elif kind == b"D":
                        if queue is not None:
                            await queue.put(None)
                        else:
                            done.set_result(pickle.loads(payload))
                        break
                    else:
                        raise RuntimeError(f"data generator failed:\n{payload.decode()}")
            except (asyncio.IncompleteReadError, ConnectionError, RuntimeError) as exc:
                error = exc
                if not isinstance(exc, RuntimeError):
                    error = RuntimeError(f"data generator process stopped ({proc.returncode})")
                if queue is not None:
                    await queue.put(_Failed(error))
                else:
                    done.set_exception(error)
                return


@dataclass
class _Failed:
    error: BaseException


def _worker_main() -> None:
    """A worker process: read jobs from stdin, answer on stdout (see :class:`_Workers`)."""
    gc.disable()  # the generator makes no reference cycles; collections only cost
    src, out = sys.stdin.buffer, sys.stdout.buffer
    while True:
        head = src.read(_FRAME.size)
        if len(head) < _FRAME.size:
            return
        _, size = _FRAME.unpack(head)
        mode, the_plan, index, arg = pickle.loads(src.read(size))
        try:
            shard = the_plan.shards[index]
            if mode == "stream":
                for batch in ShardGenerator(the_plan, shard, dates_as_text=arg):
                    data = pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)
                    out.write(_FRAME.pack(b"B", len(data)))
                    out.write(data)
                counts: dict[str, int] = {}
            else:
                counts = _write_scratch(ShardGenerator(the_plan, shard, dates_as_text=True), arg)
        except Exception:  # reported to the parent, which raises it
            data = traceback.format_exc().encode()
            out.write(_FRAME.pack(b"E", len(data)))
            out.write(data)
        else:
            data = pickle.dumps(counts)
            out.write(_FRAME.pack(b"D", len(data)))
            out.write(data)
        out.flush()


def _write_scratch(batches: Iterable[Batch], path: str) -> dict[str, int]:
    """Write batches into a fresh SQLite file: plain columns, no indexes, no journal."""
    counts = dict.fromkeys(COLUMNS, 0)
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
        for table, cols in COLUMNS.items():
            db.execute(f"CREATE TABLE {table} ({', '.join(cols)})")
        inserts = {
            table: f"INSERT INTO {table} VALUES ({', '.join('?' * len(cols))})"
            for table, cols in COLUMNS.items()
        }
        db.execute("BEGIN")
        for batch in batches:
            for table, sql in inserts.items():
                rows = batch.rows(table)
                db.executemany(sql, rows)
                counts[table] += len(rows)
        db.execute("COMMIT")
    finally:
        db.close()
    return counts


__all__ = [
    "BATCH_HOUSEHOLDS", "BULK_THRESHOLD", "COLUMNS", "MAX_SHARDS", "TABLES", "Batch", "Plan",
    "RegistryNotEmpty", "SeedSummary", "Shard", "ShardGenerator", "allocate", "generate",
    "plan", "region_rows", "seed_registry",
]  # fmt: skip
