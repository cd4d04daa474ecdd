"""What a DOCX render can fail with, whichever renderer ran it."""


class TemplateRejected(Exception):
    """The template (not the data) is at fault: retrying can't help."""


class Unsupported(Exception):
    """The part-level renderer cannot prove it renders this template exactly as docxtpl does;
    the template goes to docxtpl (the fallback renderer) instead."""


# What an expression inside `{{ }}` or `{% %}` raises when evaluated on a row (`{{ 1 / 0 }}`,
# `{{ name + 1 }}`, `{{ items[9] }}`): rendering is pure, so the same row fails the same way on
# every attempt, and a retry only spends time.
EXPRESSION_ERRORS = (ArithmeticError, TypeError, ValueError, LookupError, AttributeError)


def expression_error(exc: Exception) -> TemplateRejected:
    return TemplateRejected(f"template error: {type(exc).__name__}: {exc}")
