"""A tiny terminal: what a screen of ``width`` columns shows after some output.

Enough of a VT100 for what rich's live displays write (text, CR, LF, cursor
up and down, erase line, colours and cursor visibility, which are ignored),
with auto-wrap at the last column: a line that is too long wraps, as on a
real terminal, which is how stale copies of a status line are left behind.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"\x1b\[(\??)([\d;]*)([A-Za-z])|\r|\n|\x07|\x08")


class Screen:
    def __init__(self, width: int) -> None:
        self.width = width
        self.lines: list[list[str]] = [[]]
        self.row = 0
        self.col = 0

    def feed(self, output: str) -> None:
        position = 0
        for match in _CONTROL.finditer(output):
            self._text(output[position : match.start()])
            self._control(match)
            position = match.end()
        self._text(output[position:])

    def text(self) -> list[str]:
        """The screen's lines, trailing spaces and trailing empty lines dropped."""
        lines = ["".join(line).rstrip() for line in self.lines]
        while lines and not lines[-1]:
            lines.pop()
        return lines

    def _text(self, text: str) -> None:
        for char in text:
            if self.col >= self.width:  # auto-wrap
                self._down()
                self.col = 0
            line = self.lines[self.row]
            line.extend(" " * (self.col + 1 - len(line)))
            line[self.col] = char
            self.col += 1

    def _down(self) -> None:
        self.row += 1
        if self.row == len(self.lines):
            self.lines.append([])

    def _control(self, match: re.Match[str]) -> None:
        token = match.group(0)
        if token == "\n":
            self._down()
            self.col = 0
        elif token == "\r":
            self.col = 0
        elif token == "\x08":
            self.col = max(0, self.col - 1)
        elif match.group(3) and not match.group(1):
            self._csi(match.group(2), match.group(3))

    def _csi(self, params: str, command: str) -> None:
        count = int(params) if params.isdigit() else 1
        if command == "A":
            self.row = max(0, self.row - count)
        elif command == "B":
            for _ in range(count):
                self._down()
        elif command == "K":
            line = self.lines[self.row]
            if params == "2":
                line.clear()
            elif params in ("", "0"):
                del line[self.col :]
        elif command == "G":
            self.col = count - 1
