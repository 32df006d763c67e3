"""Build hook: ship the top-level charts, rules and examples as package data.

The top-level folders stay the source of truth; a wheel gets a copy of them under
``stepchart/data`` so an installed engine finds them from any working directory.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
SHIPPED = {"statecharts": "statecharts", "rules": "rules", "examples": "examples"}


class BuildWithData(build_py):
    def run(self) -> None:
        super().run()
        for source, target in SHIPPED.items():
            src = HERE / source
            dst = Path(self.build_lib) / "stepchart" / "data" / target
            if dst.exists():
                shutil.rmtree(dst)
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"))


setup(cmdclass={"build_py": BuildWithData})
