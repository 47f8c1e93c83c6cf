"""Exact amounts: carats and USD as integer hundredths, and the one formatter of decimal answers.

Every amount in a document has at most 2 decimal places, so the read side keeps
them as integer hundredths (`cents`) and computes shares with `Fraction`; only the
answer is formatted, exact where the value terminates within 4 places.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

__all__ = ["amount_text", "cents", "fraction_number", "in_units"]

_PLACES = 4
_SCALE = 10**_PLACES


def cents(text: str | Decimal) -> int:
    """An amount of the log ("160.00") as integer hundredths.

    >>> cents("160.05")
    16005
    """
    return int(Decimal(text).scaleb(2).to_integral_exact())


def in_units(hundredths: int) -> Fraction:
    """Integer hundredths as an exact number of units.

    >>> in_units(16005)
    Fraction(3201, 20)
    """
    return Fraction(hundredths, 100)


def amount_text(value: Fraction | int) -> str:
    """A decimal string: exact (at least 2 places) when it terminates within 4 places,
    otherwise rounded half-up to 4 places.

    >>> amount_text(Fraction(160))
    '160.00'
    >>> amount_text(Fraction(12345, 1000))
    '12.345'
    >>> amount_text(Fraction(160, 3))
    '53.3333'
    >>> amount_text(Fraction(-1, 8))
    '-0.125'
    """
    value = Fraction(value)
    sign = "-" if value < 0 else ""
    scaled = abs(value) * _SCALE
    exact = scaled.denominator == 1
    units = int(scaled) if exact else int(scaled + Fraction(1, 2))
    whole, part = divmod(units, _SCALE)
    digits = f"{part:0{_PLACES}d}"
    if exact:
        digits = digits.rstrip("0").ljust(2, "0")
    return f"{sign}{whole}.{digits}"


def fraction_number(value: Fraction) -> float:
    """A share between 0 and 1 as a JSON number.

    >>> fraction_number(Fraction(1, 3))
    0.3333333333333333
    """
    return float(value)
