"""Office files (zip containers) that are equal byte for byte when their inputs are equal."""
from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

#: members that are compressed already (Word's pictures)
COMPRESSED = (".png", ".jpeg", ".jpg")


def reproducible_zip(path: Path, stamp: dt.datetime, replace: dict[str, bytes] | None = None) -> None:
    """Rewrite the Office file ``path`` with every member dated ``stamp`` (and the members of
    ``replace`` swapped in), so that equal inputs give equal bytes."""
    with zipfile.ZipFile(path) as source:
        members = [(info.filename, (replace or {}).get(info.filename) or source.read(info))
                   for info in source.infolist()]
    date_time = (max(stamp.year, 1980), stamp.month, stamp.day, 0, 0, 0)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time)
            # pictures are compressed already: stored as they are (deflating them again only took time)
            info.compress_type = zipfile.ZIP_STORED if name.endswith(COMPRESSED) else zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            target.writestr(info, data)
