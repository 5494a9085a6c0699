"""Help text in the usual Unix form, the same on a terminal and in a pipe or a log.

Typer's own help draws boxes sized for a terminal and names Python types (``{args}...``,
``<list[Path]>``, ``--help <bool>``). Every command gets ``ConventionalHelpCommand`` instead:
``Usage: stylebridge stylize [OPTIONS] [RUN_DIR] INPUT...``, ``--max-side INTEGER``.
"""

from __future__ import annotations

import typer
from typer.core import TyperCommand

# typer's type labels -> the words click and most Unix tools use
TYPE_WORDS = {
    "str": "TEXT",
    "path": "PATH",
    "file": "FILE",
    "directory": "DIR",
    "int": "INTEGER",
    "int range": "INTEGER",
    "float": "FLOAT",
    "float range": "FLOAT",
    "bool": "BOOLEAN",
}


def argument_name(param) -> str:
    """``PHOTO``, or ``INPUT...`` for an argument taking several values."""
    name = param.metavar or param.name.upper()
    return name if param.nargs == 1 or name.endswith("...") else f"{name}..."


def _argument_usage(param) -> str:
    name = argument_name(param)
    if param.required or param.metavar:  # a metavar spells out its own optional parts
        return name
    return f"[{name[:-3]}]..." if name.endswith("...") else f"[{name}]"


def option_word(param, ctx) -> str:
    """The placeholder after an option: ``TEXT``, ``PATH``, ``INTEGER``, ``[a|b]`` for choices."""
    label = param.display_type(ctx).strip("<>")
    if label.startswith("list[") and label.endswith("]"):
        label = label[5:-1].lower()
    if "|" in label:
        return f"[{label}]"
    return TYPE_WORDS.get(label, label.upper())


class ConventionalHelpCommand(TyperCommand):
    """A typer command whose usage line and argument/option list read like click's."""

    def collect_usage_pieces(self, ctx) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                pieces.append(_argument_usage(param))
        return pieces

    def format_options(self, ctx, formatter) -> None:
        arguments, options = [], []
        for param in self.get_params(ctx):
            if param.param_type_name == "option" and not param.metavar and not param.is_flag:
                param.metavar = option_word(param, ctx)
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.param_type_name == "argument":
                arguments.append((argument_name(param), record[1]))
            else:
                options.append(record)
        for title, rows in (("Arguments", arguments), ("Options", options)):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


def use_conventional_help(app: typer.Typer) -> None:
    """Plain help for ``app`` and every command and group under it (commands that chose their
    own class keep it)."""
    app.rich_markup_mode = None  # no boxes: the text wraps to the terminal, or to 80 columns
    for command in app.registered_commands:
        if command.cls in (None, TyperCommand):
            command.cls = ConventionalHelpCommand
    for group in app.registered_groups:
        if group.typer_instance is not None:
            use_conventional_help(group.typer_instance)
