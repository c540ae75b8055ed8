"""The service's routes, one module per resource, each an ``APIRouter`` named ``router``.

Every router takes its caller and sessions from :mod:`forcemodel.service.deps` (the one
authentication path); :func:`forcemodel.service.api.create_app` includes them in order.
"""
