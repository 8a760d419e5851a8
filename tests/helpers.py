"""What the mock_aws tests of the AWS layer share."""

from __future__ import annotations

import io
import zipfile


def handler_zip() -> bytes:
    """A deployment package with a trivial Python handler (``app.handler``)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", "def handler(e, c):\n    return e\n")
    return buf.getvalue()
