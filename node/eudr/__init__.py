"""EUDR (Regulation (EU) 2023/1115): plot rules, lot checks and DDS exports.

Submodules: :mod:`.geometry` (plot rules, shapely/pyproj), :mod:`.lot` (lot checks,
page facts), :mod:`.dds` (statement export), :mod:`.files` (atomic writing, light),
:mod:`.service` (:class:`~.service.EudrService`). Import the submodule you need: this
package stays import-light so the SDK can use :mod:`.files` without shapely.
See docs/eudr.md.
"""

from .errors import EudrError, EudrInputError, ExportTooLargeError, ExportWriteError

__all__ = ["EudrError", "EudrInputError", "ExportTooLargeError", "ExportWriteError"]
