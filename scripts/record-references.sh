#!/usr/bin/env bash
# Record the reference ("truth") outputs of the fixtures on real Linux.
#
#   scripts/record-references.sh           build fixtures, write fixtures/expected/
#   scripts/record-references.sh --check   record into a temp dir and diff it
#                                          against fixtures/expected/ (exit 1 on
#                                          any difference)
#   ARCHES="x86_64 i386" scripts/...       restrict the architectures
#   CASES="pipes sock_echo" scripts/...    restrict the cases (by name)
#
# For every case in fixtures/cases.json and every arch the static binary
# fixtures/build/<arch>/<binary> (binary = case.binary, default case.name) is
# run with:
#   argv     = [<absolute path of the binary>, ...case.args]
#   environ  = exactly case.env, in order (env -i)
#   stdin    = fixtures/<case.stdin>, or /dev/null when it is null
#   stdout   = a pipe (drained by cat into the .stdout file)
#   stderr   = fixtures/build/stderr/<arch>/<name>.stderr (not compared)
#   no other file descriptors open; core dumps disabled
#   cwd      = the repository root
# and produces
#   fixtures/expected/<arch>/<name>.stdout   the exact bytes written to stdout
#   fixtures/expected/<arch>/<name>.status   the exit status as a shell reports
#                                            it (128+N for death by signal N)
#
# How each arch runs on this (x86_64) host:
#   x86_64   natively
#   i386     natively, under `setarch i686` so uname -m reports i686
#   aarch64  under qemu-aarch64 (qemu-user; a guest signal death kills qemu
#            with the same signal, so the shell sees 128+N as well). qemu
#            reverses the environment it passes on, so it is given the
#            case's env in reverse to make the guest see the real order.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

check=0
case "${1:-}" in
  --check) check=1 ;;
  "") ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

ARCHES=${ARCHES:-"x86_64 i386 aarch64"}
SETARCH=$(command -v setarch)
QEMU_AARCH64=$(command -v qemu-aarch64)
ENV=$(command -v env)

if [ -n "${CASES:-}" ]; then
  # Only what the chosen cases run (other fixtures may be mid-edit).
  targets=$(node -e '
    const only = process.argv[1].split(/\s+/).filter(Boolean);
    const cases = JSON.parse(require("fs").readFileSync("fixtures/cases.json", "utf8"));
    const bins = cases.filter((c) => only.includes(c.name)).map((c) => c.binary ?? c.name);
    console.log(process.argv[2].split(" ").flatMap((a) => bins.map((b) => "build/" + a + "/" + b)).join(" "));
  ' "$CASES" "$ARCHES")
  make -s -C fixtures $targets
else
  make -s -C fixtures
fi

if [ "$check" = 1 ]; then
  out=$(mktemp -d "${TMPDIR:-/tmp}/syscage-expected.XXXXXX")
else
  out=fixtures/expected
fi

# Only fds 0-2 may reach the fixtures (fd_errno and listen print fd numbers).
# 255 is bash's own close-on-exec handle on this script.
for fd in /proc/$BASHPID/fd/*; do
  fd=${fd##*/}
  case $fd in 0|1|2|255) continue ;; esac
  eval "exec $fd>&-" 2>/dev/null || true
done
ulimit -c 0

# Flatten cases.json once into a NUL-separated stream, per case:
#   name, binary, stdin ("" = /dev/null), #args, args..., #env, K=V...
cases_file=$(mktemp "${TMPDIR:-/tmp}/syscage-cases.XXXXXX")
trap 'rm -f "$cases_file"; if [ "$check" = 1 ]; then rm -rf "$out"; fi' EXIT
node -e '
  const only = (process.env.CASES ?? "").split(/\s+/).filter(Boolean);
  const cases = JSON.parse(require("fs").readFileSync("fixtures/cases.json", "utf8"))
    .filter((c) => only.length === 0 || only.includes(c.name));
  const out = [];
  for (const c of cases) {
    const args = c.args ?? [];
    const env = Object.entries(c.env ?? {}).map(([k, v]) => k + "=" + v);
    out.push(c.name, c.binary ?? c.name, c.stdin ?? "", c.qemuDiffers ? "1" : "", args.length, ...args, env.length, ...env);
  }
  process.stdout.write(out.map((s) => s + "\0").join(""));
' >"$cases_file"

run_one() { # arch bin stdin_file -- args...   (env in ${envv[@]})
  local arch=$1 bin=$2 stdin=$3; shift 4
  case $arch in
    x86_64)  "$ENV" -i "${envv[@]}" "$bin" "$@" ;;
    i386)    "$ENV" -i "${envv[@]}" "$SETARCH" i686 "$bin" "$@" ;;
    aarch64) "$ENV" -i "${envv_rev[@]}" "$QEMU_AARCH64" "$bin" "$@" ;;
    *) echo "unknown arch $arch" >&2; return 99 ;;
  esac <"$stdin"
}

next() { IFS= read -r -d '' "$1"; }

for arch in $ARCHES; do
  mkdir -p "$out/$arch" "fixtures/build/stderr/$arch"
  while next name; do
    next binary; next stdin_rel; next qemu_differs
    next n; args=(); for ((k = 0; k < n; k++)); do next a; args+=("$a"); done
    next n; envv=(); for ((k = 0; k < n; k++)); do next a; envv+=("$a"); done
    # qemu-user builds the guest environment by pushing each host variable
    # onto the head of a list (util/envlist.c), so the guest sees it in
    # reverse order. Real Linux keeps the order, so hand qemu the reverse.
    envv_rev=(); for ((k = ${#envv[@]} - 1; k >= 0; k--)); do envv_rev+=("${envv[k]}"); done

    bin=$root/fixtures/build/$arch/$binary
    stdin=/dev/null
    [ -n "$stdin_rel" ] && stdin=$root/fixtures/$stdin_rel
    [ -x "$bin" ] || { echo "missing $bin" >&2; exit 1; }

    # Where qemu-user is known to differ from Linux on arch-independent behaviour
    # (case.qemuDiffers says how), the native x86_64 recording is the reference.
    if [ "$arch" = aarch64 ] && [ -n "$qemu_differs" ]; then
      [ -f "$out/x86_64/$name.stdout" ] || { echo "$name: record x86_64 first (qemuDiffers)" >&2; exit 1; }
      cp "$out/x86_64/$name.stdout" "$out/x86_64/$name.status" "$out/$arch/"
      printf '%-8s %-12s status %s (x86_64 reference: qemu-user differs)\n' "$arch" "$name" "$(cat "$out/$arch/$name.status")"
      continue
    fi
    set +e
    { run_one "$arch" "$bin" "$stdin" -- "${args[@]}" \
        2>"fixtures/build/stderr/$arch/$name.stderr" | cat >"$out/$arch/$name.stdout"; } 2>/dev/null
    status=${PIPESTATUS[0]}
    set -e
    echo "$status" >"$out/$arch/$name.status"
    printf '%-8s %-12s status %s\n' "$arch" "$name" "$status"
  done <"$cases_file"
done

if [ "$check" = 1 ]; then
  if diff -r fixtures/expected "$out"; then
    echo "check: recorded outputs match fixtures/expected"
  else
    echo "check: DIFFERENCES against fixtures/expected" >&2
    exit 1
  fi
fi
