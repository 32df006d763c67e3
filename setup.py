"""Build hook: ship the top-level charts, rules and examples as package data.

The top-level folders stay the source of truth; a wheel gets a copy of them under
``stepchart/data`` so an installed engine finds them from any working directory. Each
copy's editor modeline (``# yaml-language-server: $schema=...``) is rewritten to point
at the same schema in the installed package, so it names a file that exists there.
"""

import os
import re
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
PACKAGE = HERE / "src" / "stepchart"
SHIPPED = {"statecharts": "statecharts", "rules": "rules", "examples": "examples"}
MODELINE = re.compile(r"^(# yaml-language-server: \$schema=)(\S+)(\s*)$")


def retarget_modeline(copy: Path, original: Path, package: Path) -> None:
    """Point ``copy``'s modeline at the installed schema that ``original``'s names in the source tree."""
    text = copy.read_text("utf-8")
    first, sep, rest = text.partition("\n")
    m = MODELINE.match(first)
    if not m:
        return
    target = (original.parent / m.group(2)).resolve()
    try:
        inside = target.relative_to(PACKAGE)
    except ValueError:  # a schema outside the package (a URL, another tree): leave it as written
        return
    new = os.path.relpath(package / inside, copy.parent).replace(os.sep, "/")
    copy.write_text(f"{m.group(1)}{new}{m.group(3)}{sep}{rest}", "utf-8")


class BuildWithData(build_py):
    def run(self) -> None:
        super().run()
        package = Path(self.build_lib) / "stepchart"
        for source, target in SHIPPED.items():
            src = HERE / source
            dst = package / "data" / target
            if dst.exists():
                shutil.rmtree(dst)
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"))
            for copy in sorted(dst.rglob("*.y*ml")):
                retarget_modeline(copy, src / copy.relative_to(dst), package)


setup(cmdclass={"build_py": BuildWithData})
