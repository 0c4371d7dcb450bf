"""The one exception the rule loader raises."""

from __future__ import annotations


class RuleError(ValueError):
    """A rule or case file that cannot be loaded.

    ``str(err)`` is always ``"FILE:LINE: what is wrong; how to fix"`` so editors and CI logs can jump to
    the spot. ``errors`` holds every problem found when several files were checked in one go (the first
    one is the message of the exception itself).
    """

    def __init__(self, file: str, line: int, problem: str, fix: str, errors: tuple[RuleError, ...] = ()) -> None:
        self.file = file
        self.line = line
        self.problem = problem
        self.fix = fix
        self.errors: tuple[RuleError, ...] = errors or (self,)
        super().__init__(f"{file}:{line}: {problem}; {fix}")

    @classmethod
    def many(cls, errors: list[RuleError]) -> RuleError:
        """One exception standing for several problems (its message is the first one's)."""
        first = errors[0]
        return cls(first.file, first.line, first.problem, first.fix, tuple(errors))
