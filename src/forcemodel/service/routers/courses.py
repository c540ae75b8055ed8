"""Training courses (crews per system, cohorts, prerequisites): coordinators keep them.

No ``from __future__ import annotations``: FastAPI reads the annotations of the routes.
"""

from fastapi import APIRouter, Request, Response

from forcemodel.service import logistics, reads
from forcemodel.service.deps import (
    CHANGE,
    CREATE,
    DEFAULT_PAGE,
    DELETE,
    LIST,
    ONE,
    AfterCode,
    Anyone,
    Coordinator,
    IfMatch,
    ItemKey,
    Limit,
    Reading,
    VersionQuery,
    Writing,
    committed,
    etag,
    expected_version,
    next_page,
)
from forcemodel.service.logistics_schemas import CourseIn, CourseOut, CoursePatch
from forcemodel.service.tables import Course

router = APIRouter(tags=["courses"])


@router.get("/courses", responses=LIST)
def list_courses(
    request: Request,
    response: Response,
    _user: Anyone,
    session: Reading,
    after: AfterCode = None,
    limit: Limit = DEFAULT_PAGE,
) -> list[CourseOut]:
    """The training courses, by id, a page at a time (``Link`` names the next page)."""
    rows = reads.page(session, Course, Course.id, after, limit)
    next_page(request, response, len(rows), limit, rows[-1].id if rows else None)
    return [CourseOut.model_validate(r) for r in rows]


@router.get("/courses/{course_id}", responses=ONE)
def get_course(
    course_id: ItemKey, response: Response, _user: Anyone, session: Reading
) -> CourseOut:
    """One course; its ETag is its version."""
    row = reads.get_row(session, Course, course_id, "course")
    etag(response, row.version)
    return CourseOut.model_validate(row)


@router.post("/courses", status_code=201, responses=CREATE)
def create_course(
    data: CourseIn, response: Response, user: Coordinator, session: Writing
) -> CourseOut:
    """Add a course (coordinators)."""
    out = CourseOut.model_validate(logistics.create_course(session, user, data))
    return committed(session, response, out)


@router.patch("/courses/{course_id}", responses=CHANGE)
def update_course(
    course_id: ItemKey,
    patch: CoursePatch,
    response: Response,
    user: Coordinator,
    session: Writing,
    if_match: IfMatch = None,
) -> CourseOut:
    """Change a course (coordinators)."""
    version = expected_version(if_match, patch.version)
    row = logistics.update_course(session, user, course_id, patch, version)
    return committed(session, response, CourseOut.model_validate(row))


@router.delete("/courses/{course_id}", status_code=204, responses=DELETE)
def delete_course(
    course_id: ItemKey,
    user: Coordinator,
    session: Writing,
    if_match: IfMatch = None,
    version: VersionQuery = None,
) -> Response:
    """Remove a course that no other course requires (coordinators)."""
    logistics.delete_course(session, user, course_id, expected_version(if_match, version))
    session.commit()
    return Response(status_code=204)
