"""The web application and JSON API (FastAPI, Jinja2 pages in Chinese). Thin: routes call services.

Build it with :func:`xiangchuang.web.app.create_app`; nothing here opens a database at import time."""
