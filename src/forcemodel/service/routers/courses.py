"""Training courses (crews per system, cohorts, prerequisites): coordinators keep them."""

from forcemodel.service import logistics
from forcemodel.service.logistics_schemas import CourseIn, CourseOut, CoursePatch
from forcemodel.service.routers.reference import Reference, reference_router
from forcemodel.service.tables import Course

# One resource per router module; its five routes come from the shared factory.
router = reference_router(
    Reference(
        "courses", "courses", "course", Course, "id", (CourseIn, CourseOut, CoursePatch),
        logistics.create_course, logistics.update_course, logistics.delete_course,
        "The training courses, by id", "that no other course requires",
    )
)  # fmt: skip
