"""A small plugin used by the tests and as the worked example in the plugin guide.

It adds one scoped table (``example_note``), a type (``ExampleNote``), a root
query (``exampleNotes``), a mutation (``addExampleNote``), a field on
``Person`` (``exampleNotes``) and one on ``RegionStatistics``
(``exampleNoteCount``).
"""

from minzheng.core.plugins import PluginInfo

info = PluginInfo(
    name="example",
    title="示例",
    version="1.0",
    hooks="example_plugin.hooks",
    description="Notes about persons: the plugin guide's worked example.",
    migrations=PluginInfo.migrations_beside(__file__),
)
