"""Superset for analysts: assets as code, the import bundle, the REST client and the sync.

The platform's code talks to Superset over HTTP only (Superset lives in its own
virtualenv, `.venv-superset`, whose pins clash with Airflow's). The YAML assets
under `superset/assets/` are generated from `sources/*.yaml` by
`python -m include.superset write` and committed; `bundle.py` zips them for
`POST /api/v1/assets/import/`, `client.py` speaks the REST API and `sync.py`
imports the bundle and refreshes every dataset after each release.
"""
