"""What a DOCX render can fail with, whichever renderer ran it."""


class TemplateRejected(Exception):
    """The template (not the data) is at fault: retrying can't help."""


class Unsupported(Exception):
    """The part-level renderer cannot prove it renders this template exactly as docxtpl does;
    the template goes to docxtpl (the fallback renderer) instead."""
