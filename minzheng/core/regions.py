"""The shipped divisions of 焦作市 (410800) and, for demos, generated villages.

Counties: GB/T 2260 plus the statistical list's 410871 (see DOMAIN.md).
Townships: ``data/jiaozuo-townships.csv``, from the National Bureau of
Statistics' 统计用区划代码 as compiled in the public dataset
"Administrative-divisions-of-China" (``dist/streets.csv``).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources

from minzheng.core.divisions import RegionLevel, parse

CITY = ("410800", "焦作市")
COUNTIES = {
    "410802": "解放区",
    "410803": "中站区",
    "410804": "马村区",
    "410811": "山阳区",
    "410821": "修武县",
    "410822": "博爱县",
    "410823": "武陟县",
    "410825": "温县",
    "410871": "焦作城乡一体化示范区",
    "410882": "沁阳市",
    "410883": "孟州市",
}
PROVINCE = ("410000", "河南省")


@dataclass(frozen=True, slots=True)
class Division:
    code: str  # 12 digits
    name: str
    level: RegionLevel
    parent_code: str | None
    urban_rural: str | None  # "urban" | "rural" | None above township level

    def row(self) -> dict[str, str | None]:
        d = parse(self.code)
        city = d.ancestor(RegionLevel.CITY)
        county = d.ancestor(RegionLevel.COUNTY)
        township = d.ancestor(RegionLevel.TOWNSHIP)
        return {
            "code": self.code,
            "name": self.name,
            "level": self.level.value,
            "parent_code": self.parent_code,
            "city_code": city.full if city else None,
            "county_code": county.full if county else None,
            "township_code": township.full if township else None,
            "urban_rural": self.urban_rural,
        }


def township_kind(code9: str) -> str:
    """Street offices (001–099) are urban; towns, townships and others rural."""
    return "urban" if int(code9[6:9]) < 100 else "rural"


@cache
def jiaozuo() -> tuple[Division, ...]:
    """Province, city, counties and townships of 焦作, parents before children."""
    out = [
        Division(parse(PROVINCE[0]).full, PROVINCE[1], RegionLevel.PROVINCE, None, None),
        Division(parse(CITY[0]).full, CITY[1], RegionLevel.CITY, parse(PROVINCE[0]).full, None),
    ]
    city_full = parse(CITY[0]).full
    for code, name in COUNTIES.items():
        out.append(Division(parse(code).full, name, RegionLevel.COUNTY, city_full, None))
    text = resources.files("minzheng.core").joinpath("data/jiaozuo-townships.csv")
    with text.open(encoding="utf-8") as fh:
        for rec in csv.DictReader(fh):
            out.append(
                Division(
                    code=parse(rec["code"]).full,
                    name=rec["name"],
                    level=RegionLevel.TOWNSHIP,
                    parent_code=parse(rec["county_code"]).full,
                    urban_rural=township_kind(rec["code"]),
                )
            )
    return tuple(out)


def demo_villages(per_township: int = 4) -> Iterator[Division]:
    """Generated villages/communities (the real list is not shipped): ``NNN`` from 201
    (rural 村委会) or 001 (urban 居委会), named after their township."""
    for t in jiaozuo():
        if t.level != RegionLevel.TOWNSHIP:
            continue
        urban = t.urban_rural == "urban"
        for i in range(per_township):
            seq = (1 if urban else 201) + i
            suffix = "社区居委会" if urban else "村委会"
            yield Division(
                code=t.code[:9] + f"{seq:03d}",
                name=f"{t.name}第{i + 1}{suffix}",
                level=RegionLevel.VILLAGE,
                parent_code=t.code,
                urban_rural=t.urban_rural,
            )
