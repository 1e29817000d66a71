#!/usr/bin/env bash
# Builds hpmanager_<version>_<arch>.deb with dpkg-deb from already built binaries.
#   deploy/debian/build-deb.sh BIN_DIR OUT_DIR
# BIN_DIR holds hpmanagerd, hpmanagerctl, hpsim and generate-manual (swift-argument-parser's man page
# generator). `make deb` passes the release build linked with --static-swift-stdlib. Runtime
# dependencies are read off the binaries (ldd, then the Debian package owning each library), so the
# package depends on exactly what it links; a library no Debian package owns (the Swift runtime of a
# dynamically linked build) is an error unless HPM_DEB_ALLOW_UNPACKAGED=1 (tests on debug builds).
set -euo pipefail
BIN=${1:?usage: build-deb.sh BIN_DIR OUT_DIR}
OUT=${2:?usage: build-deb.sh BIN_DIR OUT_DIR}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VERSION=$(tr -d ' \n' < "$ROOT/VERSION")
ARCH=$(dpkg --print-architecture)
NAME=hpmanager_${VERSION}_${ARCH}
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
P=$STAGE/$NAME

install -d "$P/DEBIAN" "$P/usr/bin" "$P/lib/systemd/system" "$P/etc/hpmanager" "$P/etc/default" \
    "$P/usr/share/man/man1" "$P/usr/share/man/man5" "$P/usr/share/man/man8" \
    "$P/usr/share/doc/hpmanager" "$P/usr/share/bash-completion/completions" \
    "$P/usr/share/zsh/vendor-completions" "$P/usr/share/fish/vendor_completions.d"
# Files are root-owned in the package whoever builds it.
umask 022

for b in hpmanagerd hpmanagerctl hpsim; do
    install -m 0755 "$BIN/$b" "$P/usr/bin/$b"
    strip --strip-unneeded "$P/usr/bin/$b" 2>/dev/null || true
done
install -m 0644 "$ROOT/deploy/hpmanagerd.service" "$P/lib/systemd/system/hpmanagerd.service"
for f in heatpumps.yml collector.yml registers.yml display.yml; do
    install -m 0640 "$ROOT/deploy/debian/etc/$f" "$P/etc/hpmanager/$f"
done
install -m 0640 "$ROOT/deploy/debian/default" "$P/etc/default/hpmanagerd"

# Man pages: generated from ArgumentParser, plus the hand-written config page.
MANTMP=$STAGE/man
mkdir -p "$MANTMP"
"$BIN/generate-manual" "$BIN/hpmanagerd" --section 8 --authors "hpmanager developers" --output-directory "$MANTMP"
"$BIN/generate-manual" "$BIN/hpmanagerctl" --section 1 --authors "hpmanager developers" --output-directory "$MANTMP"
"$BIN/generate-manual" "$BIN/hpsim" --section 1 --authors "hpmanager developers" --output-directory "$MANTMP"
for page in "$MANTMP"/*.[0-9] "$ROOT/man/hpmanager.yml.5"; do
    section=${page##*.}
    gzip -9n < "$page" > "$P/usr/share/man/man$section/$(basename "$page").gz"
done

# Shell completions, from ArgumentParser.
for b in hpmanagerctl hpmanagerd hpsim; do
    # Completions are sourced, not run: no #! line.
    "$BIN/$b" --generate-completion-script bash | sed '1{/^#!/d}' > "$P/usr/share/bash-completion/completions/$b"
    "$BIN/$b" --generate-completion-script zsh > "$P/usr/share/zsh/vendor-completions/_$b"
    "$BIN/$b" --generate-completion-script fish > "$P/usr/share/fish/vendor_completions.d/$b.fish"
done

install -m 0644 "$ROOT/README.md" "$P/usr/share/doc/hpmanager/README.md"
install -m 0644 "$ROOT/deploy/debian/copyright" "$P/usr/share/doc/hpmanager/copyright"
install -m 0644 "$ROOT/CHANGELOG.md" "$P/usr/share/doc/hpmanager/CHANGELOG.md"
# A native package's changelog.gz is in Debian's format; the history itself is CHANGELOG.md.
{
    printf 'hpmanager (%s) unstable; urgency=medium\n\n  * Release %s; see /usr/share/doc/hpmanager/CHANGELOG.md.\n\n' "$VERSION" "$VERSION"
    printf ' -- hpmanager developers <hpmanager@example.org>  %s\n' "$(date -R -d "@${SOURCE_DATE_EPOCH:-$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || date +%s)}")"
} | gzip -9n > "$P/usr/share/doc/hpmanager/changelog.gz"
install -d "$P/usr/share/lintian/overrides"
install -m 0644 "$ROOT/deploy/debian/lintian-overrides" "$P/usr/share/lintian/overrides/hpmanager"

# Runtime dependencies: the libraries each binary names itself (DT_NEEDED, not their own
# dependencies), resolved by the dynamic loader, mapped to the Debian package that owns them.
declare -A packages=()
for b in hpmanagerd hpmanagerctl hpsim; do
    resolved=$(ldd "$BIN/$b")
    for needed in $(readelf -d "$BIN/$b" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
        lib=$(awk -v n="$needed" '$1 == n && $2 == "=>" { print $3 }' <<< "$resolved")
        # The dynamic loader has no "=>" line in ldd's output: its path is the first field.
        [ -n "$lib" ] || lib=$(awk -v n="$needed" 'index($1, "/" n) { print $1 }' <<< "$resolved")
        owner=""
        if [ -n "$lib" ]; then
            owner=$(dpkg -S "$lib" 2>/dev/null || dpkg -S "$(readlink -f "$lib")" 2>/dev/null || true)
            owner=${owner%%:*}
        fi
        if [ -z "$owner" ]; then
            if [ "${HPM_DEB_ALLOW_UNPACKAGED:-0}" = 1 ]; then continue; fi
            echo "build-deb: $b needs $needed (${lib:-not found}), which no Debian package provides (build with --static-swift-stdlib)" >&2
            exit 1
        fi
        packages[$owner]=1
    done
done
packages[adduser]=1  # postinst creates the system user
DEPENDS=$(printf '%s\n' "${!packages[@]}" | sed 's/:.*//' | sort -u | paste -sd, | sed 's/,/, /g')

( cd "$P" && find etc -type f | sed 's#^#/#' | sort ) > "$P/DEBIAN/conffiles"
for s in postinst prerm postrm; do install -m 0755 "$ROOT/deploy/debian/$s" "$P/DEBIAN/$s"; done
SIZE=$(du -sk --exclude=DEBIAN "$P" | cut -f1)
sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$ARCH/" -e "s/@SIZE@/$SIZE/" -e "s/@DEPENDS@/$DEPENDS/" \
    "$ROOT/deploy/debian/control.in" > "$P/DEBIAN/control"
( cd "$P" && find usr lib -type f -print0 | sort -z | xargs -0 md5sum ) > "$P/DEBIAN/md5sums"

mkdir -p "$OUT"
dpkg-deb --root-owner-group -Zxz --build "$P" "$OUT/$NAME.deb" >/dev/null
echo "$OUT/$NAME.deb"
