"""社会救助 social assistance: 低保, 特困, 临时救助 and near-poverty households."""

from minzheng.core.plugins import PluginInfo

info = PluginInfo(
    name="social_assistance",
    title="社会救助",
    version="0.1.0",
    hooks="minzheng.plugins.social_assistance.hooks",
    requires=(),
    description="低保 minimum living guarantee, 特困 extreme-poverty support, "
    "临时救助 temporary assistance and 低保边缘 near-poverty households.",
    migrations=PluginInfo.migrations_beside(__file__),
)
