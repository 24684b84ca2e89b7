"""hx.filenames: safe names from untrusted text, unique paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from hx.filenames import MAX_NAME_BYTES, safe_name, unique_path

# --- safe_name ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("a/b/c.txt", "a_b_c.txt"),
        ("a\\b.txt", "a_b.txt"),
        ("/etc/passwd", "_etc_passwd"),
        ("../../etc/passwd", "_.._etc_passwd"),
        ("..", "index"),
        (".", "index"),
        ("...", "index"),
        (" . ", "index"),
        (".hidden", "hidden"),
        ("..hidden", "hidden"),
        ("  .x", "x"),
        ("name.", "name"),
        ("name. ", "name"),
        ("a\x00b\x1fc\x7fd", "a_b_c_d"),
        ("line\nbreak\r", "line_break_"),
        ("tab\tx", "tab_x"),
        ("", "index"),
        ("café ☕.txt", "café ☕.txt"),
    ],
)
def test_safe_name(name: str, expected: str) -> None:
    assert safe_name(name) == expected


def test_custom_fallback() -> None:
    assert safe_name("..", fallback="7") == "7"
    assert safe_name("", fallback="7") == "7"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("CON", "_CON"),
        ("con", "_con"),
        ("con.txt", "_con.txt"),
        ("NUL.tar.gz", "_NUL.tar.gz"),
        ("Lpt9.log", "_Lpt9.log"),
        ("COM1", "_COM1"),
        ("aux", "_aux"),
        ("prn.", "_prn"),
        ("CONSOLE", "CONSOLE"),
        ("COM10", "COM10"),
        ("LPT0", "LPT0"),
        ("xCON", "xCON"),
        ("my.con", "my.con"),
    ],
)
def test_windows_reserved_names(name: str, expected: str) -> None:
    assert safe_name(name) == expected


def test_long_name_is_capped_keeping_the_extension() -> None:
    assert safe_name("a" * 300 + ".txt") == "a" * 196 + ".txt"


def test_name_at_the_cap_is_unchanged() -> None:
    name = "a" * (MAX_NAME_BYTES - 4) + ".txt"
    assert safe_name(name) == name
    assert safe_name("b" + name) == "b" + "a" * (MAX_NAME_BYTES - 5) + ".txt"


def test_long_name_without_extension() -> None:
    assert safe_name("a" * 300) == "a" * MAX_NAME_BYTES


def test_overlong_extension_is_not_kept() -> None:
    name = "a" * 190 + "." + "b" * 20
    assert safe_name(name) == "a" * 190 + "." + "b" * 9


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("é" * 150 + ".txt", "é" * 98 + ".txt"),
        ("x" + "é" * 150 + ".txt", "x" + "é" * 97 + ".txt"),
        ("日" * 100, "日" * 66),
        ("日" * 100 + ".txt", "日" * 65 + ".txt"),
        ("😀" * 60 + ".png", "😀" * 49 + ".png"),
    ],
    ids=["2-byte", "2-byte-odd", "3-byte", "3-byte-ext", "4-byte"],
)
def test_cap_counts_utf8_bytes_and_never_splits_a_character(name: str, expected: str) -> None:
    capped = safe_name(name)
    assert capped == expected
    assert len(capped.encode()) <= MAX_NAME_BYTES


def test_c1_control_characters_are_replaced() -> None:
    assert safe_name("a\x85b\x9bc") == "a_b_c"


# --- unique_path -------------------------------------------------------------------------


def taken(*names: str) -> set[str]:
    return {str(Path("/out") / name) for name in names}


@pytest.mark.parametrize(
    ("existing", "expected"),
    [
        ((), "f.txt"),
        (("f.txt",), "f.txt.1"),
        (("f.txt", "f.txt.1"), "f.txt.2"),
        (("f.txt.part",), "f.txt.1"),
        (("f.txt", "f.txt.1.part"), "f.txt.2"),
        (("f.txt.1",), "f.txt"),
    ],
)
def test_unique_path(existing: tuple[str, ...], expected: str) -> None:
    names = taken(*existing)
    assert unique_path(Path("/out"), "f.txt", exists=names.__contains__) == Path("/out", expected)


def test_unique_path_default_counts_dangling_symlinks(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x")
    (tmp_path / "f.1").symlink_to(tmp_path / "nowhere")
    assert unique_path(tmp_path, "f") == tmp_path / "f.2"
