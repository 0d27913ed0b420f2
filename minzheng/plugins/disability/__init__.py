"""残疾人: the two subsidies, survival verification, care services, community rehabilitation."""

from minzheng.core.plugins import PluginInfo

info = PluginInfo(
    name="disability",
    title="残疾人",
    version="0.1.0",
    hooks="minzheng.plugins.disability.hooks",
    requires=(),
    after=("social_assistance",),  # its 低保 enrolments drive the living subsidy
    description=(
        "两项补贴 (living and care subsidies) with dynamic standards and survival "
        "verification; care services; community rehabilitation for mental disorders."
    ),
    migrations=PluginInfo.migrations_beside(__file__),
)
