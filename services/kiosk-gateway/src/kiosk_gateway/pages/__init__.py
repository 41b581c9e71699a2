"""kiosk-gateway's pages (HTML routers, public downloads and the booth's files), one module per
area; what they share is in `base`.

Only `base` is imported here, so a logic module that renders with `template` does not pull in
the routers (which import the logic modules).
"""

from .base import STATIC, catalogs, render, template

__all__ = ["STATIC", "catalogs", "render", "template"]
