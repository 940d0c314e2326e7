"""The two exceptions a user may see: a problem with their input, or their cancel."""

from __future__ import annotations


class CropsError(Exception):
    """Bad input or an environment problem, with a message that says what to fix.

    The CLI turns it into an `error` event; the QGIS bridge into a QgsProcessingException.
    """


class Cancelled(Exception):
    """Raised at the next check after the user cancelled; partial outputs are removed."""

    def __init__(self, message: str = "Cancelled by the user.") -> None:
        super().__init__(message)
