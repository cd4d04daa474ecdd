"""Error classes that decide what happens to a message or an item.

`Retryable`: the same input may succeed later (a timeout, a 429, a restarting dependency).
`Permanent`: it never will (bad input, a template that breaks the sandbox); retrying wastes work.
Anything else is treated as retryable, bounded by the attempt and delivery limits.
"""


class ConveyorError(Exception):
    pass


class Retryable(ConveyorError):
    pass


class Permanent(ConveyorError):
    pass


class ArtifactsMissing(Permanent):
    """A finalize step found items reported done whose stored output is gone."""

    def __init__(self, message: str, item_seqs: list[int]) -> None:
        super().__init__(message)
        self.item_seqs = item_seqs
