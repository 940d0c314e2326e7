"""Crop classes: the value in a class map, the code in the source labels, name and colour.

`classes.csv` (`id,name,colour`) beside a label raster names its values; the sample
generator writes one and the block store, checkpoints and class maps carry the same list.
"""

from __future__ import annotations

import csv
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from .errors import CropsError

# Distinct, colour-blind-aware defaults for classes that arrive without a colour.
DEFAULT_COLOURS = (
    "#e6ab02",
    "#1b9e77",
    "#7570b3",
    "#d95f02",
    "#66a61e",
    "#e7298a",
    "#a6761d",
    "#1f78b4",
    "#b2df8a",
    "#fb9a99",
)


@dataclass(frozen=True)
class CropClass:
    value: int
    name: str
    colour: str
    code: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def default_colour(index: int) -> str:
    return DEFAULT_COLOURS[index % len(DEFAULT_COLOURS)]


def read_classes_csv(path: str | os.PathLike[str]) -> list[CropClass]:
    """Read `id,name,colour` rows; colour optional; raises CropsError naming the bad row."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as exc:
        raise CropsError(f"Cannot read class list {path}: {exc}") from None
    classes = []
    for i, row in enumerate(rows):
        try:
            value = int(row["id"])
            name = row["name"].strip()
        except (KeyError, TypeError, ValueError):
            raise CropsError(f"{path}, row {i + 2}: expected columns id,name[,colour] with an integer id.") from None
        colour = (row.get("colour") or row.get("color") or "").strip() or default_colour(i)
        classes.append(CropClass(value, name, colour, value))
    return classes


def write_classes_csv(path: str | os.PathLike[str], classes: list[CropClass]) -> None:
    with Path(path).open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "name", "colour"])
        for c in classes:
            writer.writerow([c.value, c.name, c.colour])


def classes_from_dicts(items: list[dict]) -> list[CropClass]:
    return [CropClass(int(d["value"]), str(d["name"]), str(d["colour"]), d.get("code")) for d in items]
