"""Every problem type the code can raise, read from the source (so a new one is seen the day it is
written): the slug given to each error raised (a PalaceError, welfare's Refused, the gateway's Problem,
and their subclasses), each class's own default, the `*-not-found` of each object_id kind, the slugs a
`*_problem` rule returns with its reason, and the gateway's names for falcon's own errors."""
import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PARTS = ("services", "gateway", "ops", "bench")
SLUG = re.compile(r"^[a-z]+(-[a-z]+)*$")
BASES = {"PalaceError", "Refused", "Problem"}


def _trees():
    for part in PARTS:
        for path in sorted((ROOT / part).rglob("*.py")):
            yield ast.parse(path.read_text(), str(path))


def _name(node):
    return node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None


def _constants(node):
    """The slugs an expression may be: a literal, or either side of a choice (`a if x else b`); not
    the keys it reads (`course["state"]`) nor what it passes to a call."""
    if isinstance(node, ast.Constant):
        return {node.value} if isinstance(node.value, str) and SLUG.match(node.value) else set()
    if isinstance(node, ast.IfExp):
        return _constants(node.body) | _constants(node.orelse)
    if isinstance(node, ast.BoolOp):
        return set().union(*map(_constants, node.values))
    return set()


def _assigned_problem(node):
    """`problem = "x"`, or `status, problem = 409, "x"`."""
    slugs = set()
    for target in node.targets:
        if _name(target) == "problem":
            slugs |= _constants(node.value)
        elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
            slugs |= {s for t, v in zip(target.elts, node.value.elts) if _name(t) == "problem"
                      for s in _constants(v)}
    return slugs


def raised_slugs():
    trees = list(_trees())
    errors, found = set(BASES), set()
    grew = True
    while grew:  # the error classes, however deep their family
        before = len(errors)
        errors |= {n.name for t in trees for n in ast.walk(t)
                   if isinstance(n, ast.ClassDef) and any(_name(b) in errors for b in n.bases)}
        grew = len(errors) > before
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign):  # a class's default, or a slug chosen by a rule
                found |= _assigned_problem(node)
            elif isinstance(node, ast.Call) and _name(node.func) in errors:
                given = node.args[1] if len(node.args) > 1 else next(
                    (k.value for k in node.keywords if k.arg in ("problem", "slug")), None)
                if given is not None:
                    found |= _constants(given)
            elif isinstance(node, ast.Call) and _name(node.func) == "object_id" and len(node.args) > 1:
                found |= {f"{kind}-not-found" for kind in _constants(node.args[1])}
            elif isinstance(node, ast.FunctionDef) and node.name.endswith("_problem"):
                for answer in ast.walk(node):
                    if isinstance(answer, ast.Return) and isinstance(answer.value, ast.Tuple):
                        # (slug, reason); a rule answering (field, reason) names a field, one word
                        found |= {s for s in _constants(answer.value.elts[0]) if "-" in s}
    from gateway.problems import FALCON_SLUGS
    return found | set(FALCON_SLUGS.values())
