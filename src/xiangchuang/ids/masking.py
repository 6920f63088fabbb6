"""Masking of personal identifiers for display and logs.

Every function is total: it accepts any string (or any object, converted with ``str``) and never
raises. When the input is too short to keep some characters while hiding most of it, everything is
masked.
"""

from __future__ import annotations

__all__ = ["mask_bank_card", "mask_name", "mask_name_middle", "mask_phone", "mask_resident_id", "mask_uscc"]

_MASK = "*"
_SEPARATORS = " \t\r\n\u3000-"


def _text(value: object) -> str:
    try:
        text = value if isinstance(value, str) else str(value)
    except Exception:
        return ""
    return text.strip()


def _compact(value: object) -> str:
    text = _text(value)
    return "".join(ch for ch in text if ch not in _SEPARATORS)


def _keep_ends(text: str, head: int, tail: int, min_length: int) -> str:
    if len(text) < min_length:
        return _MASK * len(text)
    return text[:head] + _MASK * (len(text) - head - tail) + text[len(text) - tail :]


def mask_resident_id(text: str) -> str:
    """``500101199001011234`` → ``5001**********1234`` (first 4 and last 4 kept)."""
    return _keep_ends(_compact(text), 4, 4, 15)


def mask_phone(text: str) -> str:
    """``13800138000`` → ``138****8000``; ``+8613800138000`` → ``+86138****8000``."""
    compact = _compact(text)
    prefix = ""
    if compact.startswith("+86"):
        prefix, compact = "+86", compact[3:]
    elif compact.startswith("+"):
        prefix, compact = "+", compact[1:]
    return prefix + _keep_ends(compact, 3, 4, 11)


def mask_bank_card(text: str) -> str:
    """Keep only the last 4 digits: ``6222021234567890123`` → ``**** **** **** 0123``.

    The masked form does not reveal the card's length.
    """
    compact = _compact(text)
    if len(compact) < 12:
        return _MASK * len(compact)
    return f"**** **** **** {compact[-4:]}"


def mask_name(text: str) -> str:
    """Keep the first character: ``张三`` → ``张*``, ``欧阳娜娜`` → ``欧***``, ``李`` → ``*``."""
    name = _text(text)
    if len(name) <= 1:
        return _MASK * len(name)
    return name[0] + _MASK * (len(name) - 1)


def mask_uscc(text: str) -> str:
    """Unified social credit code: first 6 and last 4 kept, ``915001**********1234``-style."""
    return _keep_ends(_compact(text), 6, 4, 15)


def mask_name_middle(text: str) -> str:
    """Publicity-list style, first and last character kept: ``张三明`` → ``张*明``, ``欧阳娜娜`` →
    ``欧**娜``; two characters keep the first (``张三`` → ``张*``), one is fully masked."""
    name = _text(text)
    if len(name) <= 2:
        return mask_name(name)
    return name[0] + _MASK * (len(name) - 2) + name[-1]
