#!/usr/bin/env bash
# make regress: the performance gate. Builds the reference commit beside
# this tree (a git worktree under BUILD/regress, compiled through ccache, so
# the files the two commits share are not compiled again), then runs the
# reference and the candidate alternately on this machine, in the same job.
# Each round runs the seed layers at batch 32 (every backend and pass, 3
# interleaved repetitions, one thread) and blocks of the seed network's
# training steps (every backend but naive) once with each build,
# the order swapped every round so that a drift of the machine falls on
# both. convbench compare then pools each side's rounds and judges every
# case on the fastest half of its repetitions (a busy neighbour only adds
# time); its exit status is the gate's: 0 no regression, 1 a case slower, 2 bad input or a reference
# that does not build, 3 inconclusive (the runs could not decide), 4 two
# machines. No number recorded anywhere else takes part.
#
# Environment (set by the Makefile): BUILD (the candidate's build dir,
# relative: the reference is built into the same place of its tree, with
# the same PORTABLE and SANITIZE), REF (a commit; default: the one
# results/baseline/ref records), ROUNDS, THRESHOLD (minimum effect,
# percent), EXTRA (rounds added once when the first ROUNDS leave cases
# undecided), COMPARE_ARGS.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
ROUNDS=${ROUNDS:-8}
EXTRA=${EXTRA:-4}
THRESHOLD=${THRESHOLD:-15}
REF_FILE=results/baseline/ref
# auto is left out: it searches per process, so its step time moves with
# the choice it makes; the backends it chooses from are each gated
TRAIN_BACKENDS=im2col,im2col-blas,winograd,winograd2,simd,onednn

die() { echo "regress: $*" >&2; exit 2; }

for v in ROUNDS EXTRA; do
    case ${!v} in ''|*[!0-9]*) die "$v must be a whole number, not '${!v}'";; esac
done
[ "$ROUNDS" -ge 1 ] || die "ROUNDS must be at least 1"
if [ -z "${REF:-}" ]; then
    [ -f "$REF_FILE" ] || die "no REF given and no $REF_FILE: make baseline records one"
    REF=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$REF_FILE" | head -n 1 | tr -d '[:space:]')
    [ -n "$REF" ] || die "$REF_FILE names no commit"
fi
sha=$(git rev-parse --verify --quiet "$REF^{commit}") ||
    die "'$REF' is not a commit of this repository (a shallow clone may lack it: git fetch --unshallow)"
head=$(git rev-parse HEAD)
[ -x "$BUILD/convbench" ] && [ -x "$BUILD/bench_conv" ] || die "no $BUILD/convbench: run make first"

out=$BUILD/regress
ref_dir=$out/ref-$sha
mkdir -p "$out"
t0=$(date +%s)
echo "regress: reference ${sha:0:10} against this tree (HEAD ${head:0:10}$(git diff --quiet HEAD -- . 2>/dev/null || echo ', modified'))"
if [ ! -x "$ref_dir/$BUILD/bench_conv" ] || [ ! -x "$ref_dir/$BUILD/convbench" ]; then
    git worktree prune
    if [ ! -d "$ref_dir" ]; then
        git worktree add --detach --quiet "$ref_dir" "$sha" || die "cannot check out $sha"
    fi
    echo "regress: building the reference (log: $out/ref-build.log)"
    # its own make, not a child of ours: our command line (REF=, ARGS=) is not its
    if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$ref_dir" -j"$(nproc)" \
            PORTABLE="${PORTABLE:-}" SANITIZE="${SANITIZE:-}" "$BUILD/convbench" "$BUILD/bench_conv" \
            > "$out/ref-build.log" 2>&1; then
        tail -n 30 "$out/ref-build.log" >&2
        die "the reference ${sha:0:10} does not build"
    fi
fi
t1=$(date +%s)
echo "regress: reference ready in $((t1 - t0)) s; $ROUNDS rounds, reference and candidate alternately"

rounds=$out/rounds
rm -rf "$rounds"
mkdir -p "$rounds/ref" "$rounds/new"
here=$(pwd)
# one round of one build, run from its own tree (its models/ and results/)
measure() {
    local tree=$1 to=$2 i=$3
    (cd "$tree" &&
        "$BUILD/convbench" bench --quick --filter '/b32/' --threads 1 --repetitions 3 \
            --min-time 0.02 --interleave --quiet --out "$to/bench-$i.json" > /dev/null &&
        "$BUILD/convbench" scale --no-conv --max-threads 1 --repetitions 3 --steps 10 \
            --backends "$TRAIN_BACKENDS" --out "$to/scale-$i.json" > /dev/null) ||
        die "round $i failed in $tree"
}
# rounds $1..$2
run_rounds() {
    local i
    for i in $(seq -f '%03g' "$1" "$2"); do
        if [ $((10#$i % 2)) -eq 1 ]; then
            measure "$ref_dir" "$here/$rounds/ref" "$i"
            measure "$here" "$here/$rounds/new" "$i"
        else
            measure "$here" "$here/$rounds/new" "$i"
            measure "$ref_dir" "$here/$rounds/ref" "$i"
        fi
        printf 'regress: round %d of %d done (%d s)\n' "$((10#$i))" "$2" $(($(date +%s) - t1))
    done
}
verdict() {
    # shellcheck disable=SC2086
    "$BUILD/convbench" compare --fastest 0.5 --threshold "$THRESHOLD" ${COMPARE_ARGS:-} "$rounds/ref" \
        "$rounds/new" > "$out/compare.txt" && rc=0 || rc=$?
}
run_rounds 1 "$ROUNDS"
verdict
# Undecided cases usually come from a few disturbed rounds: more rounds
# settle them. The verdict is taken once more, at the end, whatever it is.
if [ "$rc" -eq 3 ] && [ "$EXTRA" -gt 0 ]; then
    grep -m 10 -E ' inconclusive$' "$out/compare.txt" | sed 's/^/regress: undecided: /'
    echo "regress: inconclusive after $ROUNDS rounds; $EXTRA more"
    run_rounds $((ROUNDS + 1)) $((ROUNDS + EXTRA))
    verdict
fi
cat "$out/compare.txt"
echo "regress: $(($(date +%s) - t0)) s in all (reference build $((t1 - t0)) s); exit $rc"
exit "$rc"
