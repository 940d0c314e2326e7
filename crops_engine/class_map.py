"""The CLASS_MAP language: which label codes become which classes.

A CLASS_MAP maps label codes (raster values, or values of a polygon attribute) to classes:
`1200=maize; 1110,1120=winter cereals #d95f02; 1300-1399=other cereals; *=other; 0=ignore`.
Entries are separated by `;` or new lines. A key is an integer code, a range `lo-hi`
(inclusive), a text attribute value (matched case-insensitively), several of those separated
by commas, or `*` (every code no other entry names). The class name may end with a colour
`#rrggbb`; the name `ignore` drops those pixels. Exact keys win over ranges, ranges over `*`.

Classes get values 0..K-1 in the order they first appear (the model's output index); each
CropClass keeps its source `code` when exactly one code maps to it. Without a CLASS_MAP the
label values are the classes (0 = ignore), ordered by code and named from a `classes.csv`
beside the labels when there is one. Codes without a class map to IGNORE_INDEX (255).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from .classes import CropClass, default_colour, read_classes_csv
from .errors import CropsError
from .metrics import IGNORE_INDEX

MAX_CLASSES = 255

Code = int | str

_RANGE_RE = re.compile(r"^(-?\d+)\s*-\s*(-?\d+)$")
_VALUE_RE = re.compile(r"^(?P<name>.*?)[\s:]*(?P<colour>#[0-9a-fA-F]{6}(?:[0-9a-fA-F]{2})?)?$")


def as_code(value: object) -> Code | None:
    """An attribute or raster value as a code: int when integral, stripped text otherwise."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return None
        return int(value) if float(value).is_integer() else str(value)
    text = str(value).strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        return text


@dataclass(frozen=True)
class _Rule:
    text: str  # the entry as written, for messages
    value: int  # class value or IGNORE_INDEX


class ClassMap:
    """Codes -> class values (0..K-1, IGNORE_INDEX); built by `parse_class_map` or `class_map_from_codes`."""

    def __init__(
        self,
        classes: list[CropClass],
        rules: list[_Rule],
        exact: dict[Code, int],
        ranges: list[tuple[int, int, int]],
        default: int | None,
        text: str,
    ) -> None:
        self.classes = classes
        self.text = text
        self._rules = rules
        self._exact = exact  # key (int, or casefolded text) -> rule index
        self._ranges = ranges  # (lo, hi, rule index)
        self._default = default  # rule index of '*'
        self._cache: dict[Code | None, int] = {}
        self._tables: dict[np.dtype, np.ndarray] = {}

    def rule_of(self, code: object) -> int | None:
        """Index of the entry that decides `code`, None when no entry does."""
        c = as_code(code)
        if c is None:
            return None
        if isinstance(c, str):
            if c.casefold() in self._exact:
                return self._exact[c.casefold()]
        elif c in self._exact:
            return self._exact[c]
        if isinstance(c, int):
            for lo, hi, rule in self._ranges:
                if lo <= c <= hi:
                    return rule
        return self._default

    def value_of(self, code: object) -> int:
        """Class value of one code or attribute value; IGNORE_INDEX when nothing maps it."""
        key = as_code(code)
        if key not in self._cache:
            rule = self.rule_of(key)
            self._cache[key] = IGNORE_INDEX if rule is None else self._rules[rule].value
        return self._cache[key]

    def lookup(self, codes: np.ndarray) -> np.ndarray:
        """An array of codes -> uint8 class values (IGNORE_INDEX where no class)."""
        codes = np.asarray(codes)
        if codes.dtype in (np.uint8, np.uint16):  # the usual label rasters: one table for all values
            if codes.dtype not in self._tables:
                top = np.iinfo(codes.dtype).max
                self._tables[codes.dtype] = np.array([self.value_of(v) for v in range(top + 1)], dtype=np.uint8)
            return self._tables[codes.dtype][codes]
        uniq, inverse = np.unique(codes, return_inverse=True)
        values = np.array([self.value_of(u.item()) for u in uniq], dtype=np.uint8)
        return values[inverse].reshape(codes.shape)

    def unmatched_entries(self, codes: Iterable[object]) -> list[str]:
        """Entries (as written) that none of `codes` falls under: likely typos."""
        used = {self.rule_of(c) for c in codes}
        return [r.text for i, r in enumerate(self._rules) if i not in used]

    def __repr__(self) -> str:
        return f"ClassMap({self.text!r}, classes={[c.name for c in self.classes]})"


def parse_class_map(text: str) -> ClassMap:
    """Parse CLASS_MAP text (see the module docstring); raises CropsError naming the bad entry."""
    entries = [e.strip() for e in re.split(r"[;\n]", text or "") if e.strip()]
    if not entries:
        raise CropsError("The class map is empty; write entries like '1200=maize; *=other; 0=ignore'.")
    classes: list[CropClass] = []
    by_name: dict[str, int] = {}
    codes_of: dict[int, list[Code]] = {}
    rules: list[_Rule] = []
    exact: dict[Code, int] = {}
    ranges: list[tuple[int, int, int]] = []
    default: int | None = None
    for entry in entries:
        key_text, sep, value_text = entry.partition("=")
        if not sep or not key_text.strip() or not value_text.strip():
            raise CropsError(f"Class map entry {entry!r} is not 'code=name' (e.g. '1200=maize' or '*=other').")
        match = _VALUE_RE.match(value_text.strip())
        name = match.group("name").strip() if match else ""
        colour = match.group("colour") if match else None
        if not name:
            raise CropsError(f"Class map entry {entry!r} has no class name after '='.")
        if name.lower() == "ignore":
            value = IGNORE_INDEX
        elif name in by_name:
            value = by_name[name]
            if colour and classes[value].colour.lower() != colour.lower():
                raise CropsError(f"Class {name!r} is given two colours in the class map; give it one.")
        else:
            value = len(classes)
            if value >= MAX_CLASSES:
                raise CropsError(f"The class map names more than {MAX_CLASSES} classes; merge some.")
            by_name[name] = value
            classes.append(CropClass(value, name, colour or default_colour(value)))
        rule = len(rules)
        rules.append(_Rule(entry, value))
        for key in (k.strip() for k in key_text.split(",")):
            if not key:
                raise CropsError(f"Class map entry {entry!r} has an empty key.")
            if key == "*":
                if default is not None:
                    raise CropsError("The class map has '*' twice; keep one '*=name' entry.")
                default = rule
                if value != IGNORE_INDEX:
                    codes_of.setdefault(value, []).append(None)  # many codes: no single source code
                continue
            m = _RANGE_RE.match(key)
            if m:
                lo, hi = int(m.group(1)), int(m.group(2))
                if lo > hi:
                    raise CropsError(f"Class map range {key!r} is empty; write it low-high.")
                ranges.append((lo, hi, rule))
                if value != IGNORE_INDEX:
                    codes_of.setdefault(value, []).append(None)
                continue
            code = as_code(key)
            norm = code.casefold() if isinstance(code, str) else code
            if norm in exact:
                raise CropsError(f"Class map key {key!r} appears twice; give each code one class.")
            exact[norm] = rule
            if value != IGNORE_INDEX:
                codes_of.setdefault(value, []).append(code)
    if not classes:
        raise CropsError("The class map sends every code to 'ignore'; name at least one class (e.g. '1200=maize').")
    classes = [
        CropClass(c.value, c.name, c.colour, _single_int(codes_of.get(c.value, []))) for c in classes
    ]
    return ClassMap(classes, rules, exact, ranges, default, "; ".join(entries))


def sorted_codes(codes: Iterable[Code | None]) -> list[Code]:
    """Distinct codes, integers first (numerically), then texts."""
    return sorted({c for c in codes if c is not None}, key=lambda c: (isinstance(c, str), c))


def _single_int(codes: list[Code | None]) -> int | None:
    return codes[0] if len(codes) == 1 and isinstance(codes[0], int) else None


def class_map_from_codes(codes: Iterable[object], classes_csv: str | os.PathLike[str] | None = None) -> ClassMap:
    """The classes when no CLASS_MAP is given: label values are classes, 0 is ignore.

    With a classes.csv every row but id 0 becomes a class, in id order (so stores built on
    different areas share classes); a code in the labels that the file does not list is an
    error. Without one the codes found become classes, named `class <code>`; text attribute
    values become classes named by the text.
    """
    found = sorted_codes(c for c in (as_code(v) for v in codes) if c != 0)
    if classes_csv is not None:
        rows = sorted((c for c in read_classes_csv(classes_csv) if c.value != 0), key=lambda c: c.value)
        listed = {c.value for c in rows}
        missing = [c for c in found if c not in listed]
        if missing:
            raise CropsError(
                f"Label values {missing[:10]} are not listed in {classes_csv}; add rows for them "
                "or give a CLASS_MAP (e.g. '1200=maize; *=other; 0=ignore')."
            )
        pairs = [(c.value, c.name, c.colour) for c in rows]
    else:
        pairs = [(c, f"class {c}" if isinstance(c, int) else str(c), None) for c in found]
    if len(pairs) > MAX_CLASSES:
        raise CropsError(
            f"The labels hold {len(pairs)} classes, more than {MAX_CLASSES}; give a CLASS_MAP merging them."
        )
    if not pairs:
        raise CropsError(
            "The labels hold no class value other than 0 (ignore) in the composite's extent: check that they cover "
            "the composite (and their CRS) and that their codes are not all 0, or give a CLASS_MAP naming the codes."
        )
    classes, rules, exact = [], [], {}
    for value, (code, name, colour) in enumerate(pairs):
        classes.append(CropClass(value, name, colour or default_colour(value), code if isinstance(code, int) else None))
        exact[code.casefold() if isinstance(code, str) else code] = value
        rules.append(_Rule(f"{code}={name}", value))
    exact[0] = len(rules)
    rules.append(_Rule("0=ignore", IGNORE_INDEX))
    text = "; ".join(r.text for r in rules)
    return ClassMap(classes, rules, exact, [], None, text)
