"""Finds AWS's cfn-lint (the Python one) for the deploy tests.

Looked for, in order: --cfn-lint PATH (tests/deploy/CMakeLists.txt passes what find_program
found), $CFN_LINT, PATH, then the places pip and pyenv put it (this machine image has it as a
pyenv shim, /root/.pyenv/shims/cfn-lint). A candidate counts only if `--version` answers like AWS's
cfn-lint ("cfn-lint 1.51.0"): the npm package of that name cannot read the template, and a pyenv
shim whose Python lacks it fails.

Under CI (environment variable CI set, and not "false" or "0") a missing cfn-lint is a failure,
not a skip.
"""
import os
import re
import shutil
import subprocess

EXPLICIT = []  # filled from --cfn-lint by the test scripts


def _candidates():
    home = os.path.expanduser("~")
    yield from EXPLICIT
    yield os.environ.get("CFN_LINT")
    yield shutil.which("cfn-lint")
    for path in ("/root/.pyenv/shims/cfn-lint", os.path.join(home, ".pyenv", "shims", "cfn-lint"),
                 os.path.join(home, ".local", "bin", "cfn-lint"), "/usr/local/bin/cfn-lint",
                 "/usr/bin/cfn-lint"):
        yield path


def find_cfn_lint():
    """The path of a working AWS cfn-lint, or None."""
    seen = set()
    for path in _candidates():
        if not path or path in seen or not (os.path.isfile(path) and os.access(path, os.X_OK)):
            continue
        seen.add(path)
        try:
            out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if out.returncode == 0 and re.match(r"cfn-lint \d+\.", out.stdout.strip()):
            return path
    return None


def required():
    """True under CI, where the linter must run."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def run(test, template_path):
    """Lints template_path inside unittest case `test`: fails on findings, skips only outside CI."""
    lint = find_cfn_lint()
    if lint is None:
        if required():
            test.fail("cfn-lint not found, and CI is set: install AWS's cfn-lint (pip install cfn-lint)")
        test.skipTest("cfn-lint not installed (pip install cfn-lint)")
    result = subprocess.run([lint, template_path], capture_output=True, text=True, timeout=300)
    test.assertEqual(result.returncode, 0, result.stdout + result.stderr)
