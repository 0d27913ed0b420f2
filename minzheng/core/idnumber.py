"""Resident identity numbers (公民身份号码, GB 11643-1999).

18 characters: 6-digit address code, birth date ``YYYYMMDD``, 3-digit sequence
(odd = male, even = female) and an ISO 7064 MOD 11-2 check character.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
#: province-level prefixes of GB/T 2260 address codes
_PROVINCES = frozenset(
    {str(n) for n in (11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42)}
    | {str(n) for n in (43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82)}
)


class Sex(enum.StrEnum):
    MALE = "male"
    FEMALE = "female"


class InvalidIdNumber(ValueError):
    """Carries a machine code (``id_number.checksum`` …) and a human message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class IdNumber:
    value: str
    address_code: str
    birth_date: dt.date
    sex: Sex


def check_character(first17: str) -> str:
    return _CHECK[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def parse_id_number(raw: str, *, today: dt.date | None = None) -> IdNumber:
    """Validate ``raw`` and derive birth date and sex; raise :class:`InvalidIdNumber`."""
    value = (raw or "").strip().upper()
    if len(value) != 18:
        raise InvalidIdNumber("id_number.length", "ID number must have 18 characters")
    if not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
        raise InvalidIdNumber(
            "id_number.characters", "ID number must be 17 digits followed by a digit or X"
        )
    if value[:2] not in _PROVINCES:
        raise InvalidIdNumber("id_number.region", "ID number has no valid address code")
    try:
        birth = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise InvalidIdNumber(
            "id_number.birth_date", "ID number does not contain a valid birth date"
        ) from None
    today = today or dt.date.today()
    if birth > today or birth.year < 1850:
        raise InvalidIdNumber("id_number.birth_date", "ID number's birth date is out of range")
    if check_character(value[:17]) != value[17]:
        raise InvalidIdNumber("id_number.checksum", "ID number's check character is wrong")
    sex = Sex.MALE if int(value[16]) % 2 else Sex.FEMALE
    return IdNumber(value=value, address_code=value[:6], birth_date=birth, sex=sex)


def make_id_number(address_code: str, birth: dt.date, sequence: int) -> str:
    """Build a valid number (demo data and tests); ``sequence`` parity gives the sex."""
    first17 = f"{address_code}{birth:%Y%m%d}{sequence:03d}"
    return first17 + check_character(first17)


def mask_id_number(value: str) -> str:
    """``410823199001011234`` → ``410823********1234``."""
    if len(value) != 18:
        return "*" * len(value)
    return value[:6] + "*" * 8 + value[14:]
