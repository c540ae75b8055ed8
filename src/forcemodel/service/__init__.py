"""The multi-nation security-assistance service: a face that stores and serves records.

Donors pledge items, the partner states requirements, coordinators allocate pledges to
requirements, observers read. The service keeps these records in a database (SQLite embedded by
default, PostgreSQL by URL), authenticates by bearer token, refuses stale edits and audits every
change. It does not compute: matching pledges to requirements belongs to ``forcemodel.assist``.

Importing this package is cheap; FastAPI, SQLAlchemy and Alembic load with the submodules.
"""
