#!/usr/bin/env bash
# Sets up Wine for `make test-windows`: installs wine64 and the mingw compiler if missing, makes a
# Wine prefix, builds and installs the ProcessPrng stub DLL, and puts go_windows_amd64_exec (which
# `go test` runs Windows test binaries with) in $AIOLOOP_WINE/bin. Idempotent; prints the
# directories to put on PATH. Wine is not Windows: see ../../README.md, "Platforms".
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="${AIOLOOP_WINE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/aioloop-wine}"
prefix="$root/prefix"

if ! [ -x /usr/lib/wine/wine64 ] || ! command -v x86_64-w64-mingw32-gcc >/dev/null; then
	if [ "$(id -u)" != 0 ]; then
		echo "setup.sh: wine64 and gcc-mingw-w64-x86-64-win32 are needed (apt-get, as root)" >&2
		exit 1
	fi
	apt-get update -q >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		wine64 gcc-mingw-w64-x86-64-win32 >&2
fi

mkdir -p "$root/bin"
export WINEPREFIX="$prefix" WINEDEBUG=-all
if ! [ -d "$prefix/drive_c/windows/system32" ]; then
	# No display: wineboot only makes the prefix. Its wineserver is left to exit by itself, with
	# its stdio on /dev/null so that nobody's pipe is held open.
	/usr/lib/wine/wine64 wineboot --init </dev/null >/dev/null 2>&1
	/usr/lib/wine/wineserver -w </dev/null >/dev/null 2>&1 || true
fi
dll="$prefix/drive_c/windows/system32/bcryptprimitives.dll"
if ! [ -f "$dll" ] || [ "$here/processprng.c" -nt "$dll" ]; then
	x86_64-w64-mingw32-gcc -O2 -shared -o "$root/bcryptprimitives.dll" "$here/processprng.c" -ladvapi32
	cp "$root/bcryptprimitives.dll" "$dll"
fi
install -m 0755 "$here/go_windows_amd64_exec" "$root/bin/go_windows_amd64_exec"
echo "$root/bin"
