"""Index pledges by status: ``GET /pledges?status=shipped`` and the tracking views use it.

Coordinators follow pledges by how far they have got (pledged, allocated, shipped, delivered,
operational); without the index each such list reads every pledge.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 13:11:48.544498
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ix_pledges_status."""
    with op.batch_alter_table("pledges", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pledges_status"), ["status"], unique=False)


def downgrade() -> None:
    """Drop ix_pledges_status."""
    with op.batch_alter_table("pledges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pledges_status"))
