# Modeldeck — the two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Real backends for the tests live in their own venvs, apart from the app's.
BACKENDS_DIR ?= $(HOME)/.cache/modeldeck-backends
MLFLOW_VERSION ?= 3.17.2
RAY_VERSION ?= 2.60.0
export MODELDECK_BACKENDS_DIR := $(BACKENDS_DIR)

.PHONY: setup run demo test test-deps apt-deps backend-venvs lint fmt bench package package-check clean sandbox sandbox-stop sandbox-clean

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

setup: $(BIN)/.installed

run: setup
	$(BIN)/modeldeck

demo: setup
	$(BIN)/modeldeck demo

# apt packages the real backends need (only when root and something is missing)
apt-deps:
	@need=""; \
	command -v prometheus >/dev/null || need="$$need prometheus"; \
	command -v gnome-keyring-daemon >/dev/null || need="$$need gnome-keyring libsecret-tools"; \
	command -v dbus-run-session >/dev/null || need="$$need dbus"; \
	command -v Xvfb >/dev/null || need="$$need xvfb xauth"; \
	dpkg -s libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxkbcommon-x11-0 libegl1 libgl1 fonts-dejavu-core >/dev/null 2>&1 \
	  || need="$$need libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxkbcommon-x11-0 libegl1 libgl1 fonts-dejavu-core"; \
	if [ -n "$$need" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "apt: installing$$need"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$need >/dev/null; \
	  else echo "missing apt packages:$$need (run as root or: sudo apt-get install$$need)"; exit 1; fi; \
	fi

$(BACKENDS_DIR)/venv-mlflow/.installed-$(MLFLOW_VERSION)-auth:
	mkdir -p $(BACKENDS_DIR)
	test -x $(BACKENDS_DIR)/venv-mlflow/bin/python || $(PYTHON) -m venv $(BACKENDS_DIR)/venv-mlflow
	$(BACKENDS_DIR)/venv-mlflow/bin/python -m pip install --quiet "mlflow[auth]==$(MLFLOW_VERSION)"
	touch $@

# Ray Serve head for the deploy tests: the replicas load MLflow models, so mlflow and
# the model's flavour (scikit-learn) live in the Ray venv too.
$(BACKENDS_DIR)/venv-ray/.installed-$(RAY_VERSION)-$(MLFLOW_VERSION):
	mkdir -p $(BACKENDS_DIR)
	test -x $(BACKENDS_DIR)/venv-ray/bin/python || $(PYTHON) -m venv $(BACKENDS_DIR)/venv-ray
	$(BACKENDS_DIR)/venv-ray/bin/python -m pip install --quiet "ray[serve]==$(RAY_VERSION)" "mlflow==$(MLFLOW_VERSION)" scikit-learn
	touch $@

backend-venvs: $(BACKENDS_DIR)/venv-mlflow/.installed-$(MLFLOW_VERSION)-auth $(BACKENDS_DIR)/venv-ray/.installed-$(RAY_VERSION)-$(MLFLOW_VERSION)

test-deps: setup apt-deps backend-venvs

test: test-deps
	bash tests/run.sh

lint: setup
	$(BIN)/ruff check app tests bench
	$(BIN)/ruff format --check app tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

fmt: setup
	$(BIN)/ruff format app tests bench
	$(BIN)/ruff check --fix app tests bench

bench: setup
	for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# A one-dir desktop bundle (PyInstaller) and a .tar.gz of it, in dist/.
package: setup
	$(BIN)/python -m pip install --quiet "pyinstaller>=6.10,<7"
	rm -rf build/pyinstaller dist/modeldeck
	$(BIN)/pyinstaller --noconfirm --clean --log-level WARN \
	  --workpath build/pyinstaller --distpath dist packaging/pyinstaller/modeldeck.spec
	v=$$($(BIN)/python -c 'import app; print(app.__version__)'); \
	  tar -C dist -czf dist/modeldeck-$$v-linux-$$(uname -m).tar.gz modeldeck
	du -sh dist/modeldeck dist/modeldeck-*.tar.gz

# Run the bundle's self-test from outside the source tree, with no venv on PATH.
package-check: package
	bash packaging/check_bundle.sh dist/modeldeck

clean:
	rm -rf $(VENV) build dist *.egg-info artifacts .pytest_cache .mypy_cache .ruff_cache

# The whole loop on one machine (real MLflow + Ray Serve + Prometheus, on loopback), with
# Modeldeck connected; SANDBOX_GUI=0 runs it headless, checks it and stops it (CI does).
sandbox: test-deps
	$(BIN)/python -m tests.sandbox up

sandbox-stop: setup
	$(BIN)/python -m tests.sandbox stop

sandbox-clean: setup
	$(BIN)/python -m tests.sandbox clean
