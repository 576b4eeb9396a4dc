"""Command-line flags from a dataclass: each field declares its flag once (help, how a value is
read, whether it repeats); the default shown in the help is the field's own, never a copy."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Flag:
    """How one field is set from the command line."""

    help: str
    parse: Callable[[str], Any] | None = None  # one value -> the field's; default: the type
    repeatable: bool = False  # a tuple: the flag may repeat, each value one item
    metavar: str | None = None
    name: str | None = None  # default: --the-field-name
    several: bool = False  # a tuple: one flag takes one or more values (nargs="+")
    choices: tuple[Any, ...] | None = None  # the values allowed (each as parse reads it)


def option(default: T, help: str, **flag: Any) -> T:
    """A dataclass field with ``default`` and its :class:`Flag` (keyword arguments of Flag)."""
    return dataclasses.field(default=default, metadata={"flag": Flag(help, **flag)})


def flag_of(field: dataclasses.Field[Any]) -> Flag | None:
    found: Flag | None = field.metadata.get("flag")
    return found


def default_of(field: dataclasses.Field[Any]) -> Any:
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    raise TypeError(f"{field.name} has no default: a flag needs one")


def show(value: Any) -> str:
    """A default as the help shows it."""
    if value is None:
        return "(none)"
    if isinstance(value, tuple | list):
        items = ["=".join(map(str, v)) if isinstance(v, tuple) else str(v) for v in value]
        return ", ".join(items) if items else "(none)"
    return str(value)


def add_flags(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    cls: type[Any],
    *,
    unset: bool = False,
    note: Callable[[dataclasses.Field[Any]], str] = lambda _field: "",
) -> None:
    """One option per field of ``cls`` that has a :class:`Flag`. ``unset``: options not given
    stay ``None`` (for a caller that applies another layer, e.g. the environment or a preset,
    below them); ``note(field)`` goes in the help's brackets before the default. A field whose
    default is ``False`` and whose flag has no ``parse`` is a switch: the flag takes no value and
    sets it to ``True``."""
    for field in dataclasses.fields(cls):
        flag = flag_of(field)
        if flag is None:
            continue
        default = default_of(field)
        name = flag.name or "--" + field.name.replace("_", "-")
        if flag.repeatable and flag.several:
            raise TypeError(f"{field.name}: a flag is repeatable or takes several values, not both")
        if isinstance(default, bool) and flag.parse is None:
            if default:
                raise TypeError(f"{field.name}: a switch is off by default")
            parser.add_argument(
                name,
                dest=field.name,
                action="store_true",
                default=None if unset else default,
                help=f"{flag.help} [{note(field)}default: off]",
            )
            continue
        items = default[0] if isinstance(default, tuple) and default else default
        parse = flag.parse or _parser_for(items)
        parser.add_argument(
            name,
            dest=field.name,
            type=_argparse_type(parse),
            action="append" if flag.repeatable else "store",
            nargs="+" if flag.several else None,
            choices=flag.choices,
            default=None if unset or flag.repeatable else default,
            metavar=flag.metavar,
            help=f"{flag.help} [{note(field)}default: {show(default)}]"
            + (" (repeatable)" if flag.repeatable else ""),
        )


def from_args(cls: type[T], args: argparse.Namespace, *, base: T | None = None, **extra: Any) -> T:
    """An instance of ``cls`` from the options :func:`add_flags` added (those left ``None`` keep
    the field's default, or ``base``'s value), and ``extra`` fields."""
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    values: dict[str, Any] = {}
    if base is not None:
        values = {field.name: getattr(base, field.name) for field in fields if field.init}
    for field in fields:
        flag = flag_of(field)
        given = getattr(args, field.name, None) if flag is not None else None
        if given is not None:
            several = flag is not None and (flag.repeatable or flag.several)
            values[field.name] = tuple(given) if several else given
    return cls(**{**values, **extra})


_KINDS: tuple[Callable[[str], Any], ...] = (int, float, Path, str)


def _parser_for(default: Any) -> Callable[[str], Any]:
    if isinstance(default, bool):
        raise TypeError("a boolean flag needs its own parse")
    for kind in (int, float, Path):
        if isinstance(default, kind):
            return kind
    return str


def _argparse_type(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    if parse in _KINDS:  # argparse's own message: "invalid int value: 'x'"
        return parse

    def convert(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err)) from None

    convert.__name__ = getattr(parse, "__name__", "value").strip("_")
    return convert
