"""Statistical division codes (统计用区划代码): 12 digits, five levels.

``41 08 23 101 201`` = province 41, prefecture 08, county 23, township 101,
village 201.  Shorter forms (``410823``, ``410823101``) name the same unit;
every unit is stored with its full 12-digit code and its ancestors' codes, so a
scope check is an index range scan and a roll-up is a ``GROUP BY`` on a column.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

_CODE = re.compile(r"^\d{2}(\d{2}(\d{2}(\d{3}(\d{3})?)?)?)?$")


class RegionLevel(enum.StrEnum):
    PROVINCE = "province"  # 省
    CITY = "city"  # 地级市
    COUNTY = "county"  # 县/区
    TOWNSHIP = "township"  # 乡/镇/街道
    VILLAGE = "village"  # 村/社区


_SIGNIFICANT = {
    RegionLevel.PROVINCE: 2,
    RegionLevel.CITY: 4,
    RegionLevel.COUNTY: 6,
    RegionLevel.TOWNSHIP: 9,
    RegionLevel.VILLAGE: 12,
}


class InvalidRegionCode(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class DivisionCode:
    """A parsed division code; ``prefix`` holds only its significant digits."""

    prefix: str

    @classmethod
    def parse(cls, code: str) -> DivisionCode:
        """Accept 2/4/6/9/12-digit forms, with or without zero padding."""
        code = (code or "").strip()
        if not code.isdigit() or len(code) not in (2, 4, 6, 9, 12) or not _CODE.match(code):
            raise InvalidRegionCode(f"not a division code: {code!r}")
        # strip zero padding level by level: 410800000000 → 4108
        for length in (12, 9, 6, 4):
            if len(code) >= length and code[_cut(length) : length] == "0" * (length - _cut(length)):
                code = code[: _cut(length)]
        return cls(code)

    @property
    def level(self) -> RegionLevel:
        return {v: k for k, v in _SIGNIFICANT.items()}[len(self.prefix)]

    @property
    def full(self) -> str:
        return self.prefix.ljust(12, "0")

    @property
    def bounds(self) -> tuple[str, str]:
        """Smallest and largest 12-digit code inside this unit (inclusive)."""
        return self.prefix.ljust(12, "0"), self.prefix.ljust(12, "9")

    def contains(self, other: DivisionCode | str) -> bool:
        other_prefix = other.prefix if isinstance(other, DivisionCode) else parse(other).prefix
        return other_prefix.startswith(self.prefix)

    def ancestor(self, level: RegionLevel) -> DivisionCode | None:
        n = _SIGNIFICANT[level]
        if n > len(self.prefix):
            return None
        return DivisionCode(self.prefix[:n])

    @property
    def parent(self) -> DivisionCode | None:
        lengths = [2, 4, 6, 9, 12]
        i = lengths.index(len(self.prefix))
        return DivisionCode(self.prefix[: lengths[i - 1]]) if i else None


def _cut(length: int) -> int:
    return {12: 9, 9: 6, 6: 4, 4: 2}[length]


def parse(code: str) -> DivisionCode:
    return DivisionCode.parse(code)


def ancestors(code: str) -> dict[str, str | None]:
    """Full 12-digit codes of the county and township that contain ``code``."""
    d = parse(code)
    county = d.ancestor(RegionLevel.COUNTY)
    township = d.ancestor(RegionLevel.TOWNSHIP)
    return {
        "county_code": county.full if county else None,
        "township_code": township.full if township else None,
    }
