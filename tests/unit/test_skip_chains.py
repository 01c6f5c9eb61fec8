"""A later cell never depends on a cell that may have skipped: a name made under `lab.ready_for(needs)` is used
only where those needs were checked too (lesson 02 used `web`, made by a root-only cell, in an engine-only one:
`NameError` for every learner who is not root).

The notebook sources are read with `ast`: every `if lab.ready_for(...)` (and `tools_ready(...)`, or any other
condition) guards what its body defines; a use is fine when its own guards include all of the definition's.
"""

from __future__ import annotations

import ast
import builtins
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))

Needs = frozenset[str]


def guard_needs(test: ast.expr) -> Needs:
    """What a condition requires: ready_for's needs, tools_ready's tools, or the condition's own text."""
    needs: set[str] = set()
    parts = test.values if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And) else [test]
    for part in parts:
        call = part if isinstance(part, ast.Call) else None
        name = ast.unparse(call.func) if call else ""
        if name.endswith("ready_for"):
            needs |= {arg.value for arg in call.args if isinstance(arg, ast.Constant)}
        elif ast.unparse(part).endswith("lab.available"):
            needs.add("engine")
        elif name.endswith("tools_ready"):
            needs |= {f"tool:{arg.value}" for arg in call.args if isinstance(arg, ast.Constant)}
        else:
            needs.add(f"if:{ast.unparse(part)}")
    return frozenset(needs)


def _targets(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


class Chains:
    """Walks the cells in order, recording the guards each name was defined under and each unsafe use."""

    def __init__(self) -> None:
        self.defined: dict[str, list[Needs]] = {}   # each name: the guards under which some cell made it
        self.problems: list[str] = []
        self.cell = 0

    def define(self, names: set[str], needs: Needs) -> None:
        for name in names:
            self.defined.setdefault(name, []).append(needs)

    def use(self, node: ast.AST, needs: Needs, local: frozenset[str] = frozenset()) -> None:
        """Check every name read in ``node`` (comprehension and lambda variables are local)."""
        for child in ast.walk(node):
            if isinstance(child, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
                inner = local | {t for gen in child.generators for t in _targets(gen.target)}
                for part in ast.iter_child_nodes(child):
                    self.use(part, needs, frozenset(inner))
                return self._rest(node, child, needs, local)
            if isinstance(child, ast.Lambda):
                continue
            if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Load) and child.id not in local:
                made = self.defined.get(child.id)
                if made is not None and not any(guard <= needs for guard in made):
                    self.problems.append(f"cell {self.cell}: {child.id} is made only with {sorted(made[0])}, "
                                         f"used with {sorted(needs)}")
        return None

    def _rest(self, node: ast.AST, skip: ast.AST, needs: Needs, local: frozenset[str]) -> None:
        for child in ast.iter_child_nodes(node):
            if child is not skip:
                self.use(child, needs, local)

    def statements(self, body: list[ast.stmt], needs: Needs) -> set[str]:
        """Run through statements under ``needs``; return the names they define."""
        made: set[str] = set()
        for statement in body:
            made |= self.statement(statement, needs)
        return made

    def statement(self, node: ast.stmt, needs: Needs) -> set[str]:
        if isinstance(node, ast.If):
            return self.branches(node, needs)
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            self.define({node.name}, needs)
            return {node.name}
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = {(alias.asname or alias.name).split(".")[0] for alias in node.names}
            self.define(names, needs)
            return names
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.IfExp):
            self.use(node.value.test, needs)
            self.use(node.value.body, needs | guard_needs(node.value.test))
            self.use(node.value.orelse, needs)
            return set()
        if isinstance(node, (ast.For, ast.While, ast.With, ast.Try)):
            made: set[str] = set()
            for field in ("iter", "test"):
                if getattr(node, field, None) is not None:
                    self.use(getattr(node, field), needs)
            for item in getattr(node, "items", []):
                self.use(item.context_expr, needs)
                if item.optional_vars is not None:
                    made |= _targets(item.optional_vars)
            if isinstance(node, ast.For):
                made |= _targets(node.target)
            self.define(made, needs)
            made |= self.statements(node.body, needs)
            for handler in getattr(node, "handlers", []):
                made |= self.statements(handler.body, needs)
            made |= self.statements(getattr(node, "orelse", []), needs)
            made |= self.statements(getattr(node, "finalbody", []), needs)
            return made
        values = [v for v in (getattr(node, "value", None),) if v is not None]
        for value in values:
            self.use(value, needs)
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            made = set().union(*(_targets(t) for t in targets))
            if isinstance(node, ast.AugAssign):
                self.use(ast.Name(node.target.id, ast.Load()) if isinstance(node.target, ast.Name) else node.target,
                         needs)
            self.define(made, needs)
            return made
        if not values:
            self.use(node, needs)
        return set()

    def branches(self, node: ast.If, needs: Needs) -> set[str]:
        """An if/elif/else chain: each branch under its own test; names made in every branch of a chain that
        ends in else are made under the outer needs."""
        self.use(node.test, needs)
        made_each = [self.statements(node.body, needs | guard_needs(node.test))]
        earlier = frozenset({f"else:{ast.unparse(node.test)}"})
        rest = node.orelse
        complete = False
        while rest:
            if len(rest) == 1 and isinstance(rest[0], ast.If):
                branch = rest[0]
                self.use(branch.test, needs | earlier)
                made_each.append(self.statements(branch.body, needs | earlier | guard_needs(branch.test)))
                earlier |= {f"else:{ast.unparse(branch.test)}"}
                rest = branch.orelse
            else:
                made_each.append(self.statements(rest, needs | earlier))
                complete = True
                rest = []
        everywhere = set.intersection(*made_each) if complete else set()
        self.define(everywhere, needs)
        return set().union(*made_each)


def chain_problems(cells: list[str]) -> list[str]:
    """Uses of names that a cell made only under needs the using cell does not check."""
    chains = Chains()
    chains.define(set(dir(builtins)), frozenset())
    for index, source in enumerate(cells):
        chains.cell = index
        if source.lstrip().startswith("%%"):
            continue  # a cell magic (%%bash): the whole cell is another language, it makes no Python names
        code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
        chains.statements(ast.parse(code).body, frozenset())
    return chains.problems


def test_the_checker_finds_lesson_02s_old_chain():
    cells = ['lab = Lab("x")',
             'if lab.ready_for("engine", "root", task="a"):\n    web = lab.start("busybox", name="web")',
             'if lab.ready_for("engine", task="b"):\n    print(web.name)']
    assert chain_problems(cells) == ["cell 2: web is made only with ['engine', 'root'], used with ['engine']"]


def test_the_checker_accepts_guards_that_include_the_definitions():
    cells = ['lab = Lab("x")\nresult = None',
             'if lab.ready_for("engine", task="a"):\n    web = lab.start("busybox", name="web")\n    result = 1',
             'if lab.ready_for("engine", "root", task="b"):\n    print(web.name, [w for w in web.ids])',
             'check(result) if result else None',
             'check(web) if lab.ready_for("engine", task="c") else None']
    assert chain_problems(cells) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_cell_depends_on_a_cell_that_may_skip(path):
    notebook = nbformat.read(path, as_version=4)
    assert chain_problems([cell.source for cell in notebook.cells if cell.cell_type == "code"]) == []
