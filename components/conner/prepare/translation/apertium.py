"""Offline rule-based translation with Apertium (Debian ``apertium-eng-spa``).

A whole batch goes through ONE ``apertium`` process. Texts are separated by
blank lines, not single newlines: in ``-f txt`` mode a single newline is
only formatting, and structural transfer reorders words across it
("la casa\\nblanca" comes back as "The white\\nhouse"), while a blank line
ends a paragraph, so every text is translated on its own. The line count of
the output is checked before anything is returned.
"""
import shutil
import subprocess
from typing import List, Optional

from .engines import BaseEngine, TranslationError, check_count

# ISO 639-1 codes (what spaCy uses) to Apertium's ISO 639-3 codes.
ISO3 = {
    "ca": "cat", "de": "deu", "en": "eng", "es": "spa", "eu": "eus", "fr": "fra",
    "gl": "glg", "it": "ita", "nl": "nld", "oc": "oci", "pt": "por", "ro": "ron",
}
SEPARATOR = "\n\n"


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
        path = shutil.which(binary)
        if path is None:
            raise TranslationError(
                f"Apertium binary {binary!r} not found; on Debian/Ubuntu run "
                "`apt-get install apertium apertium-eng-spa`."
            )
        mode = mode or f"{ISO3.get(src_lang, src_lang)}-{ISO3.get(tgt_lang, tgt_lang)}"
        modes = list_modes(path)
        if mode not in modes:
            # Debian names a pair's package by its two codes in sorted order.
            package = "apertium-" + "-".join(sorted(mode.split("_")[0].split("-")))
            raise TranslationError(
                f"Apertium has no direction {mode!r} installed; available: {modes}; "
                f"on Debian/Ubuntu run `apt-get install {package}`."
            )
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
