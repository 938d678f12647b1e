#!/bin/sh
# Installs the Debian packages convbench needs that are missing; silent when
# all are present. The list is the README's (git and ccache serve make regress;
# libbenchmark-tools and python3-scipy, Google Benchmark's compare.py, test the
# gbench export). `deps.sh fuzz` installs what `make fuzz` needs instead:
# clang, and its libFuzzer and sanitizer runtimes (libclang_rt.fuzzer*.a),
# which Debian ships in libclang-rt-dev (libclang-rt-14-dev on Debian 12),
# only a Recommends of clang and so not installed with it here.
set -e
PKGS="gcc g++ make libbenchmark-dev libdnnl-dev libhwloc-dev hwloc gnuplot-nox
libopenblas-openmp-dev libcjson-dev zlib1g-dev dataset-fashion-mnist git ccache clang-format
libbenchmark-tools python3-scipy"
[ "${1:-}" = fuzz ] && PKGS="clang libclang-rt-dev libcjson-dev libdnnl-dev libhwloc-dev
libopenblas-openmp-dev zlib1g-dev"
if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "make deps: not a Debian system; install by hand: $PKGS" | tr '\n' ' ' >&2
    echo >&2
    exit 1
fi
missing=
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "make deps: installing$missing"
SUDO=
if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "make deps: need root (or sudo) to install$missing" >&2; exit 1; }
    SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
