"""The static web bundle: `python -m web.build --out DIR` assembles a site where nncore runs
in the visitor's browser under Pyodide (see web/build.py)."""
