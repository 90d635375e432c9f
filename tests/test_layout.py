"""The repository's layering (issue 37): the package, the benchmarks and the scripts never
reach into the tests (nor put a folder on `sys.path` to do so), and the package never imports
the benchmarks or the scripts."""

import ast
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEST_MODULES = {
    name[:-3] for name in os.listdir(os.path.join(ROOT, "tests")) if name.endswith(".py")
} | {"tests"}


def _sources(folder):
    for base, _, files in os.walk(os.path.join(ROOT, folder)):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(base, name)
                with open(path) as f:
                    yield os.path.relpath(path, ROOT), ast.parse(f.read())


def _imported(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module.split(".")[0]


def _sys_path_edits(tree):
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and ast.unparse(node.func.value) == "sys.path"
    ]


@pytest.mark.parametrize("folder", ["ganpaint", "benchmarks", "scripts"])
def test_nothing_outside_the_tests_imports_them_or_edits_sys_path(folder):
    for path, tree in _sources(folder):
        reached = sorted(set(_imported(tree)) & TEST_MODULES)
        assert not reached, f"{path} imports test modules {reached}"
        assert not _sys_path_edits(tree), f"{path} edits sys.path"


def test_the_package_imports_neither_the_benchmarks_nor_the_scripts():
    for path, tree in _sources("ganpaint"):
        reached = sorted(set(_imported(tree)) & {"benchmarks", "scripts"})
        assert not reached, f"{path} imports {reached}"


# The tests of the benchmarks package itself (its bookkeeping, its published tables).
BENCHMARK_TESTS = {"tests/test_benchmarks.py", "tests/test_defaults.py"}


def test_tests_import_no_other_test_file_and_only_the_benchmarks_tests_import_benchmarks():
    test_files = {m for m in TEST_MODULES if m.startswith("test_")}
    for path, tree in _sources("tests"):
        imported = set(_imported(tree))
        reached = sorted(imported & test_files)
        assert not reached, f"{path} imports test files {reached}: share through tests/helpers.py"
        if path not in BENCHMARK_TESTS:
            assert "benchmarks" not in imported, f"{path} imports the benchmarks"
