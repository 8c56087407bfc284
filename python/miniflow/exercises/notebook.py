"""The exercise notebook: a stub per stage, each followed by the cell that checks it.

Written as nbformat 4 JSON by hand (the format is plain JSON; nbformat itself is only a test
dependency). Each code cell's metadata names its stage and role (``{"miniflow": {"stage":
"sigmoid-backward", "cell": "stub"}}``), so a teacher's tools (and our tests) can find them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .._files import replace_file
from .stages import STAGES

NOTEBOOK_NAME = "miniflow-exercises.ipynb"

INTRODUCTION = """# Backpropagation, one piece at a time

Write each piece of MiniFlow in the cell under its heading (replace `raise NotImplementedError`),
then run the check after it. A check runs your code on generated inputs against MiniFlow's own
op and tells you what is wrong, with a hint, never the answer. Every piece is checked alone:
a backward is differenced against your own forward, so write them in this order."""

SETUP = """import numpy as np
from miniflow import Input, Node
from miniflow.exercises import check"""

TRAINING = """Nothing new to write: the check trains the lesson's network with your `Linear`,
`Sigmoid`, `MSE`, `topological_sort` and `sgd_update`, and compares its losses with MiniFlow's."""


def exercise_notebook() -> dict[str, Any]:
    """The notebook, as nbformat 4 JSON."""
    cells = [_markdown("intro", INTRODUCTION), _code("setup", SETUP, {})]
    for number, stage in enumerate(STAGES, 1):
        cells.append(_markdown(f"{stage.name}-text", f"## {number}. {stage.title}"))
        if stage.stub:
            cells.append(
                _code(f"{stage.name}-stub", stage.stub.rstrip(), _role(stage.name, "stub"))
            )
        else:
            cells.append(_markdown(f"{stage.name}-about", TRAINING))
        source = f'check("{stage.name}", {stage.argument})'
        cells.append(_code(f"{stage.name}-check", source, _role(stage.name, "check")))
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def write_notebook(folder: str | Path) -> Path:
    """Write ``miniflow-exercises.ipynb`` into `folder` (which must exist), atomically, and
    return its path."""
    path = Path(folder) / NOTEBOOK_NAME
    text = json.dumps(exercise_notebook(), indent=1, ensure_ascii=False) + "\n"
    with replace_file(path) as file:
        file.write(text.encode("utf-8"))
    return path


def _role(stage: str, cell: str) -> dict[str, Any]:
    return {"miniflow": {"stage": stage, "cell": cell}}


def _lines(text: str) -> list[str]:
    lines = text.split("\n")
    return [line + "\n" for line in lines[:-1]] + [lines[-1]]


def _markdown(cell_id: str, text: str) -> dict[str, Any]:
    return {"cell_type": "markdown", "id": cell_id, "metadata": {}, "source": _lines(text)}


def _code(cell_id: str, text: str, metadata: dict[str, Any]) -> dict[str, Any]:
    return {
        "cell_type": "code",
        "execution_count": None,
        "id": cell_id,
        "metadata": metadata,
        "outputs": [],
        "source": _lines(text),
    }
