"""Template errors: what staff see when a template does not parse, render or stay sandboxed."""

from __future__ import annotations

from engine.errors import InvalidInput, NotFound


class TemplateInvalid(InvalidInput):
    slug = "template-invalid"
    title = "Template does not parse or uses unknown variables"


class TemplateUnsafe(InvalidInput):
    slug = "template-unsafe"
    title = "Template tries to leave the sandbox"


class TemplateRenderFailed(InvalidInput):
    slug = "template-render-failed"
    title = "Template failed to render"


class TemplateOverBudget(InvalidInput):
    slug = "template-over-budget"
    title = "Template takes too long or writes too much to render"


class TemplateNotFound(NotFound):
    slug = "template-not-found"
    title = "No template for this rule, channel and locale"
