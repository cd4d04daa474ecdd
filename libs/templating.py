"""The Jinja environment templates render in: sandboxed, so a template cannot reach Python
internals (`{{ ''.__class__.__mro__ }}` raises SecurityError), and autoescaped, so `<` and `&`
in data stay text instead of breaking the document's XML."""

from jinja2.sandbox import ImmutableSandboxedEnvironment


def template_environment() -> ImmutableSandboxedEnvironment:
    # Immutable: a template can't mutate lists or dicts it is given either.
    return ImmutableSandboxedEnvironment(autoescape=True)
