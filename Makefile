# Set-up and the two everyday commands. Everything is idempotent: a second `make test` reuses the
# virtualenv and reinstalls nothing.
#
#   make demo    set up, then run the main job on the embedded default config
#   make test    set up, then run the test suite
#
# TORCH_SPEC picks the torch build (default: the pinned CPU build). On a GPU machine, e.g.:
#   make test TORCH_SPEC=torch==2.13.0 TORCH_INDEX_URL=https://download.pytorch.org/whl/cu128
PYTHON      ?= python3
VENV        ?= .venv
TORCH_SPEC  ?= torch==2.13.0
TORCH_INDEX_URL ?=
PY          := $(VENV)/bin/python
STAMP       := $(VENV)/.ocr_ds-installed
DEMO_CONFIG ?= configs/textrecog/crnn/crnn_synth_cpu.py
PYTEST_ARGS ?=
# test processes (pytest-xdist, tests/conftest.py groups them); 0 runs the tests in this process
TEST_WORKERS ?= 2
DEMO_ARGS   ?=
# DeepSpeed JIT-builds its ops (CPU: the shared-memory all-reduce) into this venv, never into the
# per-user ~/.cache/torch_extensions that every checkout would share and rebuild in turn; `setup`
# builds them, so the first run builds nothing (ocr_ds/engine/ops.py)
export TORCH_EXTENSIONS_DIR ?= $(CURDIR)/$(VENV)/torch_extensions

.PHONY: setup demo test clean

setup: $(STAMP)

$(STAMP): setup.cfg setup.py Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q "$(TORCH_SPEC)" $(if $(TORCH_INDEX_URL),--index-url $(TORCH_INDEX_URL))
	$(PY) -m pip install -q -e ".[test]"
	$(PY) -c "import torch, deepspeed; print('torch', torch.__version__, '| deepspeed', deepspeed.__version__)"
	$(PY) -m ocr_ds.engine.ops build
	touch $(STAMP)

# The main job: CRNN on generated words, 2 ranks of one thread each (CPU ranks on a machine
# without GPUs); the data set is generated on the first run.
DEMO_RANKS ?= 2
demo: setup
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH OMP_NUM_THREADS=1 $(VENV)/bin/deepspeed --num_gpus $(DEMO_RANKS) ocr_ds/train.py --config $(DEMO_CONFIG) $(DEMO_ARGS)

test: setup
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadscope --no-loadscope-reorder $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) work_dirs
