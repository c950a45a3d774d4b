import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Scripts are plain files run by weasel; tests import their functions directly.
sys.path.insert(0, str(ROOT / "scripts"))
