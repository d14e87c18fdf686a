# Set-up is part of every target: a fresh machine needs only `make train` or `make test`.
VENV   := .venv
PY     := $(VENV)/bin/python
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
FMNIST := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
CHROMIUM := /usr/bin/chromium

.PHONY: setup train test test-slow package docs
setup: $(VENV)/.installed $(FMNIST)

# the virtual environment, reused when present; reinstalled when the package's settings change
$(VENV)/.installed: settings.ini setup.py pyproject.toml
	[ -x $(PY) ] || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

# real data: the full Fashion-MNIST (60k/10k) from Debian's package
$(FMNIST):
	$(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q dataset-fashion-mnist

# Debian's Chromium: the browser test opens the launcher notebook in JupyterLab with it (playwright drives it)
$(CHROMIUM):
	$(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium

# the main job: a fully binary network trained with DFA on Fashion-MNIST, progress and final test accuracy printed
train: setup
	$(VENV)/bin/bnn-train --fashion-mnist --model FullyConnected --fc-batchnorm --binary-act --binary-weights \
	  --rule dfa --bs 128 --epochs 2 --test-set --seed 0

# every notebook (one test each) and tests/; the notebooks, executed, also become the docs site (_docs/), which the
# last tests open in Chromium
EXECUTED := $(CURDIR)/_proc/executed
test: setup $(CHROMIUM)
	rm -rf $(EXECUTED)
	BNN_EXECUTED_NBS=$(EXECUTED) $(PY) -m pytest -q tests

# the same plus the cells flagged slow
test-slow: setup $(CHROMIUM)
	rm -rf $(EXECUTED)
	NBDEV_FLAGS="slow" BNN_EXECUTED_NBS=$(EXECUTED) $(PY) -m pytest -q tests

# the docs site alone, in _docs/: every notebook executed once (as its test), rendered with its outputs, plus the API
# reference (open _docs/index.html)
docs: setup
	rm -rf $(EXECUTED)
	BNN_EXECUTED_NBS=$(EXECUTED) $(PY) -m pytest -q tests/test_notebooks.py
	$(PY) tools/build_docs.py --executed $(EXECUTED)

# the sdist and the wheel, each installed in a clean virtual environment outside the checkout, then --version,
# --list-configs and a tiny run from a folder elsewhere (what a `pip install` user gets)
package: setup
	.ci/package_check.sh
