"""Add the board's logistics and training records: hubs, routes, courses, item needs.

Four new tables, nothing else changes: existing rows stay as they are, and a database without
these rows plans as before (every pledge straight to the partner, no crews). Downgrading drops
the tables and what they hold (the audit log keeps every change made to them).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 15:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _versioned() -> list[sa.Column[object]]:
    """The version counter and timestamps every editable row has."""
    return [
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    """Create the hubs, routes, courses and item_needs tables."""
    op.create_table(
        "hubs",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("location", sa.String(length=200), nullable=False),
        sa.Column("t_per_day", sa.Float(), nullable=False),
        *_versioned(),
        sa.CheckConstraint("t_per_day > 0", name=op.f("ck_hubs_t_per_day")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hubs")),
    )
    op.create_table(
        "routes",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("origin", sa.String(length=200), nullable=False),
        sa.Column("hub_id", sa.String(length=40), nullable=False),
        sa.Column("to_hub_days", sa.Integer(), nullable=False),
        sa.Column("onward_days", sa.Integer(), nullable=False),
        sa.Column("t_per_day", sa.Float(), nullable=True),
        *_versioned(),
        sa.CheckConstraint("to_hub_days >= 0 AND onward_days >= 0", name=op.f("ck_routes_days")),
        sa.CheckConstraint("t_per_day IS NULL OR t_per_day > 0", name=op.f("ck_routes_t_per_day")),
        sa.ForeignKeyConstraint(["hub_id"], ["hubs.id"], name=op.f("fk_routes_hub_id_hubs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routes")),
    )
    with op.batch_alter_table("routes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_routes_hub_id"), ["hub_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_routes_origin"), ["origin"], unique=False)

    op.create_table(
        "courses",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("item_id", sa.String(length=40), nullable=True),
        sa.Column("cohort_size", sa.Integer(), nullable=False),
        sa.Column("duration_days", sa.Integer(), nullable=False),
        sa.Column("first_start", sa.Date(), nullable=True),
        sa.Column("every_days", sa.Integer(), nullable=True),
        sa.Column("max_cohorts", sa.Integer(), nullable=True),
        sa.Column(
            "prerequisites",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        *_versioned(),
        sa.CheckConstraint("cohort_size > 0 AND duration_days > 0", name=op.f("ck_courses_sizes")),
        sa.CheckConstraint(
            "every_days IS NULL OR every_days > 0", name=op.f("ck_courses_every_days")
        ),
        sa.CheckConstraint(
            "max_cohorts IS NULL OR max_cohorts >= 0", name=op.f("ck_courses_max_cohorts")
        ),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name=op.f("fk_courses_item_id_items")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courses")),
    )
    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_courses_item_id"), ["item_id"], unique=False)

    op.create_table(
        "item_needs",
        sa.Column("item_id", sa.String(length=40), nullable=False),
        sa.Column("tons", sa.Float(), nullable=False),
        sa.Column("crew", sa.Integer(), nullable=False),
        *_versioned(),
        sa.CheckConstraint("tons >= 0 AND crew >= 0", name=op.f("ck_item_needs_needs")),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_item_needs_item_id_items")
        ),
        sa.PrimaryKeyConstraint("item_id", name=op.f("pk_item_needs")),
    )


def downgrade() -> None:
    """Drop the four tables (routes before the hubs they name)."""
    op.drop_table("item_needs")
    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_courses_item_id"))
    op.drop_table("courses")
    with op.batch_alter_table("routes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_routes_origin"))
        batch_op.drop_index(batch_op.f("ix_routes_hub_id"))
    op.drop_table("routes")
    op.drop_table("hubs")
