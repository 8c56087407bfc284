"""What a check tells the learner: one ``Outcome`` per check, gathered in a ``Result``."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Outcome:
    """One check of a stage.

    Attributes:
        check: the check's short id (``"forward"``, ``"consumers"``), stable for graders.
        title: what it checks, as the learner reads it.
        passed: True or False; None when it did not run (an earlier check failed).
        hint: what to look at, without the answer ("" when it passed).
        detail: the one failing entry, with its expected value ("" when it passed).
    """

    check: str
    title: str
    passed: bool | None
    hint: str = ""
    detail: str = ""


@dataclass
class Result:
    """The result of ``miniflow.exercises.check(stage, learner_code)``.

    ``passed`` is True when every check passed; ``hints`` are the hints of the failed checks;
    ``str(result)`` is the report the learner reads.
    """

    stage: str
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Whether every check passed."""
        return all(o.passed is True for o in self.outcomes)

    @property
    def hints(self) -> list[str]:
        """The hint of each failed check, in the order they ran."""
        return [o.hint for o in self.outcomes if o.passed is False]

    @property
    def score(self) -> int:
        """The number of checks that passed."""
        return sum(o.passed is True for o in self.outcomes)

    @property
    def max_score(self) -> int:
        """The number of checks."""
        return len(self.outcomes)

    def grade(self, points: float = 1.0) -> float:
        """`points` times the share of checks passed: the last line of an nbgrader grade cell
        (nbgrader reads a number there as partial credit)."""
        return points * self.score / self.max_score if self.max_score else 0.0

    def tests(self) -> list[dict[str, Any]]:
        """One entry per check in the results format of Gradescope's autograders, which
        otter-grader writes too: ``name``, ``score``, ``max_score``, ``output``."""
        return [
            {
                "name": f"{self.stage}: {o.title}",
                "score": 1.0 if o.passed else 0.0,
                "max_score": 1.0,
                "output": "\n".join(filter(None, [o.hint, o.detail]))
                or ("passed" if o.passed else "not run: an earlier check failed"),
            }
            for o in self.outcomes
        ]

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        verdict = "every check passes" if self.passed else f"{self.score} of {self.max_score} pass"
        lines = [f"{self.stage}: {verdict}"]
        for o in self.outcomes:
            mark = {True: "ok  ", False: "FAIL", None: "--  "}[o.passed]
            lines.append(f"  {mark}  {o.title}")
            if o.passed is False:
                lines.append(f"        hint: {o.hint}")
                if o.detail:
                    lines.append(f"        {o.detail}")
        if any(o.passed is None for o in self.outcomes):
            lines.append("  (--: not run until the checks above pass)")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(str(self))}</pre>"
