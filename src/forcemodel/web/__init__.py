"""The web application: the assistance coordination board and the planning dashboard.

Server-rendered pages (Jinja2, autoescaped) mounted under ``/ui`` in the application that
``forcemodel serve`` starts (:func:`forcemodel.web.app.mount`); see docs/web.md.
"""
