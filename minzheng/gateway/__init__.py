"""The Starlette application, its middleware and the ``minzheng`` command."""
