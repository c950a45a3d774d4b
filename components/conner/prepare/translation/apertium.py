"""Offline rule-based translation with Apertium (Debian ``apertium-eng-spa``).

:data:`INTO_ENGLISH` is the one table of the language pairs into English
that Debian packages: each language's mode and the package that installs it
(``conner check`` and the engine's errors name it).

A whole batch goes through ONE ``apertium`` process. Texts are separated by
blank lines, not single newlines: in ``-f txt`` mode a single newline is
only formatting, and structural transfer reorders words across it
("la casa\\nblanca" comes back as "The white\\nhouse"), while a blank line
ends a paragraph, so every text is translated on its own. The line count of
the output is checked before anything is returned.
"""

import shutil
import subprocess
from typing import Dict, List, NamedTuple, Optional

from .engines import BaseEngine, TranslationError, check_count

# ISO 639-1 codes (what spaCy uses) to Apertium's ISO 639-3 codes.
ISO3 = {
    "ca": "cat",
    "de": "deu",
    "en": "eng",
    "es": "spa",
    "eu": "eus",
    "fr": "fra",
    "gl": "glg",
    "it": "ita",
    "nl": "nld",
    "oc": "oci",
    "pt": "por",
    "ro": "ron",
}
SEPARATOR = "\n\n"


class ApertiumPair(NamedTuple):
    """A translation direction as ``apertium -l`` lists it, and its Debian package."""

    mode: str
    package: str


# spaCy's language code -> the pair into English. The modes were checked
# against `apertium -l` (installed pairs) and the packages' file lists.
# Debian names packages by both codes, in either order and either length.
INTO_ENGLISH: Dict[str, ApertiumPair] = {
    "es": ApertiumPair("spa-eng", "apertium-eng-spa"),
    "ca": ApertiumPair("cat-eng", "apertium-eng-cat"),
    "gl": ApertiumPair("gl-en", "apertium-en-gl"),
    "eu": ApertiumPair("eu-en", "apertium-eu-en"),
    # Serbo-Croatian: one pair for Croatian, Serbian and Bosnian.
    "hr": ApertiumPair("hbs-eng", "apertium-hbs-eng"),
    "sr": ApertiumPair("hbs-eng", "apertium-hbs-eng"),
    "bs": ApertiumPair("hbs-eng", "apertium-hbs-eng"),
    "is": ApertiumPair("isl-eng", "apertium-isl-eng"),
    "mk": ApertiumPair("mkd-eng", "apertium-mkd-eng"),
    "eo": ApertiumPair("eo-en", "apertium-eo-en"),
}
ENGLISH = ("en", "eng")


def apertium_pair(src_lang: str) -> Optional[ApertiumPair]:
    """The pair that translates ``src_lang`` into English, None if Debian has none."""
    return INTO_ENGLISH.get(src_lang)


def default_mode(src_lang: str, tgt_lang: str) -> str:
    """The table's mode into English, else ``src-tgt`` in Apertium's codes."""
    pair = apertium_pair(src_lang) if tgt_lang in ENGLISH else None
    return pair.mode if pair else f"{ISO3.get(src_lang, src_lang)}-{ISO3.get(tgt_lang, tgt_lang)}"


def debian_package(mode: str) -> str:
    """The package that installs ``mode``: the table's, else Debian's usual name."""
    base = mode.split("_")[0]  # spa-eng_US is a variant of spa-eng
    for pair in INTO_ENGLISH.values():
        if pair.mode == base:
            return pair.package
    return "apertium-" + "-".join(sorted(base.split("-")))


def missing_mode_message(
    mode: str, modes: List[str], src_lang: str, tgt_lang: str, explicit: bool
) -> str:
    """One line: the direction is not installed, and what to install (or use) instead."""
    if not explicit and tgt_lang in ENGLISH and apertium_pair(src_lang) is None:
        return (
            f"no apertium pair translates {src_lang!r} into English (Debian packages one for "
            f"{', '.join(sorted(INTO_ENGLISH))}); installed: {modes}; pick another engine "
            "(opus-mt, google, stored) or pass --option mode=... for a pair built from source"
        )
    return (
        f"Apertium has no direction {mode!r} installed; available: {modes}; "
        f"on Debian/Ubuntu run `apt-get install {debian_package(mode)}`."
    )


def list_modes(binary: str = "apertium") -> List[str]:
    """The translation directions installed for ``binary`` (``apertium -l``)."""
    result = subprocess.run([binary, "-l"], capture_output=True, text=True, check=True)
    return [line.strip() for line in result.stdout.splitlines() if line.strip()]


class ApertiumEngine(BaseEngine):
    """Translate with the ``apertium`` command line tool.

    src_lang, tgt_lang: ISO 639-1 (``es``) or Apertium (``spa``) codes.
    mode: an explicit direction such as ``spa-eng_US``; default src-tgt.
    binary: the apertium executable.
    timeout: seconds one batch may take.
    """

    name = "apertium"

    def __init__(
        self,
        src_lang: str,
        tgt_lang: str,
        mode: Optional[str] = None,
        binary: str = "apertium",
        timeout: float = 3600.0,
    ) -> None:
        explicit = mode is not None
        mode = mode or default_mode(src_lang, tgt_lang)
        path = shutil.which(binary)
        if path is None:
            raise TranslationError(
                f"Apertium binary {binary!r} not found; on Debian/Ubuntu run "
                f"`apt-get install apertium {debian_package(mode)}`."
            )
        modes = list_modes(path)
        if mode not in modes:
            raise TranslationError(missing_mode_message(mode, modes, src_lang, tgt_lang, explicit))
        super().__init__(src_lang, tgt_lang, model=f"apertium/{mode}")
        self.binary = path
        self.mode = mode
        self.timeout = timeout

    def _translate(self, lines: List[str]) -> List[str]:
        # -u: no '*' marks on unknown words (names stay as they are).
        result = subprocess.run(
            [self.binary, "-u", "-f", "txt", self.mode],
            input=SEPARATOR.join(lines) + "\n",
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=self.timeout,
        )
        if result.returncode != 0:
            raise TranslationError(
                f"apertium {self.mode} failed (exit {result.returncode}): "
                f"{result.stderr.strip()[:500]}"
            )
        output = result.stdout.strip("\n")
        translations = output.split(SEPARATOR) if output else []
        check_count(self.name, len(lines), len(translations))
        return [t.strip() for t in translations]
