#!/usr/bin/env python
"""Build the static docs site (Sphinx + myst-nb) into `_docs/` (settings.ini `doc_path`).

    python tools/build_docs.py [--executed DIR] [--out DIR] [--only NAME ...]

Committed notebooks carry no outputs. The pages show the outputs of a test run instead: run the notebook tests with
`BNN_EXECUTED_NBS=DIR` (tests/test_notebooks.py writes each passing notebook, executed, to DIR/<name>.ipynb) and pass
the same DIR here. For each notebook of nbs/ the executed copy is used when it is current (its cells' sources are the
notebook's: an edit since the test run makes it stale, a checkout or nbdev_clean touching the file does not); otherwise
the notebook is rendered without outputs (listed at the end): this script never executes code (myst-nb's execution is
off).
nbs/index.ipynb (nbdev's README notebook) is not a page: README.md is the home page.

The staged notebooks are cleaned as nbdev's own docs would show them: `#| hide`, `#| default_exp` and `nbdev_export()`
cells dropped, `#|` directives removed from the code shown, the title cell first. Widget state and widget views never go
into the site (their text fallback stays), nor does the copy of plotly.js that plotly's notebook renderer embeds once
per process (4.8 MB): pages with figures load the one copy in `_static/`, taken from the installed plotly package, so
figures draw without network access."""
import argparse, configparser, json, os, re, shutil, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WIDGET_VIEW = 'application/vnd.jupyter.widget-view+json'
WIDGET_STATE = 'application/vnd.jupyter.widget-state+json'
PLOTLY_JSON = 'application/vnd.plotly.v1+json'
_DIRECTIVE = re.compile(r'^\s*#\s*\|\s*(.*?)\s*$')
_CDN_SCRIPT = re.compile(r'<script[^>]*\bsrc="https?://[^"]*"[^>]*>\s*</script>')   # e.g. plotly's MathJax tag
_MD_LINK = re.compile(r'(!?)\[([^\]]*)\]\(([^)\s]+)\)')

def settings()->configparser.SectionProxy:
    ini = configparser.ConfigParser(); ini.read(ROOT / 'settings.ini')
    return ini['DEFAULT']

def notebooks(nbs:Path)->list[Path]:
    "The notebooks the tests run (tests/test_notebooks.py): every .ipynb below nbs/ outside `_`/`.` folders, sorted"
    return sorted(p for p in nbs.rglob('*.ipynb') if not any(s.startswith(('_', '.')) for s in p.relative_to(nbs).parts))

def _src(cell:dict)->str: return ''.join(cell.get('source', ''))

def directives(source:str)->tuple[dict, str]:
    "The cell's leading `#| name args` lines as {name: args} and the code without them (nbdev's syntax, `name: value` too)"
    lines, found = source.splitlines(keepends=True), {}
    i = 0
    while i < len(lines) and (m := _DIRECTIVE.match(lines[i])):
        name, _, args = m.group(1).replace(':', ' ', 1).partition(' ')
        if name: found[name.rstrip(':').lower()] = args.strip().lower()
        i += 1
    return found, ''.join(lines[i:])

def _is_plotly_loader(html:str)->bool:
    "plotly's notebook renderer's first output in a process: plotly.js itself in a <script>, no figure"
    return 'window.PlotlyConfig' in html and 'plotly-graph-div' not in html

def plotly_html(fig:dict)->str:
    "A plotly figure (its JSON) as a div and a `Plotly.newPlot` call, for a page that loads plotly.js itself"
    import plotly.io as pio
    return pio.to_html(fig, include_plotlyjs=False, include_mathjax=False, full_html=False, validate=False)

def clean_output(out:dict)->dict|None:
    "The output as the site shows it: no widget view (its text fallback stays), no embedded plotly.js, no CDN script"
    data = out.get('data')
    if data is None: return out
    data = {k: v for k, v in data.items() if k not in (WIDGET_VIEW, WIDGET_STATE)}
    if 'text/html' in data:
        html = _src({'source': data['text/html']})
        if _is_plotly_loader(html): data.pop('text/html')
        else: data['text/html'] = _CDN_SCRIPT.sub('', html)
    if PLOTLY_JSON in data:   # the figure itself: drawn from its JSON by the page's plotly.js, whichever renderer ran
        if 'plotly-graph-div' not in data.get('text/html', ''): data['text/html'] = plotly_html(data[PLOTLY_JSON])
        data.pop(PLOTLY_JSON)
    if not data or set(data) == {'text/plain'} and WIDGET_VIEW in out['data'] and not _src({'source': data['text/plain']}).strip():
        return None
    return {**out, 'data': data, 'metadata': {k: v for k, v in out.get('metadata', {}).items() if k != WIDGET_VIEW}}

def clean_cell(cell:dict)->dict|None:
    "The cell as the site shows it, or None when nbdev's docs would hide it"
    if cell['cell_type'] != 'code': return cell
    source = _src(cell)
    found, code = directives(source)
    if 'hide' in found or 'default_exp' in found or found.get('include') == 'false' or 'nbdev_export(' in source: return None
    if not code.strip(): return None
    tags = list(cell.get('metadata', {}).get('tags', []))
    if found.get('echo') == 'false': tags.append('remove-input')
    if found.get('output') == 'false': tags.append('remove-output')
    outputs = [o for o in map(clean_output, cell.get('outputs', [])) if o is not None]
    meta = {k: v for k, v in cell.get('metadata', {}).items() if k != 'widgets'}
    if tags: meta['tags'] = tags
    return {**cell, 'source': code.rstrip('\n'), 'outputs': outputs, 'metadata': meta}

def clean_notebook(nb:dict)->dict:
    "The staged notebook: cleaned cells, the title (`# Title`, `> summary`) cell first, no widget state"
    cells = [c for c in map(clean_cell, nb['cells']) if c is not None]
    for i, c in enumerate(cells): c.setdefault('id', f'cell-{i}')    # nbformat 4.5 wants ids (nbdev_clean adds them)
    title = next((i for i, c in enumerate(cells) if c['cell_type'] == 'markdown' and re.match(r'\s*#\s+\S', _src(c))), None)
    if title: cells.insert(0, cells.pop(title))
    meta = {k: v for k, v in nb.get('metadata', {}).items() if k != 'widgets'}
    meta.setdefault('kernelspec', {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'})
    meta.setdefault('language_info', {'name': 'python', 'pygments_lexer': 'ipython3'})
    return {**nb, 'cells': cells, 'metadata': meta}

def stage_readme(stage:Path, git_url:str, branch:str):
    "README.md for the home page: its images copied along, its links to other files of the repository sent to the forge"
    def link(m):
        bang, text, target = m.groups()
        if re.match(r'[a-z]+:|#|/', target): return m.group(0)
        if bang and (ROOT / target).is_file():
            (stage / target).parent.mkdir(parents=True, exist_ok=True); shutil.copy2(ROOT / target, stage / target)
            return m.group(0)
        return f'{bang}[{text}]({git_url}/blob/{branch}/{target})'
    (stage / 'README.md').write_text(_MD_LINK.sub(link, (ROOT / 'README.md').read_text()))

MATHJAX_PARTS = ('tex-chtml.js', 'output/chtml/fonts/woff-v2', 'input/tex/extensions', 'ui', 'a11y')

def stage_mathjax(static:Path)->bool:
    "MathJax 3 (CommonHTML output, TeX input and the extensions it loads on demand) from the sphinx-mathjax-offline package"
    from importlib.metadata import distribution, PackageNotFoundError
    try: src = Path(distribution('sphinx-mathjax-offline').locate_file('sphinx-mathjax-offline/static/mathjax'))
    except PackageNotFoundError: return False
    for part in MATHJAX_PARTS:
        (static / 'mathjax' / part).parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if (src / part).is_dir() else shutil.copy2)(src / part, static / 'mathjax' / part)
    return True

def stage(stage_dir:Path, executed:Path|None, only:list[str]|None=None)->tuple[list[str], list[str]]:
    "Fill `stage_dir` with docs/*, README.md, plotly.js and the cleaned notebooks; the notebooks with and without outputs"
    import plotly
    cfg = settings()
    if stage_dir.exists(): shutil.rmtree(stage_dir)
    shutil.copytree(ROOT / 'docs', stage_dir, ignore=shutil.ignore_patterns('_build', '*.png'))
    shutil.copy2(Path(plotly.__file__).parent / 'package_data' / 'plotly.min.js', stage_dir / '_static' / 'plotly.min.js')
    if not stage_mathjax(stage_dir / '_static'): print('sphinx-mathjax-offline is not installed: the pages load MathJax from its CDN')
    stage_readme(stage_dir, cfg['git_url'], cfg['branch'])
    nbs = ROOT / cfg['nbs_path']
    with_out, without = [], []
    for src in notebooks(nbs):
        rel = src.relative_to(nbs)
        if rel.name == cfg.get('readme_nb', 'index.ipynb'): continue    # nbdev's README source: README.md is the home page
        if only and not any(src.stem.startswith(o) for o in only): continue
        nb = json.loads(src.read_text())
        done = executed / rel if executed else None
        ran = json.loads(done.read_text()) if done is not None and done.exists() else None
        fresh = ran is not None and _code(ran) == _code(nb)
        if fresh: nb = ran
        dest = stage_dir / 'nbs' / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(json.dumps(clean_notebook(nb), indent=1))
        (with_out if fresh else without).append(str(rel))
    return with_out, without

def _code(nb:dict)->list: return [(c['cell_type'], _src(c)) for c in nb['cells']]

def dir_size(path:Path)->int: return sum(p.stat().st_size for p in path.rglob('*') if p.is_file())

def main(argv=None):
    cfg = settings()
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--executed', type=Path, help='folder of executed notebooks (BNN_EXECUTED_NBS of the notebook tests)')
    ap.add_argument('--out', type=Path, default=ROOT / cfg['doc_path'], help='where the site goes (default: %(default)s)')
    ap.add_argument('--stage', type=Path, default=ROOT / '_proc' / 'docs', help='staging source folder (default: %(default)s)')
    ap.add_argument('--only', nargs='*', help='only the notebooks whose names start so (e.g. 00 51_explorer), for a quick build')
    args = ap.parse_args(argv)
    start = time.time()
    with_out, without = stage(args.stage, args.executed, args.only)
    if args.out.exists():
        if any(args.out.iterdir()) and not (args.out / '.buildinfo').exists():
            sys.exit(f'{args.out} exists and is not a Sphinx site: not overwriting it')
        shutil.rmtree(args.out)
    cmd = [sys.executable, '-m', 'sphinx', '-b', 'html', '-q', '-E', '-d', str(args.stage / '.doctrees'),
           str(args.stage), str(args.out)]
    rc = subprocess.run(cmd, env={**os.environ, 'BNN_DOCS_ROOT': str(ROOT)}).returncode
    if rc: sys.exit(f'sphinx-build failed ({rc})')
    (args.out / '.nojekyll').touch()        # GitHub Pages: serve the _static/ folder as it is
    pages = sorted(args.out.rglob('*.html'), key=lambda p: p.stat().st_size, reverse=True)
    print(f'built {args.out} in {time.time() - start:.0f} s: {len(pages)} pages, {dir_size(args.out) / 1e6:.1f} MB '
          f'(largest page {pages[0].relative_to(args.out)}, {pages[0].stat().st_size / 1e6:.2f} MB)')
    print(f'{len(with_out)} notebooks with their outputs' + (f'; {len(without)} without (no current executed copy): '
          + ' '.join(without) if without else ''))

if __name__ == '__main__': main()
