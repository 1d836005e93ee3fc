#!/usr/bin/env bash
# Build LTP's syscalls suite (testcases/kernel/syscalls, the LTP library and
# the tst_* helpers) as static binaries for syscage's three architectures.
#
#   conformance/ltp/build.sh LTP_SRC [OUT_DIR] [ARCH...]
#
# LTP_SRC  an LTP source tree, e.g. from
#            git clone --branch 20260529 https://github.com/linux-test-project/ltp
#          (or a release tarball). It is not modified: each arch builds in its
#          own copy, OUT_DIR/<arch>/src.
# OUT_DIR  default /work/ltp-build. Each arch installs into OUT_DIR/<arch>/ltp
#          (testcases/bin holds every binary, runtest/syscalls the test list).
# ARCH     x86_64 i386 aarch64 (default: all three).
#
# Environment: JOBS (default 2) is make's -j.
#
# Individual tests that fail to compile do not stop the build (make -k); they
# are listed at the end of each arch and in OUT_DIR/<arch>/build-failures.txt.
set -euo pipefail

usage() { echo "usage: $0 LTP_SRC [OUT_DIR] [x86_64|i386|aarch64...]" >&2; exit 2; }
[[ $# -ge 1 ]] || usage
SRC=$(realpath "$1"); shift
OUT=/work/ltp-build
if [[ $# -ge 1 && $1 != x86_64 && $1 != i386 && $1 != aarch64 ]]; then OUT=$1; shift; fi
mkdir -p "$OUT"; OUT=$(realpath "$OUT")
ARCHES=("$@"); [[ ${#ARCHES[@]} -gt 0 ]] || ARCHES=(x86_64 i386 aarch64)
JOBS=${JOBS:-2}

[[ -f $SRC/VERSION && -d $SRC/testcases/kernel/syscalls ]] || { echo "$SRC is not an LTP source tree" >&2; exit 2; }
VERSION=$(cat "$SRC/VERSION")
echo "LTP $VERSION from $SRC -> $OUT (make -j$JOBS)"

for tool in make autoconf automake m4 bison flex pkg-config; do
  command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install -y autoconf automake bison flex m4 pkgconf make" >&2; exit 2; }
done

declare -A SUMMARY

build_arch() {
  local arch=$1 cc host_args=() pkgenv=()
  case $arch in
    x86_64)  cc=gcc ;;
    i386)    cc=i686-linux-gnu-gcc;    host_args=(--host=i686-linux-gnu --build=x86_64-pc-linux-gnu) ;;
    aarch64) cc=aarch64-linux-gnu-gcc; host_args=(--host=aarch64-linux-gnu --build=x86_64-pc-linux-gnu) ;;
    *) echo "unknown arch $arch" >&2; return 2 ;;
  esac
  command -v "$cc" >/dev/null || { echo "missing $cc (apt-get install gcc-i686-linux-gnu gcc-aarch64-linux-gnu)" >&2; return 2; }
  # Cross builds must not pick up the host's (x86_64) libraries through pkg-config.
  [[ $arch == x86_64 ]] || pkgenv=(PKG_CONFIG_LIBDIR=/nonexistent PKG_CONFIG_PATH=)

  local dir=$OUT/$arch work=$OUT/$arch/src prefix=$OUT/$arch/ltp log=$OUT/$arch/build.log
  local start=$SECONDS
  rm -rf "$work" "$prefix"
  mkdir -p "$dir"
  : >"$log"
  echo "== $arch: copying the source to $work"
  cp -a "$SRC" "$work"

  (
    cd "$work"
    echo "== $arch: autotools + configure ($cc, LDFLAGS=-static)"
    make autotools >>"$log" 2>&1
    env "${pkgenv[@]}" ./configure "${host_args[@]}" CC="$cc" LDFLAGS=-static --prefix="$prefix" >>"$log" 2>&1
    echo "== $arch: lib, libs"
    make -j"$JOBS" -C lib >>"$log" 2>&1                 # every test needs libltp: a failure here is fatal
    make -j"$JOBS" -k -C libs >>"$log" 2>&1 || true
    echo "== $arch: testcases/lib (tst_* helpers) and testcases/kernel/syscalls (make -k)"
    make -j"$JOBS" -k -C testcases/lib >>"$log" 2>&1 || true
    make -j"$JOBS" -k -C testcases/kernel/syscalls >>"$log" 2>&1 || true
    echo "== $arch: install into $prefix"
    make -k -C testcases/lib install >>"$log" 2>&1 || true
    make -k -C testcases/kernel/syscalls install >>"$log" 2>&1 || true
    # runtest/syscalls also names a few tests that live elsewhere (ipc/pipeio,
    # security/dirtyc0w, ...): build the directories holding their sources.
    local extra
    extra=$(grep -Ev '^\s*(#|$)' runtest/syscalls | awk '{print $2}' | sort -u | while read -r bin; do
      [[ -x $prefix/testcases/bin/$bin ]] && continue
      { find testcases -name "$bin.c" -printf '%h\n' | grep -v '^testcases/kernel/syscalls' | head -1; } || true
    done | sort -u)
    for d in $extra; do
      echo "== $arch: $d (named in runtest/syscalls)"
      make -j"$JOBS" -k -C "$d" >>"$log" 2>&1 || true
      make -k -C "$d" install >>"$log" 2>&1 || true
    done
    install -d "$prefix/runtest"
    install -m 0644 runtest/syscalls "$prefix/runtest/syscalls"
    install -m 0644 VERSION "$prefix/Version"
  )

  # What did not build: the targets make reported as failed (leaf errors, not
  # the "Error 2" of the parent directories), and the runtest entries whose
  # binary is missing.
  local failures=$dir/build-failures.txt
  {
    echo "# LTP $VERSION $arch: targets make failed to build"
    grep -E '^make\[[0-9]+\]: \*\*\* \[.*\] Error [0-9]+$' "$log" | grep -v 'Error 2$' \
      | sed -E 's/^make\[[0-9]+\]: \*\*\* \[(.*:[0-9]+: )?([^]]*)\] Error.*/\2/' | sort -u | sed 's/^/target /' || true
    echo "# runtest/syscalls entries whose binary is not in testcases/bin"
    grep -Ev '^\s*(#|$)' "$prefix/runtest/syscalls" | awk '{print $1, $2}' | while read -r name bin; do
      [[ -x $prefix/testcases/bin/$bin ]] || echo "missing $name $bin"
    done
  } >"$failures"
  local nbin nfail nmiss ntests secs=$((SECONDS - start))
  # ELF executables only (testcases/bin also holds a few shell scripts)
  nbin=$(find "$prefix/testcases/bin" -maxdepth 1 -type f -perm -u+x -exec head -c4 {} \; -exec echo \; | grep -c $'^\x7fELF' || true)
  nfail=$(grep -c '^target ' "$failures" || true)
  nmiss=$(grep -c '^missing ' "$failures" || true)
  ntests=$(grep -Evc '^\s*(#|$)' "$prefix/runtest/syscalls" || true)
  SUMMARY[$arch]=$(printf '%-8s %4dm%02ds  %5d ELF binaries  %3d failed make targets  %3d of %d runtest entries without a binary' \
    "$arch" $((secs / 60)) $((secs % 60)) "$nbin" "$nfail" "$nmiss" "$ntests")
  echo "== ${SUMMARY[$arch]}"
  if [[ $nfail -gt 0 || $nmiss -gt 0 ]]; then
    grep -E '^(target|missing) ' "$failures" | sed 's/^/   /'
  fi
  echo "   log: $log"
}

for arch in "${ARCHES[@]}"; do build_arch "$arch"; done

echo
echo "LTP $VERSION syscalls, static, make -j$JOBS:"
for arch in "${ARCHES[@]}"; do echo "  ${SUMMARY[$arch]}"; done
