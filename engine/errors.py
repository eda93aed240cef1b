"""Domain errors raised by the engine.

Every error names what was wrong (the order, location, SKU or rule) and why, so that the
caller can show it to a person without a traceback.
"""


class EngineError(Exception):
    """Base class of all engine domain errors."""


class LedgerError(EngineError):
    """An inventory operation was invalid: unknown location or SKU, bad quantity, no ATS."""


class InvalidTransition(EngineError):
    """An order lifecycle transition or edit that is not allowed from the current status."""


class RoutingError(EngineError):
    """A routing request could not be evaluated (unknown policy, bad order)."""


class RuleError(EngineError):
    """A routing rule file or rule definition is invalid; the message names the rule."""
