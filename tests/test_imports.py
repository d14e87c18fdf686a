"""The package's modules import each other without cycles, counting imports inside functions too (a cycle hidden by
an import placed in a function is still a cycle)."""
import ast
from pathlib import Path
PKG = Path(__file__).resolve().parents[1] / 'bnn_toolkit'

def _module(path:Path)->str:
    parts = path.relative_to(PKG.parent).with_suffix('').parts
    return '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)

def _imports(path:Path)->set[str]:
    "The bnn_toolkit modules `path` imports, anywhere in the file"
    me, out = _module(path), set()
    package = me if path.name == '__init__.py' else me.rpartition('.')[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                up = package.split('.')
                base = '.'.join(up[:len(up) - node.level + 1] + ([base] if base else []))
            names = [f'{base}.{a.name}' for a in node.names]
            out |= {n for n in names if (PKG.parent / n.replace('.', '/')).with_suffix('.py').exists()} or {base}
        elif isinstance(node, ast.Import): out |= {a.name for a in node.names}
    return {m for m in out if m.startswith('bnn_toolkit') and m != me and m != 'bnn_toolkit'}

def test_no_import_cycles():
    graph = {_module(p): _imports(p) for p in PKG.rglob('*.py') if p.name != '_modidx.py'}
    seen, stack = set(), []
    def visit(m):
        if m in stack: raise AssertionError('import cycle: ' + ' -> '.join(stack[stack.index(m):] + [m]))
        if m in seen: return
        stack.append(m)
        for n in sorted(graph.get(m, ())): visit(n)
        stack.pop(); seen.add(m)
    for m in sorted(graph):
        if m != 'bnn_toolkit': visit(m)
    assert {'bnn_toolkit.config', 'bnn_toolkit.learner', 'bnn_toolkit.run_store', 'bnn_toolkit.training'} <= set(graph)
