#!/usr/bin/env bash
# Builds the Debian package with CPack and checks it: the installed paths, Depends, the conffile,
# that the extracted binary runs, and that the default config's templates are in the package and
# render (dry run, offline, with the shipped example values).
# Usage: package_test.sh BINARY_DIR SOURCE_DIR VERSION      Exit 77 (skipped) without dpkg-deb.
set -euo pipefail
bin=$1 src=$2 version=$3
command -v dpkg-deb >/dev/null || { echo "dpkg-deb not found: skipped"; exit 77; }

out="$bin/package-test"
rm -rf "$out"
mkdir -p "$out"
cpack -G DEB --config "$bin/CPackConfig.cmake" -B "$out" >"$out/cpack.log" 2>&1 \
  || { cat "$out/cpack.log"; echo "cpack failed"; exit 1; }
debs=("$out"/templet_*.deb)
[[ ${#debs[@]} -eq 1 && -f ${debs[0]} ]] || { echo "expected one templet_*.deb in $out"; exit 1; }
deb=${debs[0]}
echo "built $deb"

fail=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fail=1; else echo "ok: $1"; fi; }

listing=$(dpkg-deb -c "$deb" | awk '{print $NF}')
for path in ./usr/bin/templet \
            ./lib/systemd/system/templet.service \
            ./lib/systemd/system/templet-boot.service \
            ./etc/templet/templet.yaml \
            ./usr/share/templet/templates/redash/datasources.yaml.tmpl \
            ./usr/share/templet/templates/influxdb/k8s-app-tasks.flux.tmpl \
            ./usr/share/templet/templates/influxdb/alerting.flux.tmpl \
            ./usr/share/templet/templates/influxdb/taskmaker.flux.tmpl \
            ./usr/share/doc/templet/examples/templet.yaml \
            ./usr/share/doc/templet/examples/values.yaml \
            ./usr/share/man/man1/templet.1.gz; do
  check "contains $path" 'grep -qxF "$path" <<<"$listing"'
done

depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
check "Depends is not empty" '[[ -n "$depends" ]]'
check "Depends names libyaml-cpp" '[[ "$depends" == *libyaml-cpp* ]]'
check "Depends names libcurl4 (loaded with dlopen, invisible to dpkg-shlibdeps)" \
  '[[ "$depends" == *libcurl4* ]]'
check "Version is $version" '[[ "$(dpkg-deb -f "$deb" Version)" == "$version" ]]'
conffiles=$(dpkg-deb -I "$deb" conffiles 2>/dev/null || true)
check "conffiles holds /etc/templet/templet.yaml" 'grep -qxF /etc/templet/templet.yaml <<<"$conffiles"'

root="$out/root"
dpkg -x "$deb" "$root"
check "templet version runs and prints $version" \
  '[[ "$("$root/usr/bin/templet" version)" == "templet $version" ]]'
check "the man page is gzip" 'gzip -t "$root/usr/share/man/man1/templet.1.gz"'

# The default config names the shipped templates by absolute path; each must be in the package,
# and the whole config must render from the example values (offline, dry run: nothing written).
sources=$(sed -n 's/^ *- source: *//p' "$root/etc/templet/templet.yaml")
check "the default config names templates" '[[ -n "$sources" ]]'
for s in $sources; do
  check "default config's $s is absolute and in the package" '[[ $s == /* && -f "$root$s" ]]'
done
sed "s#/usr/share/templet/#$root/usr/share/templet/#" "$root/etc/templet/templet.yaml" \
  >"$out/templet.yaml"
check "the default config renders (run --once --dry-run)" \
  '"$root/usr/bin/templet" run --once --dry-run --timeout 10s -c "$out/templet.yaml" \
     --values "$root/usr/share/doc/templet/examples/values.yaml" >"$out/dry-run.log" 2>&1 \
   || { cat "$out/dry-run.log"; false; }'

exit $fail
