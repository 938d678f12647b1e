# convbench: one entry point. `make` builds, `make test` tests, `make run`
# runs the main job. Options: PORTABLE=1 (no -march=native; run-time ISA
# dispatch still picks AVX-512/AVX2), SANITIZE=1 (ASan + UBSan), WERROR=0
# (warnings not fatal), ARGS=... (passed to the program a target runs),
# V=1 (echo commands).

CC       ?= gcc
CXX      ?= g++
ifeq ($(origin CC),default)
CC := gcc
endif

# PORTABLE and SANITIZE are 1 or 0 (or unset); anything else is an error
# rather than a build that records one thing and compiles another
$(foreach v,PORTABLE SANITIZE WERROR,$(if $(filter-out 0 1,$($(v))),\
    $(error $(v)=$($(v)): use $(v)=1 or leave it unset)))

B := build
ARCH := -march=native
ifeq ($(PORTABLE),1)
B := build/portable
ARCH :=
endif
OPT := -O3
ifeq ($(SANITIZE),1)
B := $(B)/sanitize
OPT := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
endif

CPPFLAGS := -D_GNU_SOURCE -Icommon -Ikernels -Imodels -Iharness -Ifuzz -MMD -MP
# -falign-functions=64: every function starts a cache line, so a change in
# one file does not move another file's hot loops within their lines (the
# gate saw naive's forward 1.31x slower when only simd.c had changed).
# -std=c11 turns off FMA contraction (gnu11 has it on); the kernels want it.
# -fno-math-errno: nothing reads errno after a math call, and with it set
# sqrtf cannot vectorize (Adam)
# Warnings are errors (WERROR=0 lets a newer compiler's new warnings
# through); -Wmissing-prototypes catches a file declaring another's
# function itself instead of including its header. conv_shape grows by
# appended members whose zero means the old behaviour, so a positional
# initializer that stops early is intended: no missing-field warning.
WERROR   ?= 1
WARN     := -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Wshadow $(if $(filter 1,$(WERROR)),-Werror)
CFLAGS   := -falign-functions=64 -std=c11 -ffp-contract=fast -fno-math-errno $(OPT) $(ARCH) -fopenmp $(WARN) -Wmissing-prototypes
CXXFLAGS := -std=c++17 $(OPT) $(ARCH) -fopenmp $(WARN)
OPENBLAS := -L/usr/lib/x86_64-linux-gnu/openblas-openmp -Wl,-rpath,/usr/lib/x86_64-linux-gnu/openblas-openmp -lopenblas
LDLIBS   := -ldnnl $(OPENBLAS) -lhwloc -lcjson -lz -lm
LDFLAGS  := -fopenmp $(filter -fsanitize=%,$(OPT))

COMMON_SRC  := $(wildcard common/*.c)
# a backend of several files keeps them in kernels/NAME/ (kernels/simd/)
KERNEL_SRC  := $(wildcard kernels/*.c kernels/*/*.c)
MODEL_SRC   := $(wildcard models/*.c)
HARNESS_SRC := $(filter-out harness/convbench.c,$(wildcard harness/*.c))
BENCH_SRC   := $(wildcard harness/*.cc)
# the fuzz targets run their saved inputs in the tests (tests/test_fuzz.c)
TEST_SRC    := $(wildcard tests/*.c fuzz/*.c)

obj = $(patsubst %.c,$(B)/obj/%.o,$(patsubst %.cc,$(B)/obj/%.o,$(1)))
COMMON_OBJ  := $(call obj,$(COMMON_SRC))
KERNEL_OBJ  := $(call obj,$(KERNEL_SRC))
MODEL_OBJ   := $(call obj,$(MODEL_SRC))
HARNESS_OBJ := $(call obj,$(HARNESS_SRC))
TEST_OBJ    := $(call obj,$(TEST_SRC))
BENCH_BIN   := $(patsubst harness/%.cc,$(B)/%,$(BENCH_SRC))

# The build, as results files record it (harness objects only).
$(B)/obj/harness/%.o: CPPFLAGS += -DCONVBENCH_CFLAGS='"$(CFLAGS)"' \
    -DCONVBENCH_SRCDIR='"$(CURDIR)"' -DCONVBENCH_PORTABLE=$(if $(filter 1,$(PORTABLE)),1,0) \
    -DCONVBENCH_SANITIZE=$(if $(filter 1,$(SANITIZE)),1,0)

LIBCOMMON := $(B)/libcommon.a
LIBK := $(B)/libkernels.a
LIBM := $(B)/libmodels.a
LIBH := $(B)/libharness.a

ifneq ($(V),1)
Q := @
endif

.PHONY: all deps test sanitize run train print-ldlibs clean link-check report regress baseline fuzz fuzz-build
# keep the benchmark programs' objects: they are chain intermediates to make
.SECONDARY: report regress baseline

all: $(LIBK) $(LIBCOMMON) $(B)/convbench $(B)/tests $(BENCH_BIN)

deps:
	@sh scripts/deps.sh

# objects follow the flags, which live here. Compiles go through ccache when
# it is installed (make deps installs it; looked up when the recipe runs, so
# the first build on a fresh machine uses it too): the regression gate
# rebuilds a reference commit beside this tree, and the files the two share
# then cost a cache lookup instead of a compile.
CCACHE = $$(command -v ccache)
$(B)/obj/%.o: %.c Makefile | deps
	@mkdir -p $(dir $@)
	$(Q)$(CCACHE) $(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(B)/obj/%.o: %.cc Makefile | deps
	@mkdir -p $(dir $@)
	$(Q)$(CCACHE) $(CXX) $(CPPFLAGS) $(CXXFLAGS) -c $< -o $@

# an archive with no members is still a valid (empty) archive
archive = rm -f $@ && $(if $^,ar rcs $@ $^,printf '!<arch>\n' > $@)
$(LIBCOMMON): $(COMMON_OBJ)
	$(Q)$(archive)
$(LIBK): $(KERNEL_OBJ)
	$(Q)$(archive)
$(LIBM): $(MODEL_OBJ) | deps
	@mkdir -p $(B)
	$(Q)$(archive)
$(LIBH): $(HARNESS_OBJ) | deps
	@mkdir -p $(B)
	$(Q)$(archive)

$(B)/convbench: $(B)/obj/harness/convbench.o $(LIBH) $(LIBM) $(LIBK) $(LIBCOMMON)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(B)/tests: $(TEST_OBJ) $(LIBH) $(LIBM) $(LIBK) $(LIBCOMMON)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(B)/%: $(B)/obj/harness/%.o $(LIBH) $(LIBM) $(LIBK) $(LIBCOMMON)
	$(Q)$(CXX) $(LDFLAGS) $^ $(LDLIBS) -lbenchmark -lpthread -o $@

# The commit a binary is built from, for `convbench --version`: only
# harness/version.o sees it, and it is rebuilt when the commit (or the
# tree's modified state) changes, through a stamp rewritten only then; so a
# new commit recompiles one small file and ccache keeps the rest.
GIT_COMMIT   := $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
GIT_DESCRIBE := $(shell git describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)
$(B)/obj/harness/version.o: CPPFLAGS += -DCONVBENCH_GIT_COMMIT='"$(GIT_COMMIT)"' \
    -DCONVBENCH_GIT_DESCRIBE='"$(GIT_DESCRIBE)"'
$(B)/obj/harness/version.o: $(B)/git-version
$(B)/git-version: FORCE
	@mkdir -p $(B); v='$(GIT_COMMIT) $(GIT_DESCRIBE)'; \
	test "$$(cat $@ 2>/dev/null)" = "$$v" || echo "$$v" > $@
.PHONY: FORCE
FORCE:

# A separate program that knows only conv.h and the link line.
link-check: $(LIBK) $(LIBCOMMON)
	$(Q)$(CC) -std=c11 -Ikernels tests/standalone/link_check.c \
	    $$($(MAKE) -s --no-print-directory print-ldlibs PORTABLE=$(PORTABLE) SANITIZE=$(SANITIZE)) \
	    -o $(B)/link_check && $(B)/link_check

test: all link-check
	$(Q)$(B)/tests $(ARGS)

sanitize:
	$(Q)ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    $(MAKE) --no-print-directory SANITIZE=1 test

# Fuzzing: clang's libFuzzer with ASan and UBSan, one target per reader,
# fuzz/NAME.c (fuzz/fuzz.h says how to write one; a new file is a new
# target). `make fuzz` builds them (build/fuzz/NAME) and runs each for
# FUZZ_SECONDS seconds (FUZZ=NAME,... picks some) from fuzz/corpus/NAME and
# the crashes kept in fuzz/regress/NAME, with fuzz/NAME.dict where there is
# one. New inputs go to build/fuzz/corpus/NAME; a crash stops the run, its
# input in build/fuzz/crashes/NAME/: fix it, then keep the input in
# fuzz/regress/NAME, where make test runs it. Memory is capped at 1 GiB
# (CONVBENCH_MAX_MEMORY): a reader that takes more is a finding.
FUZZ_TARGETS := $(filter-out fuzz,$(basename $(notdir $(wildcard fuzz/*.c))))
FUZZ_SECONDS ?= 30
FUZZ_CC      ?= clang
FB           := build/fuzz
FUZZ_CFLAGS  := -std=c11 -O1 -g $(ARCH) -fno-omit-frame-pointer -fopenmp=libgomp \
    -fsanitize=address,undefined,float-cast-overflow,pointer-overflow -fno-sanitize-recover=all \
    $(filter-out -Werror,$(WARN)) -DFUZZ_LIBFUZZER
# the kernels' per-ISA files use gcc's #pragma GCC target, which clang
# ignores: those few come from the ordinary build, uninstrumented
KERNEL_GCC_SRC := $(shell grep -l 'pragma GCC target' $(KERNEL_SRC))
FUZZ_LIB_OBJ := $(patsubst %.c,$(FB)/obj/%.o,$(COMMON_SRC) $(filter-out $(KERNEL_GCC_SRC),\
    $(KERNEL_SRC)) $(MODEL_SRC) $(HARNESS_SRC) fuzz/fuzz.c) $(call obj,$(KERNEL_GCC_SRC))

$(FB)/obj/%.o: %.c Makefile | fuzz-deps
	@mkdir -p $(dir $@)
	$(Q)$(CCACHE) $(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FB)/libfuzzed.a: $(FUZZ_LIB_OBJ)
	$(Q)$(archive)

$(FB)/%: $(FB)/obj/fuzz/%.o $(FB)/libfuzzed.a
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $^ $(LDLIBS) -lgomp -o $@

.PHONY: fuzz-deps
fuzz-deps:
	@sh scripts/deps.sh fuzz

fuzz-build: $(FUZZ_TARGETS:%=$(FB)/%)

fuzz: fuzz-build
	$(Q)set -e; for t in $(or $(subst $(comma), ,$(FUZZ)),$(FUZZ_TARGETS)); do \
	    mkdir -p $(FB)/corpus/$$t $(FB)/crashes/$$t; \
	    echo "== fuzz $$t: $(FUZZ_SECONDS) s =="; \
	    CONVBENCH_MAX_MEMORY=1G $(FB)/$$t -max_total_time=$(FUZZ_SECONDS) -close_fd_mask=3 \
	        -print_final_stats=1 -artifact_prefix=$(FB)/crashes/$$t/ \
	        $$(test -f fuzz/$$t.dict && echo -dict=fuzz/$$t.dict) \
	        $(FB)/corpus/$$t $$(for d in fuzz/corpus/$$t fuzz/regress/$$t; do test -d $$d && echo $$d; done); \
	done
comma := ,

# The main job: the machine (once per machine: its file is found by the
# CPU's fingerprint; CONVBENCH_MACHINE=NAME labels it), the seed network
# trained for 5 epochs with the auto choice, the quick benchmark suite, the
# scaling run, then one summary table. Every step writes a results file
# under results/.
run: all
	$(Q)set -e; stamp=$$(date -u +%Y%m%dT%H%M%SZ); label=$$($(B)/convbench info --print-label); \
	$(B)/convbench info --if-missing; \
	echo "== training the seed network (5 epochs, backend auto) =="; \
	$(B)/convbench train --epochs 5 --backend auto --plan-cache results/plan-cache-$$label.json \
	    --out results/train-$$stamp.json $(ARGS); \
	echo "== quick benchmark suite =="; \
	$(B)/convbench bench --quick --out results/bench-quick-$$stamp.json; \
	echo "== scaling over cores =="; \
	$(B)/convbench scale --out results/scale-$$stamp.json; \
	$(B)/convbench summary results/train-$$stamp.json results/bench-quick-$$stamp.json \
	    results/scale-$$stamp.json

train: all
	$(Q)$(B)/convbench train $(ARGS)

# Results. `make report` rewrites REPORT.md and results/plots/ from the
# files in results/ (it runs no benchmark). `make regress` is the
# performance gate (scripts/regress.sh): the reference commit REF (default:
# the one results/baseline/ref records) is built beside this tree and both
# run alternately on this machine, REGRESS_ROUNDS rounds of the seed layers
# at batch 32 (every backend and pass, one thread: a two-thread team on a
# busy two-core machine stalls whenever the scheduler parks one of its
# threads) and of the seed network's training steps; convbench compare
# pools each side's rounds and decides on the fastest half of them with a
# REGRESS_THRESHOLD percent minimum effect; if that leaves cases
# undecided, REGRESS_EXTRA more rounds, and the verdict once more. Exit 0
# pass, 1 slower, 2 bad input or failed build, 3 inconclusive, 4 machines
# differ. `make baseline` records HEAD as the
# reference (FORCE=1 replaces a recorded one).
REGRESS_ROUNDS    ?= 8
REGRESS_EXTRA     ?= 4
REGRESS_THRESHOLD ?= 15
BASELINE          := results/baseline/ref

report: $(B)/convbench
	$(Q)$(B)/convbench report $(ARGS)

regress: $(B)/convbench $(B)/bench_conv
	$(Q)BUILD=$(B) REF=$(REF) ROUNDS=$(REGRESS_ROUNDS) EXTRA=$(REGRESS_EXTRA) THRESHOLD=$(REGRESS_THRESHOLD) \
	    PORTABLE=$(PORTABLE) SANITIZE=$(SANITIZE) COMPARE_ARGS='$(ARGS)' bash scripts/regress.sh

baseline:
	$(Q)set -e; head=$$(git rev-parse HEAD); \
	if test -f $(BASELINE) && test "$(FORCE)" != 1; then \
	    echo "$(BASELINE) already records $$(grep -v '^#' $(BASELINE) | head -n 1); FORCE=1 replaces it" >&2; exit 2; fi; \
	git diff --quiet HEAD -- common kernels models harness Makefile || \
	    echo "baseline: warning: the tree has uncommitted changes; the reference is the commit $$head without them" >&2; \
	mkdir -p $(dir $(BASELINE)); \
	{ echo "# The reference commit of make regress: the last accepted performance point."; \
	  echo "# Written by make baseline; commit this file."; echo "$$head"; } > $(BASELINE).tmp; \
	mv $(BASELINE).tmp $(BASELINE); echo "baseline: $(BASELINE) records $$head"

# The style of .clang-format: `make format` applies it to every tracked C
# and C++ file, `make format-check` (CI) fails on any file it would change.
FORMAT_FILES = $$(git ls-files '*.c' '*.h' '*.cc')
.PHONY: format format-check
format: | deps
	$(Q)clang-format -i --style=file $(FORMAT_FILES)
format-check: | deps
	$(Q)clang-format --dry-run --Werror --style=file $(FORMAT_FILES)

print-ldlibs:
	@echo -L$(abspath $(B)) -lkernels -lcommon $(LDFLAGS) $(LDLIBS)

# PyTorch and Keras on the seed network, beside convbench in the report:
# installs Debian's python3-torch and tensorflow-cpu (PyPI) in build/peers-venv,
# then writes results/peers/{pytorch,keras}[-as-installed]-<label>.json (minutes).
# Optional: what cannot be installed is reported and left "not measured".
# ARGS go to both peers (e.g. ARGS='--epochs 1 --limit 5000').
.PHONY: peers
peers: $(B)/convbench
	-$(Q)python3 scripts/peer_common.py install
	-$(Q)python3 scripts/peer_pytorch.py $(ARGS)
	-$(Q)python3 scripts/peer_keras.py $(ARGS)

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
