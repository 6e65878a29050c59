#!/usr/bin/env bash
# The one entry point: ./build.sh [build|test [fast]|package|package-test|pack|demo|bench|check|fmt|setup]   (default: build)
#   test       every tier (what CI runs): unit, fake-backend conformance, hcsd, real QEMU VMs and runc containers
#   test fast  the inner loop, under a minute: schema, engine (fake-backend conformance), client; no root, VM or runc
#   package    dist/hcs_<VERSION>_amd64.deb (docs/packaging.md), checked by lintian
#   package-test  installs that package into a fresh Debian 12 root and runs hcsd, hcsctl and systems there (CI runs it)
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
verb="${1:-build}"; shift || true

log() { printf '==> %s\n' "$*" >&2; }

# Installs what is missing on a fresh Debian 12 machine. Idempotent and quiet when everything is there.
setup() {
  if ! command -v dotnet >/dev/null 2>&1; then
    echo "build.sh: the .NET 10 SDK is required (dotnet not on PATH); install it and re-run" >&2
    exit 1
  fi
  local need=()
  for tool in git python3; do command -v "$tool" >/dev/null 2>&1 || need+=("$tool"); done
  command -v qemu-system-x86_64 >/dev/null 2>&1 || need+=(qemu-system-x86)
  ls /boot/vmlinuz-*-cloud-amd64 >/dev/null 2>&1 || need+=(linux-image-cloud-amd64)
  [ -x /bin/busybox ] && /bin/busybox --list >/dev/null 2>&1 && { ldd /bin/busybox 2>&1 || true; } | grep -q "not a dynamic" || need+=(busybox-static)
  command -v cpio >/dev/null 2>&1 || need+=(cpio)
  [ -f /usr/share/OVMF/OVMF_CODE_4M.fd ] || need+=(ovmf)
  command -v runc >/dev/null 2>&1 || [ -x /usr/sbin/runc ] || need+=(runc)
  # NativeAOT (hcs-shim, static): the C toolchain and static libc.
  command -v gcc >/dev/null 2>&1 || need+=(gcc)
  [ -f /usr/lib/x86_64-linux-gnu/libc.a ] || need+=(libc6-dev)
  [ -f /usr/lib/x86_64-linux-gnu/libz.a ] || need+=(zlib1g-dev)
  # hcsd, hcsctl and libcomputecore link the system's SQLite (libsqlite3.so.0 at run time: Debian's libsqlite3-0).
  [ -f /usr/lib/x86_64-linux-gnu/libsqlite3.so ] || need+=(libsqlite3-dev)
  if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]}"
    if [ "$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"; else sudo apt-get install -y "${need[@]}"; fi
  fi
  guest/build.sh artifacts/guest
  log "restoring NuGet packages"
  dotnet restore Hcs.slnx --nologo -v quiet
  shim
}

# Publishes hcs-shim (the per-container monitor and container init: static NativeAOT) into artifacts/shim,
# only when one of its sources is newer than the binary.
shim() {
  local out=artifacts/shim/hcs-shim
  if [ ! -x "$out" ] || [ -n "$(find src/Hcs.Shim src/Hcs.Shim.Protocol VERSION Directory.Build.props Directory.Packages.props -newer "$out" -type f -not -path '*/obj/*' -not -path '*/bin/*' -print -quit)" ]; then
    log "publishing hcs-shim (NativeAOT)"
    dotnet publish src/Hcs.Shim/Hcs.Shim.csproj -c Release -r linux-x64 -o artifacts/shim --nologo -v quiet -clp:ErrorsOnly
    touch "$out"
  fi
}

# Publishes libcomputecore.so (the C API: NativeAOT shared library; its headers are include/) into artifacts/computecore,
# only when a source it is built from is newer than the library.
computecore() {
  local out=artifacts/computecore/libcomputecore.so
  if [ ! -f "$out" ] || [ -n "$(find src include VERSION Directory.Build.props Directory.Packages.props -newer "$out" -type f -not -path '*/obj/*' -not -path '*/bin/*' -print -quit)" ]; then
    log "publishing libcomputecore.so (NativeAOT)"
    dotnet publish src/Hcs.ComputeCore/Hcs.ComputeCore.csproj -c Release -r linux-x64 -o artifacts/computecore --nologo -v quiet -clp:ErrorsOnly
    touch "$out"
  fi
}

# Publishes hcsd and hcsctl as NativeAOT executables into artifacts/bin (what the package ships and the tests run), each
# only when a source it is built from is newer than the binary. Trim and AOT warnings are errors. Run time: ldd lists
# glibc (>= 2.34) and libsqlite3.so.0 only; hcsd also dlopens OpenSSL 3 (.NET's RandomNumberGenerator and SHA256) and
# aborts without it. `test` runs after this, so the tests run these binaries.
native() {
  local project name out
  for project in Hcs.Daemon:hcsd Hcs.Ctl:hcsctl; do
    name=${project#*:}; project=${project%%:*}; out=artifacts/bin/$name
    if [ ! -x "$out" ] || [ -n "$(find src VERSION Directory.Build.props Directory.Packages.props -newer "$out" -type f -not -path '*/obj/*' -not -path '*/bin/*' -print -quit)" ]; then
      log "publishing $name (NativeAOT)"
      dotnet publish "src/$project/$project.csproj" -c Release -r linux-x64 -o artifacts/bin --nologo -v quiet -clp:ErrorsOnly
      touch "$out"
    fi
  done
}

# Packs the NuGet packages Hcs.Client and Hcs.Host (docs/packages.md) into dist/nuget (.nupkg and .snupkg): a build of
# their own under artifacts/pack (-p:HcsPack=true, deterministic, SourceLink), after hcs-shim, Hcs.Host's native asset.
pack() {
  shim
  log "packing the NuGet packages into dist/nuget"
  local project
  for project in Hcs.Client Hcs.Host; do
    dotnet pack "src/$project/$project.csproj" -c Release -p:HcsPack=true -o dist/nuget --nologo -v quiet -clp:ErrorsOnly "$@"
  done
  ls -1 dist/nuget/*."$(tr -d '[:space:]' < VERSION)".*nupkg
}

build() { setup; log "building"; dotnet build Hcs.slnx --no-restore -c Release --nologo -v quiet -clp:ErrorsOnly "$@"; computecore; native; }

# The fast tier: these test assemblies, less the tests marked [Trait("Tier", "Vm")].
fast_tier=(Hcs.Schema.Tests Hcs.Engine.Tests Hcs.Client.Tests)

# Runs the tests; prints how many of the skips were for a missing prerequisite (root, QEMU, runc, ...: Hcs.TestKit's
# Requires) with their reasons grouped, then one closing line "tests: N passed, N failed, N skipped"; the other
# skips are by design (a conformance test a backend cannot do). HCS_TEST_REQUIRE_ALL=1 (.ci/run) makes a missing
# prerequisite fail its test instead.
test_all() {
  local tier=all
  if [ "${1:-}" = fast ]; then tier=fast; shift; fi
  local out prerequisites; out=$(mktemp); prerequisites=$(mktemp)
  local rc=0
  export HCS_TEST_PREREQUISITE_LOG="$prerequisites"
  if [ "$tier" = fast ]; then
    local modules=() p
    for p in "${fast_tier[@]}"; do
      dotnet build "test/$p/$p.csproj" -c Release --nologo -v quiet -clp:ErrorsOnly
      modules+=("test/$p/bin/Release/net10.0/$p.dll")
    done
    log "testing (fast tier: ${fast_tier[*]})"
    local joined; joined=$(IFS=';'; echo "${modules[*]}")
    dotnet test --test-modules "$joined" --root-directory "$PWD" --filter-not-trait "Tier=Vm" "$@" 2>&1 | tee "$out" || rc=$?
  else
    build
    log "testing"
    dotnet test --solution Hcs.slnx --no-build -c Release "$@" 2>&1 | tee "$out" || rc=$?
  fi
  python3 - "$out" "$prerequisites" <<'PY'
import collections, re, sys
# Microsoft.Testing.Platform ends with "Test run summary" and total/failed/succeeded/skipped lines.
counts = {}
for line in open(sys.argv[1], errors="replace"):
    m = re.match(r"\s*(total|failed|succeeded|skipped):\s+(\d+)\s*$", line)
    if m:
        counts[m.group(1)] = int(m.group(2))
missing = collections.Counter(l.strip() for l in open(sys.argv[2], errors="replace") if l.strip())
total = sum(missing.values())
print(f"missing prerequisites: {total} test(s) skipped or failed for one; the other skips are by design")
for reason, n in missing.most_common():
    print(f"  {n:4} {reason}")
print(f"tests: {counts.get('succeeded', 0)} passed, {counts.get('failed', 0)} failed, {counts.get('skipped', 0)} skipped")
PY
  rm -f "$out" "$prerequisites"
  return $rc
}

# Installs the Debian packages named whose command is missing (pairs: command package), as setup does.
install_missing() {
  local need=()
  while [ $# -gt 1 ]; do command -v "$1" >/dev/null 2>&1 || need+=("$2"); shift 2; done
  if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]}"
    if [ "$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"; else sudo apt-get install -y "${need[@]}"; fi
  fi
}

# The Debian package, from the published artefacts, with Debian's tools (contrib/debian/make-deb); lintian's errors fail it.
package() {
  build
  install_missing dpkg-deb dpkg dpkg-shlibdeps dpkg-dev dpkg-gencontrol dpkg-dev lintian lintian
  log "packaging"
  contrib/debian/make-deb
}

# Installs the package into a fresh Debian 12 root (debootstrap, cached in /var/cache/hcs-package-test) and uses it there.
package_test() {
  package
  install_missing debootstrap debootstrap
  log "package test"
  contrib/debian/package-test "$@"
}

demo() {
  build
  log "demo: the seed event-callback sample"
  dotnet run --project samples/EventCallbackSample -c Release --no-build
  demo_seed_cpp
}

# The seed sample's own C++ code, compiled unchanged with g++ against include/ and libcomputecore.so (inside
# samples/c/seed/seed_main.cpp, which starts and terminates the VM and reports what the sample's callback saw), run with
# HCS_SERVICE_MODE=auto: through hcsd when its socket exists, else with the engine inside the program. The seed file is
# Microsoft's text, not in this tree: $HCS_SEED, else shared/seed/event-callback-sample.txt in the nearest directory above.
demo_seed_cpp() {
  local seed="${HCS_SEED:-}" out=artifacts/demo dir
  if [ -z "$seed" ]; then
    seed=../shared/seed/event-callback-sample.txt
    for dir in .. ../.. ../../.. ../../../..; do
      [ -f "$dir/shared/seed/event-callback-sample.txt" ] && { seed="$dir/shared/seed/event-callback-sample.txt"; break; }
    done
  fi
  if [ ! -f "$seed" ]; then
    echo "build.sh demo: the seed sample $seed is missing; set HCS_SEED to a copy of Microsoft's event-callback sample" >&2
    return 1
  fi
  command -v g++ >/dev/null 2>&1 || { echo "build.sh demo: g++ is required (apt-get install g++)" >&2; return 1; }
  log "demo: the seed sample's C++ code, compiled unchanged against libcomputecore.so"
  mkdir -p "$out"
  awk 'found || index($0, "constexpr auto c_EmptyVM = LR\"(") == 1 { found = 1; print }' "$seed" > "$out/event-callback-sample.inc"
  if [ ! -s "$out/event-callback-sample.inc" ]; then
    echo "build.sh demo: $seed has no line starting with 'constexpr auto c_EmptyVM = LR\"('" >&2
    return 1
  fi
  g++ -std=c++17 -Wall -Wextra -Werror -I include -I "$out" -o "$out/seed" samples/c/seed/seed_main.cpp \
    -L artifacts/computecore -Wl,-rpath,"$PWD/artifacts/computecore" -lcomputecore -lpthread
  HCS_SERVICE_MODE=auto "$out/seed"
}

check() {
  build
  log "format check"
  dotnet format Hcs.slnx --verify-no-changes --no-restore -v quiet
}

fmt() { setup; dotnet format Hcs.slnx --no-restore -v quiet; }

bench() {
  build
  if [ -d bench ] && ls bench/*/*.csproj >/dev/null 2>&1; then
    for p in bench/*/*.csproj; do dotnet run --project "$p" -c Release --no-build -- "$@"; done
  else
    echo "bench: no benchmarks yet (the QEMU and runc backends bring them)"
  fi
}

case "$verb" in
  setup) setup ;;
  build) build "$@" ;;
  test) test_all "$@" ;;
  package) package ;;
  package-test) package_test "$@" ;;
  demo) demo "$@" ;;
  check) check ;;
  fmt) fmt ;;
  bench) bench "$@" ;;
  pack) pack "$@" ;;
  -h|--help|help) sed -n 2,6p "$0" ;;
  *) echo "unknown verb '$verb'; try: build, test [fast], package, package-test, pack, demo, bench, check, fmt, setup" >&2; exit 2 ;;
esac
