"""The README's promises: its Python example runs, and .ci/run runs exactly the README's test command."""
import pathlib
import re
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_the_readme_python_example_runs():
    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    assert blocks, "README.md has no python example"
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})


def test_ci_runs_the_readme_test_command():
    marker = README.index("<!-- test-command -->")
    command = next(line for line in README[marker:].splitlines()[1:] if line.strip() and not line.startswith("```"))
    printed = subprocess.run(["bash", ".ci/run", "--print-command"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.strip()
    assert printed == command.strip() and "pytest" in command
