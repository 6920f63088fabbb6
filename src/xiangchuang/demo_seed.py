"""Demo records of the services (training, carriers, labour demand, outreach, windows, …).

Each service package lists one seeder here, ``"package.module:function"``; ``xiangchuang demo`` runs them
in order after the registry's synthetic data, each in its own transaction, and prints what each made. A
seeder has the signature ``(session: Session, ctx: SeedContext) -> str`` (a one-line Chinese summary),
must be idempotent (do nothing and say so when its records exist), and makes synthetic records only
(no real personal data). Organisations a demo account speaks for use the codes in
:data:`xiangchuang.users.demo_accounts.DEMO_ORG_CODES`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import Final

from sqlalchemy.orm import Session

from xiangchuang.crypto import FieldCipher


@dataclass(frozen=True)
class SeedContext:
    cipher: FieldCipher
    audit_key: bytes
    on: dt.date  # the demo's evaluation date
    district: int  # the district of the demo accounts (most demo businesses)


Seeder = Callable[[Session, SeedContext], str]

SEEDERS: Final[list[str]] = [
    "xiangchuang.training.demo:seed",
    "xiangchuang.outreach.demo:seed",
    "xiangchuang.services.demo:seed",
    "xiangchuang.community.demo:seed",
    "xiangchuang.jobs.demo:seed",
    "xiangchuang.carriers.demo:seed",
    "xiangchuang.mentors.demo:seed",
]


def seeders() -> list[tuple[str, Seeder]]:
    out = []
    for spec in SEEDERS:
        module, _, name = spec.partition(":")
        out.append((spec, getattr(import_module(module), name)))
    return out
