"""ASGI entry point for uvicorn workers: ``minzheng.gateway.asgi:app``."""

from minzheng.core.settings import get_settings
from minzheng.gateway import logs
from minzheng.gateway.app import create_app

logs.configure(get_settings().log_level)
app = create_app()
