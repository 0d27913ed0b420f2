"""The disability plugin's hook implementations."""

from __future__ import annotations

from minzheng.core.hookspecs import Programme, hookimpl
from minzheng.plugins.disability.rules import PROGRAMME_CODES, SUBSIDY_TITLES, Subsidy


@hookimpl
def declare_programmes() -> list[Programme]:
    return [
        Programme(
            code=PROGRAMME_CODES[Subsidy.LIVING],
            title=SUBSIDY_TITLES[Subsidy.LIVING],
            title_en="Living subsidy for disabled people in difficulty",
        ),
        Programme(
            code=PROGRAMME_CODES[Subsidy.CARE],
            title=SUBSIDY_TITLES[Subsidy.CARE],
            title_en="Care subsidy for severely disabled people",
        ),
    ]
