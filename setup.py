# nbdev 2 boilerplate: all settings are in settings.ini; edit there, not here.
from configparser import ConfigParser
import re, setuptools, shlex

config = ConfigParser(delimiters=['='])
config.read('settings.ini', encoding='utf-8')
cfg = config['DEFAULT']

cfg_keys = 'version description keywords author author_email'.split()
expected = cfg_keys + "lib_name user branch license status min_python audience language git_url".split()
for o in expected: assert o in cfg, "missing expected setting: {}".format(o)
setup_cfg = {o: cfg[o] for o in cfg_keys}

licenses = {'apache2': 'Apache-2.0'}   # settings.ini name -> SPDX expression
statuses = ['1 - Planning', '2 - Pre-Alpha', '3 - Alpha', '4 - Beta', '5 - Production/Stable', '6 - Mature', '7 - Inactive']
py_versions = '3.10 3.11 3.12 3.13'.split()

requirements = shlex.split(cfg.get('requirements', ''))
dev_requirements = shlex.split(cfg.get('dev_requirements', ''))
plots_requirements = shlex.split(cfg.get('plots_requirements', ''))
min_python = cfg['min_python']
status = int(cfg['status'])
assert 1 <= status <= len(statuses), f"settings.ini status must be 1..{len(statuses)}, not {status}"

# [text](target "title") and ![alt](src): the target has no spaces; the text no brackets (a badge inside a link
# rewrites its image only)
MD_LINK = re.compile(r'(!?)\[([^\[\]]*)\]\(([^()\s]+)(\s+"[^"]*")?\)')
MD_REF = re.compile(r'^( {0,3}\[[^\]]+\]:\s*)(\S+)', re.M)   # reference definitions: [name]: target
ABSOLUTE = re.compile(r'([a-z][a-z0-9+.-]*:|#|/)', re.I)      # scheme (https:, mailto:), anchor, or site-root path

def absolute_links(markdown:str, # a README's markdown
                   git_url:str, # the repository's web address, e.g. https://github.com/OWNER/REPO
                   branch:str, # the branch the links point into
                  )->str:
    "`markdown` with its relative links made `{git_url}/blob/{branch}/PATH` and its images `{git_url}/raw/{branch}/PATH`"
    def url(path, kind): return path if ABSOLUTE.match(path) else f"{git_url.rstrip('/')}/{kind}/{branch}/{path.removeprefix('./')}"
    def link(m): return f"{m[1]}[{m[2]}]({url(m[3], 'raw' if m[1] else 'blob')}{m[4] or ''})"
    def ref(m): return m[1] + url(m[2], 'blob')
    parts = re.split(r'(^ {0,3}```.*?^ {0,3}```[^\n]*$)', markdown, flags=re.M | re.S)   # fenced code stays as it is
    return ''.join(p if i % 2 else MD_REF.sub(ref, MD_LINK.sub(link, p)) for i, p in enumerate(parts))

def long_description(readme:str, # README.md's text
                    )->str:
    "The package index's page: an install paragraph after the title, then the README with absolute links"
    install = (f"Install: `pip install {cfg['lib_name']}` (`pip install \"{cfg['lib_name']}[plots]\"` adds PNG export "
               f"of figures). The `make` targets and `.venv/` below are for working in a clone of [the repository]"
               f"({cfg['git_url']}).\n\n")
    title, _, body = readme.partition('\n') if readme.startswith('# ') else ('', '', readme)
    return absolute_links((title + '\n\n' if title else '') + install + body.lstrip('\n'), cfg['git_url'], cfg['branch'])

setuptools.setup(
    name=cfg['lib_name'],
    # PEP 639: an SPDX expression (License-Expression); setuptools deprecates License classifiers and refuses both
    license_expression=licenses.get(cfg['license'].lower(), cfg['license']),
    license_files=['LICENSE'],
    classifiers=['Development Status :: ' + statuses[status - 1],    # status is 1-based: 3 -> '3 - Alpha'
                 'Intended Audience :: ' + cfg['audience'].title(),
                 'Natural Language :: ' + cfg['language'].title()] +
                ['Programming Language :: Python :: ' + o for o in py_versions[py_versions.index(min_python):]],
    url=cfg['git_url'],
    # namespace discovery: the data folders (configs/...) are packages too, else setuptools warns for each of them
    packages=setuptools.find_namespace_packages(include=[cfg['lib_path'], cfg['lib_path'] + '.*'], exclude=['*.__pycache__']),
    include_package_data=True,          # the package's data files are the ones MANIFEST.in lists
    install_requires=requirements,
    extras_require={'dev': dev_requirements, 'plots': plots_requirements},
    dependency_links=cfg.get('dep_links', '').split(),
    python_requires='>=' + cfg['min_python'],
    long_description=long_description(open('README.md', encoding='utf-8').read()),
    long_description_content_type='text/markdown',
    zip_safe=False,
    entry_points={
        'console_scripts': cfg.get('console_scripts', '').split(),
        'nbdev': [f'{cfg.get("lib_path")}={cfg.get("lib_path")}._modidx:d'],
    },
    **setup_cfg)
