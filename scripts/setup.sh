#!/usr/bin/env bash
# Everything syscage needs on a fresh Debian machine (run as root or with sudo):
# Unicorn for the engine, the cross compilers that build the fixtures, qemu-user
# for recording aarch64 references and for the benchmarks, strace (the reference
# for --strace), python3 (a pty for the terminal tests) and Go (a fixture written
# in Go, for a runtime that is not glibc's), then the npm
# dependencies, the engine addon, the TypeScript build and the fixtures.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libunicorn-dev gcc gcc-i686-linux-gnu gcc-aarch64-linux-gnu qemu-user make python3 g++ time busybox-static strace golang-go)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi

npm ci --no-audit --no-fund   # also builds the engine addon (binding.gyp) through the install script
npm run build
make -s -C fixtures
echo "setup: done"
