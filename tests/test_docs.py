"""The docs run: every Python example in the README and the tutorial is executed and what it
prints is compared with the output the docs show, and every docstring example runs as a doctest.

How a document's fenced blocks are read (by the fence's language):

- ``python``: an example. It runs on its own, in a fresh namespace (as a reader would paste it)
  and a temporary working directory (so a ``.save("x.svg")`` lands there). What it prints must
  equal its output block, or be nothing when it has none, and it must write nothing to stderr.
- ``text``, ``output``, ``mermaid`` or no language: output. The first output block after an
  example, before the next block of code, is that example's output. A ``text``, ``output`` or
  ``mermaid`` block that follows no example is an excerpt: each of its runs of lines must appear
  in what some example of these docs printed. A block with no language that follows no example
  is a plain listing (a directory tree), not checked.
- ``console``, ``bash``, ``sh``, ``shell``: shell commands (and their output), not run here.
- any other language fails ``test_every_block_has_a_role`` until it is given a role above.

Comparing: trailing spaces and blank lines at either end are ignored, and a line that is only
``...`` in the docs stands for any number of printed lines (an elision).
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import doctest
import importlib
import io
import pathlib
import pkgutil
import re

import pytest

import miniflow

ROOT = pathlib.Path(__file__).parent.parent
DOCUMENTS = ("README.md", "docs/tutorial.md")

EXAMPLE = {"python"}
OUTPUT = {"text", "output", "mermaid", ""}
SHELL = {"console", "bash", "sh", "shell"}
ELISION = "..."

FENCE = re.compile(r"^(\s*)(```+)\s*([\w+-]*)")  # indented too, as in a list item


@dataclasses.dataclass
class Block:
    document: str
    line: int  # of the opening fence, from 1
    language: str
    text: str

    @property
    def where(self) -> str:
        return f"{self.document}:{self.line}"


@dataclasses.dataclass
class Example:
    code: Block
    output: Block | None


def read_blocks(document: str) -> list[Block]:
    """The fenced code blocks of a Markdown file, in order."""
    blocks: list[Block] = []
    lines = (ROOT / document).read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        indent, fence, language = opening.groups()
        end = index + 1
        while end < len(lines) and not lines[end].strip().startswith(fence):
            end += 1
        assert end < len(lines), f"{document}:{index + 1}: the code block is never closed"
        text = "\n".join(line[len(indent) :] for line in lines[index + 1 : end])
        blocks.append(Block(document, index + 1, language.lower(), text))
        index = end + 1
    return blocks


def pair_examples(blocks: list[Block]) -> tuple[list[Example], list[Block]]:
    """Each example with its output block, and the output blocks that follow no example."""
    examples: list[Example] = []
    excerpts: list[Block] = []
    waiting: Example | None = None  # an example whose output block may still come
    for block in blocks:
        if block.language in OUTPUT:
            if waiting is not None:
                waiting.output, waiting = block, None
            elif block.language:
                excerpts.append(block)
        elif block.language in EXAMPLE:
            waiting = Example(block, None)
            examples.append(waiting)
        else:
            waiting = None
    return examples, excerpts


ALL_BLOCKS = [block for document in DOCUMENTS for block in read_blocks(document)]
EXAMPLES, EXCERPTS = pair_examples(ALL_BLOCKS)


def normalise(text: str) -> list[str]:
    return [line.rstrip() for line in text.strip("\n").splitlines()]


def matches(shown: str, printed: str) -> bool:
    """Whether the printed text is what the docs show, ``...`` lines standing for any lines."""
    pattern = "".join(
        r"(?:.*\n)*" if line == ELISION else re.escape(line) + r"\n" for line in normalise(shown)
    )
    return re.fullmatch(pattern, "".join(line + "\n" for line in normalise(printed))) is not None


def run(example: Example) -> str:
    """Run an example on its own; return what it printed."""
    code = compile(example.code.text, example.code.where, "exec")
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        exec(code, {"__name__": "__main__"})
    assert stderr.getvalue() == "", f"{example.code.where} wrote to stderr:\n{stderr.getvalue()}"
    return stdout.getvalue()


def difference(shown: str, printed: str) -> str:
    return "\n".join(
        difflib.unified_diff(normalise(shown), normalise(printed), "docs", "printed", lineterm="")
    )


@pytest.fixture(scope="module")
def printed_by_examples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """What every example printed, by where it is (for the excerpts)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path_factory.mktemp("examples"))
        return {example.code.where: run(example) for example in EXAMPLES}


def test_every_block_has_a_role() -> None:
    unknown = [
        f"{block.where}: ```{block.language}"
        for block in ALL_BLOCKS
        if block.language not in EXAMPLE | OUTPUT | SHELL
    ]
    listing = "\n".join(unknown)
    assert not unknown, f"blocks in a language with no role here (see the docstring):\n{listing}"


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_document_has_examples_with_output(document: str) -> None:
    assert any(e.code.document == document and e.output is not None for e in EXAMPLES)


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.code.where for e in EXAMPLES])
def test_example_prints_what_the_docs_show(
    example: Example, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    printed = run(example)
    shown = example.output.text if example.output is not None else ""
    assert matches(shown, printed), (
        f"{example.code.where} printed something else than "
        f"{example.output.where if example.output else 'nothing'} shows:\n"
        + difference(shown, printed)
    )


@pytest.mark.parametrize("excerpt", EXCERPTS, ids=[b.where for b in EXCERPTS])
def test_excerpt_was_printed_by_an_example(
    excerpt: Block, printed_by_examples: dict[str, str]
) -> None:
    outputs = ["\n" + "\n".join(normalise(text)) + "\n" for text in printed_by_examples.values()]
    runs: list[list[str]] = [[]]
    for line in normalise(excerpt.text):
        if line in ("", ELISION):
            runs.append([])
        else:
            runs[-1].append(line)
    for lines in filter(None, runs):
        text = "\n" + "\n".join(lines) + "\n"
        assert any(text in output for output in outputs), (
            f"{excerpt.where} shows lines that no example of {', '.join(DOCUMENTS)} printed:\n"
            + "\n".join(lines)
        )


def test_a_changed_number_fails() -> None:
    """The comparison is exact: one digit off, or a line missing, and it fails."""
    shown = "cost = 2.49995\n...\n[0.5]\n"
    assert matches(shown, "cost = 2.49995\n[0.5]\n")
    assert matches(shown, "cost = 2.49995  \nline\nline\n[0.5]\n\n")
    assert not matches(shown, "cost = 2.49996\n[0.5]\n")
    assert not matches(shown, "cost = 2.49995\n[0.5]\nmore\n")
    assert not matches("a\nb\n", "a\n")


def doctests() -> list[doctest.DocTest]:
    """Every docstring with examples in the installed package's modules."""
    finder = doctest.DocTestFinder()
    found = []
    for module in pkgutil.iter_modules(miniflow.__path__, "miniflow."):
        found += [t for t in finder.find(importlib.import_module(module.name)) if t.examples]
    return sorted(found, key=lambda t: t.name)


DOCTESTS = doctests()


def test_docstring_examples_are_found() -> None:
    assert {t.name for t in DOCTESTS} >= {"miniflow.datasets", "miniflow.training"}


@pytest.mark.parametrize("test", DOCTESTS, ids=[t.name for t in DOCTESTS])
def test_docstring_example(test: doctest.DocTest) -> None:
    report = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    result = runner.run(test, out=report.write)
    assert result.failed == 0, report.getvalue()
