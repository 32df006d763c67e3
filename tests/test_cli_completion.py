"""``stepchart completion bash|zsh|fish``: scripts made from the real parser, run by a real bash.

bash is exercised for real (``source <(stepchart completion bash)``, then the completion
function with ``COMP_WORDS``); zsh and fish are not installed by CI, so their scripts are
checked for what they hold, and parsed by ``zsh -n`` / ``fish -n`` when those programs exist.
"""

from __future__ import annotations

import functools
import shlex
import shutil
import subprocess
import sys

from cli_helpers import cli

from stepchart.cli.completion import Command, command_tree

SHIM = f'stepchart() {{ "{sys.executable}" -m stepchart "$@"; }}\n'


@functools.cache
def _tree() -> Command:
    # built when a test runs, not at collection: importing stepchart.cli.main early would shadow
    # the stepchart.cli.main function other test modules import
    from stepchart.cli import build_parser

    return command_tree(build_parser())


def _commands() -> dict[str, Command]:
    return {" ".join(c.path): c for c in _tree().walk()}


def _bash_complete(*lines: str) -> list[list[str]]:
    """For each command line (the last word is being completed), what bash's completion offers."""
    body = [SHIM, "source <(stepchart completion bash)"]
    for line in lines:
        words = shlex.split(line) + ([""] if line.endswith(" ") else [])
        body.append(f"COMP_WORDS=({' '.join(shlex.quote(w) for w in words)}); COMP_CWORD={len(words) - 1}")
        body.append('_stepchart; printf "%s\\n" "${COMPREPLY[@]}" | sort; echo "--end--"')
    done = subprocess.run(["bash", "-c", "\n".join(body)], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    chunks = done.stdout.split("--end--\n")[:-1]
    return [[w for w in chunk.splitlines() if w] for chunk in chunks]


def test_bash_completes_commands_subcommands_options_and_their_values() -> None:
    got = _bash_complete(
        "stepchart ch",
        "stepchart jobs l",
        "stepchart users ",
        "stepchart jobs list --st",
        "stepchart run --gr",
        "stepchart test --format ",
        "stepchart --color never test --charts my-charts --ve",  # a value is skipped, not taken for a command
        "stepchart diagram --format p",
        "stepchart completion ",
    )
    assert got == [
        ["check"],
        ["list"],
        ["add", "list"],
        ["--step", "--store"],
        ["--group"],  # not the hidden --groups
        ["json", "text"],
        ["--verbose"],
        ["pdf", "png"],
        ["bash", "fish", "zsh"],  # the choices of a positional argument
    ]


def test_bash_completion_never_drifts_from_the_parser() -> None:
    """Every command of the parser is offered, and each offers exactly its visible options."""
    TREE, COMMANDS = _tree(), _commands()
    paths = [p for p in COMMANDS if p]
    got = _bash_complete("stepchart ", *(f"stepchart {p} -" for p in paths))
    assert got[0] == sorted(c.path[-1] for c in TREE.subcommands)
    for path, offered in zip(paths, got[1:], strict=True):
        visible = sorted(f for o in COMMANDS[path].options for f in o.flags)
        assert offered == visible, path
        assert not {"--database", "--workflows", "--groups", "--privileges", "--json"} & set(offered)
    assert "--store" in got[1 + paths.index("jobs list")] and "--format" in got[1 + paths.index("jobs list")]


def test_zsh_script_is_the_bash_function_through_bashcompinit() -> None:
    r = cli("completion", "zsh")
    assert r.code == 0
    lines = r.out.splitlines()
    assert lines[0] == "#compdef stepchart"
    assert "autoload -U +X bashcompinit && bashcompinit" in lines
    assert r.out.endswith(cli("completion", "bash").out)  # the same function, made from the same parser
    assert "setopt localoptions ksharrays" in r.out  # COMP_WORDS indexed from 0, as the function reads it
    if shutil.which("zsh"):
        done = subprocess.run(["zsh", "-n"], input=r.out, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr


def _fish_lines() -> list[list[str]]:
    r = cli("completion", "fish")
    assert r.code == 0
    if shutil.which("fish"):
        done = subprocess.run(["fish", "-n"], input=r.out, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
    lines = [line for line in r.out.splitlines() if line and not line.startswith("#")]
    parsed = [shlex.split(line.replace("\\'", "'\"'\"'")) for line in lines]
    assert all(words[:3] == ["complete", "-c", "stepchart"] for words in parsed)
    return parsed


def _flag(words: list[str], name: str) -> str | None:
    return words[words.index(name) + 1] if name in words else None


def test_fish_script_offers_every_command_under_its_parent_and_every_option_under_its_command() -> None:
    parsed = _fish_lines()
    TREE, COMMANDS = _tree(), _commands()
    commands = {(_flag(w, "-n"), _flag(w, "-a")) for w in parsed if "-f" in w and "-d" in w}
    assert ["complete", "-c", "stepchart", "-n", "__fish_seen_subcommand_from completion", "-f", "-a",
            "bash zsh fish"] in parsed  # fmt: skip
    assert {a for n, a in commands if n == "__fish_use_subcommand"} == {c.path[-1] for c in TREE.subcommands}
    jobs = {a for n, a in commands if n and n.startswith("__fish_seen_subcommand_from jobs; and not")}
    assert jobs == {c.path[-1] for c in COMMANDS["jobs"].subcommands}
    test_format = [w for w in parsed if _flag(w, "-n") == "__fish_seen_subcommand_from test" and "format" in w]
    assert len(test_format) == 1 and _flag(test_format[0], "-a") == "text json" and "-x" in test_format[0]
    longs = {(_flag(w, "-n"), _flag(w, "-l")) for w in parsed if "-l" in w}
    for path, command in COMMANDS.items():
        if not path:
            continue
        seen = "; and ".join(f"__fish_seen_subcommand_from {p}" for p in command.path)
        want = {f[2:] for o in command.options for f in o.flags if f.startswith("--")}
        assert {flag for n, flag in longs if n == seen} == want, path


def test_an_unknown_shell_is_a_usage_error() -> None:
    r = cli("completion", "powershell")
    assert r.code == 2 and "invalid choice: 'powershell'" in r.err
