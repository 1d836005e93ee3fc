#!/usr/bin/env bash
# Build Unicorn 2.0.1 with scripts/unicorn-store-fastpath.patch into vendor/unicorn/
# (static libunicorn.a + headers, x86 and aarch64 only). binding.gyp links it when
# it is there and falls back to the system's -lunicorn otherwise.
#
#   bash scripts/build-unicorn.sh                 # source from Debian (apt-get source)
#   UNICORN_SRC=/path/to/unicorn-2.0.1.post1.tar.gz bash scripts/build-unicorn.sh   # checked by sha256
#   UNICORN_SRC=/path/to/unicorn-source-dir        bash scripts/build-unicorn.sh   # taken as it is
#
# Idempotent: does nothing when vendor/unicorn/lib/libunicorn.a exists and its
# stamp matches this version, patch and configuration. Exit status 1 when the
# source cannot be had or the build fails (vendor/unicorn/ is then left absent,
# so the addon links the system library). After a (re)build run `npm run install`.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

VERSION=2.0.1.post1                   # what Debian bookworm ships (libunicorn-dev 2.0.1.post1-1+b1)
DEB_SOURCE=unicorn-engine
DEB_VERSION=2.0.1.post1-1
ORIG_SHA256=6b276c857c69ee5ec3e292c3401c8c972bae292e0e4cb306bb9e5466c0f14737   # from bookworm's Sources
ARCHS="x86;aarch64"
PATCH=$ROOT/scripts/unicorn-store-fastpath.patch
PREFIX=$ROOT/vendor/unicorn
WORK=$ROOT/vendor/unicorn-build
CMAKE_FLAGS=(-DCMAKE_BUILD_TYPE=Release "-DUNICORN_ARCH=$ARCHS" -DBUILD_SHARED_LIBS=OFF
  -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DUNICORN_BUILD_TESTS=OFF -DUNICORN_INSTALL=ON
  -DCMAKE_INSTALL_LIBDIR=lib)

say() { echo "build-unicorn: $*" >&2; }

stamp="$VERSION $(sha256sum "$PATCH" | cut -d' ' -f1) ${CMAKE_FLAGS[*]}"
if [ -f "$PREFIX/lib/libunicorn.a" ] && [ "$(cat "$PREFIX/.stamp" 2>/dev/null)" = "$stamp" ]; then
  say "vendor/unicorn is up to date"
  exit 0
fi

# Build tools (all in the base image; installed only if missing).
need=()
for p in cmake ninja-build patch dpkg-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  say "installing ${need[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}"
fi

rm -rf "$PREFIX" "$WORK"
mkdir -p "$WORK"
trap 'rm -rf "$WORK"' EXIT
SRC=$WORK/src

if [ -n "${UNICORN_SRC:-}" ]; then
  if [ -d "$UNICORN_SRC" ]; then
    say "source: directory $UNICORN_SRC"
    cp -a "$UNICORN_SRC" "$SRC"
  else
    say "source: tarball $UNICORN_SRC"
    got=$(sha256sum "$UNICORN_SRC" | cut -d' ' -f1)
    if [ "$got" != "$ORIG_SHA256" ]; then   # upstream's 2.0.1.post1 tarball is byte-identical to Debian's orig
      say "$UNICORN_SRC is not unicorn $VERSION's release tarball (sha256 $got); give a directory to build other source"
      exit 1
    fi
    mkdir -p "$SRC"
    tar -xf "$UNICORN_SRC" -C "$SRC" --strip-components=1
  fi
else
  # Debian's source package, through apt (needs a deb-src entry for bookworm).
  if ! apt-cache showsrc "$DEB_SOURCE" 2>/dev/null | grep -qx "Version: $DEB_VERSION"; then
    say "adding a deb-src entry for bookworm (/etc/apt/sources.list.d/syscage-deb-src.sources)"
    cat > /etc/apt/sources.list.d/syscage-deb-src.sources <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    apt-get update -q
  fi
  say "source: apt-get source $DEB_SOURCE=$DEB_VERSION"
  if ! (cd "$WORK" && apt-get source --download-only -q "$DEB_SOURCE=$DEB_VERSION"); then
    say "could not download Debian's source package $DEB_SOURCE $DEB_VERSION; the addon keeps the system libunicorn"
    exit 1
  fi
  got=$(sha256sum "$WORK/${DEB_SOURCE}_${VERSION}.orig.tar.gz" | cut -d' ' -f1)
  if [ "$got" != "$ORIG_SHA256" ]; then
    say "unexpected orig tarball (sha256 $got)"
    exit 1
  fi
  # Unpacks the orig tarball and applies Debian's own patches (apt has checked the hashes).
  (cd "$WORK" && dpkg-source --no-check -x "${DEB_SOURCE}_${DEB_VERSION}.dsc" src >/dev/null)
fi

say "applying $(basename "$PATCH")"
patch -d "$SRC" -p1 --forward --no-backup-if-mismatch < "$PATCH"

start=$(date +%s)
say "building (UNICORN_ARCH=$ARCHS, Release, static) ..."
cmake -S "$SRC" -B "$WORK/build" -G Ninja "${CMAKE_FLAGS[@]}" "-DCMAKE_INSTALL_PREFIX=$WORK/out" > "$WORK/cmake.log" 2>&1 \
  || { tail -30 "$WORK/cmake.log" >&2; exit 1; }
ninja -C "$WORK/build" -j "$(nproc)" > "$WORK/build.log" 2>&1 || { tail -40 "$WORK/build.log" >&2; exit 1; }
ninja -C "$WORK/build" install > /dev/null
echo "$stamp" > "$WORK/out/.stamp"
mv "$WORK/out" "$PREFIX"   # all at once: binding.gyp never sees a half-installed tree
say "done in $(( $(date +%s) - start )) s: vendor/unicorn/lib/libunicorn.a (run 'npm run install' to relink the addon)"
