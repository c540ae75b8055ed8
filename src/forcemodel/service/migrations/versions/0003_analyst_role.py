"""Add the analyst role: users may be analysts (they plan on the web dashboard).

The users' roles are a CHECK constraint (``ck_users_role``); this revision replaces it with one
that also takes ``analyst``. On SQLite the table is copied (batch mode) from its definition at
revision 0002, given here in full, so nothing depends on reflecting SQLite's CHECK constraints.
Downgrading refuses while an analyst exists: the old constraint could not hold that row, and
removing or demoting a user is a decision for a person, not for a migration.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 11:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = ("donor", "partner", "coordinator", "observer")
AFTER = (*BEFORE, "analyst")
CONSTRAINT = "ck_users_role"


def _check(roles: tuple[str, ...]) -> str:
    return "role IN (" + ", ".join(f"'{r}'" for r in roles) + ")"


def _users(roles: tuple[str, ...]) -> sa.Table:
    """The users table as it stands with ``roles`` allowed (for SQLite's table copy)."""
    return sa.Table(
        "users",
        sa.MetaData(),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("nation", sa.String(length=3), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(_check(roles), name=CONSTRAINT),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("name", name="uq_users_name"),
        sa.UniqueConstraint("token_hash", name="uq_users_token_hash"),
    )


def _replace(old: tuple[str, ...], new: tuple[str, ...]) -> None:
    with op.batch_alter_table("users", copy_from=_users(old)) as batch_op:
        batch_op.drop_constraint(op.f(CONSTRAINT), type_="check")
        batch_op.create_check_constraint(op.f(CONSTRAINT), _check(new))


def upgrade() -> None:
    """Allow the analyst role."""
    _replace(BEFORE, AFTER)


def downgrade() -> None:
    """Allow the four roles of 0002 again; refused while a user is an analyst."""
    analysts = op.get_bind().execute(sa.text("SELECT name FROM users WHERE role = 'analyst'"))
    names = [row[0] for row in analysts]
    if names:
        raise RuntimeError(
            f"cannot downgrade below 0003: users {', '.join(names)} are analysts; "
            "remove them first (forcemodel users remove NAME)"
        )
    _replace(AFTER, BEFORE)
