"""City-scale benchmarks of the minzheng gateway, with baselines in the same run.

``python -m bench run --persons N [--quick] [--postgres URL]`` generates (and
caches) registries of 10k/100k/1M persons, runs the fixed query mix in
``bench/queries`` in-process and over HTTP against uvicorn, next to
hand-written SQLAlchemy Core baselines and a bare strawberry schema, and
writes a Markdown report and a JSON file.
"""
