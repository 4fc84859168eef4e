#!/usr/bin/env bash
# Builds a Fluent Bit binary for load/side-by-side.sh on a machine that can only reach the Debian,
# npm, PyPI and Maven registries (no Fluent Bit package or release download is reachable there).
#
#   load/build-fluent-bit.sh [work folder, default /tmp/fluent-bit-build]
#   FLUENTBIT_BIN=/tmp/fluent-bit-build/build/bin/fluent-bit load/side-by-side.sh
#
# The only Fluent Bit source found in those registries is the npm package "fluent-bit" 0.0.3 (a
# Node.js wrapper that vendors the Fluent Bit source tree: v1.8.15, 2022). What differs from an
# upstream build, and why:
#   * its lib/onigmo is empty (not packed), so the regex engine is Debian's Oniguruma 6.9.8
#     (libonig-dev) through a one-line onigmo.h shim; only regex parsers and multiline rules use it,
#     neither is on the tcp -> file path the benchmark measures;
#   * its jemalloc has no generated configure script: autoconf makes it (Debian's autoconf);
#   * every input, filter and output plugin is off except tcp, file, storage_backlog and emitter
#     (the core links against the last two), plus no LuaJIT, Go proxy, examples or shared library.
# Otherwise: FLB_RELEASE (-O2 -g -DNDEBUG; this tree defaults to FLB_DEBUG=On, an unoptimised
# build, so that is turned off explicitly), jemalloc on.
# Needs: cmake, gcc, make, npm, and apt-get for flex, bison, autoconf, libonig-dev.
set -euo pipefail
work="${1:-/tmp/fluent-bit-build}"
mkdir -p "$work"
cd "$work"

missing=()
for p in flex bison autoconf libonig-dev; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [[ ${#missing[@]} -gt 0 ]]; then
  apt-get install -y -q "${missing[@]}" >/dev/null
fi

if [[ ! -d src ]]; then
  npm pack fluent-bit@0.0.3 >/dev/null 2>&1
  tar xzf fluent-bit-0.0.3.tgz
  mv package/src/fluent-bit src
  rm -rf package fluent-bit-0.0.3.tgz
fi
grep -q 'set(FLB_VERSION_MINOR  8)' src/CMakeLists.txt || { echo "unexpected source version" >&2; exit 1; }

# regex engine: Debian's Oniguruma instead of the missing bundled Onigmo
mkdir -p onig-shim
printf '/* the npm tarball has no lib/onigmo: Oniguruma (libonig-dev) instead */\n#include <oniguruma.h>\n' > onig-shim/onigmo.h
libonig="$(dpkg -L libonig-dev | grep '/libonig\.so$' | head -1)"
cat > src/cmake/onigmo.cmake <<EOF
# Replaced by load/build-fluent-bit.sh: Debian's Oniguruma through an onigmo.h shim.
add_library(libonigmo SHARED IMPORTED GLOBAL)
set_target_properties(libonigmo PROPERTIES IMPORTED_LOCATION $libonig)
include_directories("$work/onig-shim/")
EOF
[[ -x src/lib/jemalloc-5.2.1/configure ]] || (cd src/lib/jemalloc-5.2.1 && autoconf)

keep='^FLB_(IN_TCP|OUT_FILE|IN_STORAGE_BACKLOG|IN_EMITTER)$'
plugins_off=()
while read -r opt; do
  [[ "$opt" =~ $keep ]] || plugins_off+=("-D$opt=Off")
done < <(grep -oE '^option\(FLB_(IN|OUT|FILTER|PROCESSOR)_[A-Z0-9_]+' src/CMakeLists.txt | sed 's/option(//')

mkdir -p build
cd build
cmake -DFLB_DEBUG=Off -DFLB_RELEASE=On -DFLB_JEMALLOC=On -DFLB_EXAMPLES=No -DFLB_SHARED_LIB=No \
  -DFLB_LUAJIT=No -DFLB_PROXY_GO=No "${plugins_off[@]}" ../src >cmake.log 2>&1 \
  || { tail -20 cmake.log >&2; exit 1; }
make -j"$(nproc)" fluent-bit-bin >make.log 2>&1 || { grep -E 'error|undefined' make.log | head -20 >&2; exit 1; }
grep -q -- "-O2" src/CMakeFiles/fluent-bit-static.dir/flags.make || { echo "not an optimised build" >&2; exit 1; }
"$work/build/bin/fluent-bit" --version
echo "FLUENTBIT_BIN=$work/build/bin/fluent-bit"
