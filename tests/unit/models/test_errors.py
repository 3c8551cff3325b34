"""The error names code assigns itself (scale/models/errors.py) are the rows the migrations seed:
a name without a row would be recorded as `unknown` without anyone noticing."""

from __future__ import annotations

from sqlalchemy import select

from scale.models.errors import AlgorithmErrorName, Error, ErrorCategory, SystemErrorName


def builtin_names(db, category: ErrorCategory) -> set[str]:
    return set(db.scalars(select(Error.name).where(Error.category == category, Error.is_builtin.is_(True))))


def test_every_system_error_name_is_a_seeded_system_error(db):
    seeded = {name: category for name, category in db.execute(select(Error.name, Error.category))}
    assert {member: seeded.get(member) for member in SystemErrorName} == dict.fromkeys(
        SystemErrorName, ErrorCategory.SYSTEM)


def test_the_seeded_system_errors_are_exactly_the_enum(db):
    """A fresh database holds only seeded SYSTEM errors: users create ALGORITHM and DATA ones."""
    assert set(db.scalars(select(Error.name).where(Error.category == ErrorCategory.SYSTEM))) == set(SystemErrorName)


def test_the_builtin_algorithm_errors_are_exactly_the_enum(db):
    assert builtin_names(db, ErrorCategory.ALGORITHM) == set(AlgorithmErrorName)
