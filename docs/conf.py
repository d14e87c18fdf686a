"""Sphinx configuration of the bnn_toolkit docs site: the notebooks (myst-nb, with the outputs they were executed with,
never executed here) and an API reference (autodoc). Built by `tools/build_docs.py`, which stages this folder, README.md
and the notebooks, then runs `sphinx-build -b html`."""
import configparser, importlib, os, pkgutil, re
from pathlib import Path

def _repo_root()->Path:
    "The project root: given by tools/build_docs.py, else the first folder above this file holding settings.ini"
    if os.environ.get('BNN_DOCS_ROOT'): return Path(os.environ['BNN_DOCS_ROOT'])
    here = Path(__file__).resolve().parent
    return next(p for p in (here, *here.parents) if (p / 'settings.ini').exists())

ROOT = _repo_root()
_ini = configparser.ConfigParser(); _ini.read(ROOT / 'settings.ini')
SETTINGS = _ini['DEFAULT']

project = SETTINGS['lib_name']
author = SETTINGS['author']
copyright = SETTINGS['copyright']
release = version = SETTINGS['version']

extensions = ['myst_nb', 'sphinx.ext.autodoc', 'sphinx.ext.napoleon']
exclude_patterns = ['_build', '**.ipynb_checkpoints', 'README.md']    # README.md: included by index.md, not a page
source_suffix = {'.md': 'myst-nb', '.ipynb': 'myst-nb'}
default_role = 'code'             # the package's docstrings write names in `backticks`, as Markdown does

# myst-nb: render the stored outputs only (the tests executed the notebooks; see tools/build_docs.py)
nb_execution_mode = 'off'
nb_merge_streams = True
myst_enable_extensions = ['dollarmath', 'amsmath', 'colon_fence']
myst_heading_anchors = 3
# plotly outputs carry application/vnd.plotly.v1+json and text/html: text/html (a div and a Plotly.newPlot call) comes
# first in myst-nb's priority list already; the plotly.js it needs is served from _static (no CDN, see below)
suppress_warnings = ['myst.header']     # notebooks may start a section at ## after the title's #

# autodoc: one page for the whole package, each module's `__all__`, in source order
autodoc_default_options = {'members': True, 'undoc-members': True, 'member-order': 'bysource'}
autodoc_typehints = 'signature'
autodoc_inherit_docstrings = False   # torch's long docstrings (Function.forward, ...) are not this package's API
napoleon_google_docstring = napoleon_numpy_docstring = True

html_theme = 'furo'
html_title = f'{project} {version}'
html_static_path = ['_static']
html_css_files = ['bnn.css']
html_show_sourcelink = False
html_copy_source = False          # no copy of each executed notebook under _sources/

# MathJax from _static (tools/build_docs.py copies it from sphinx-mathjax-offline) so that formulas render offline too
if (Path(__file__).parent / '_static' / 'mathjax' / 'tex-chtml.js').exists(): mathjax_path = 'mathjax/tex-chtml.js'

PLOTLY_JS = 'plotly.min.js'       # copied into _static by tools/build_docs.py from the installed plotly package

def api_modules()->list[str]:
    "Every module of the package (sub-packages included), except private ones such as `_modidx`"
    pkg = importlib.import_module(SETTINGS['lib_name'])
    names = [m.name for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.')]
    return [n for n in names if not any(part.startswith('_') for part in n.split('.'))]

def _fill_api(app, docname, source):
    "The API page lists every module: `<!-- api-modules -->` in api.md becomes one `automodule` block per module"
    if docname != 'api' or '<!-- api-modules -->' not in source[0]: return
    blocks = [f'## `{m}`\n\n```{{eval-rst}}\n.. automodule:: {m}\n```\n' for m in api_modules()]
    source[0] = source[0].replace('<!-- api-modules -->', '\n'.join(blocks))

_CODE_SPAN = re.compile(r'(`[^`]*`)')
_RST_MARKUP = re.compile(r'([*|\\]|(?<=\w)_(?=\W|$))')

def markdown_line(line:str)->str:
    "A docstring line written as Markdown (`code`, |x|, a * b, name_) read literally by reStructuredText"
    return ''.join(part if part.startswith('`') and part.endswith('`') and len(part) > 1 else _RST_MARKUP.sub(r'\\\1', part)
                   for part in _CODE_SPAN.split(line))

def _docments(app, what, name, obj, options, lines):
    "Docstrings as the package writes them (Markdown), plus each parameter's `# comment` (docments style) as a field"
    lines[:] = [markdown_line(l) for l in lines]
    if what not in ('function', 'method', 'class'): return
    try:
        from fastcore.docments import docments
        docs = docments(obj, full=False)
    except Exception: return        # builtins, C extensions, objects without source
    fields = [f':param {k}: {markdown_line(v)}' for k, v in docs.items() if v and k != 'return']
    if docs.get('return'): fields.append(f':returns: {markdown_line(docs["return"])}')
    if fields and not any(l.lstrip().startswith(':param') for l in lines): lines.extend(['', *fields])

def _plotly_js(app, pagename, templatename, context, doctree):
    "Load plotly.js in the <head> of pages with figures: they call `Plotly.newPlot` inline, furo's scripts come last"
    if 'plotly-graph-div' not in (context.get('body') or ''): return
    src = context['pathto'](f'_static/{PLOTLY_JS}', 1)
    context['metatags'] = context.get('metatags', '') + f'\n<script src="{src}"></script>'

def setup(app):
    app.connect('source-read', _fill_api)
    app.connect('autodoc-process-docstring', _docments)
    app.connect('html-page-context', _plotly_js)
