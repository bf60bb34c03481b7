# Shared helpers for the .ci/install-*.sh scripts (sourced, not run).
#
# The installers must work for a developer without root as well as on CI (root, fresh machine):
#   * as root, a missing Debian package is installed system-wide with apt-get, as before;
#   * without root, the package and the libraries it needs are downloaded with `apt-get download`
#     (no root needed) and unpacked with `dpkg -x` under .ci-work/debroot; small wrappers in
#     .ci-work/bin run the binaries with the unpacked libraries. tests/conftest.py puts
#     .ci-work/bin on PATH, so the tests find them without any setup;
#   * when neither works (no apt-get, no network), the installer prints ONE line saying which
#     tests will be skipped, what is missing and how to get it, and fails; scripts/test.sh goes on
#     (the tests skip with the same reason) unless TOKENTRACE_REQUIRE_BACKENDS=1 (set by .ci/run),
#     where a missing backend is an error: CI always runs every test.

ci_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ci_work="${TOKENTRACE_CI_WORK:-$ci_root/.ci-work}"
ci_bin="$ci_work/bin"
ci_debroot="$ci_work/debroot"
export PATH="$ci_bin:$PATH"

# TOKENTRACE_USER_INSTALL=1: install into .ci-work even as root (containers that should stay clean).
is_root() { [ "$(id -u)" -eq 0 ] && [ "${TOKENTRACE_USER_INSTALL:-}" != "1" ]; }

# skip_line GROUP WHAT HOW: the one line a developer reads when a group of tests cannot run.
skip_line() {
    echo "SKIPPING $1: $2 is missing; $3" >&2
}

# apt_system_install PACKAGE...: root only; installs, then stops any service the package started.
apt_system_install() {
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

# user_deb_install PACKAGE...: unpack Debian packages into $ci_debroot and wrap their binaries.
# Libraries already installed on the system are used from there; the named packages are small
# enough (prometheus ~19 MB, redis ~1.4 MB with its libraries) to always fetch whole.
user_deb_install() {
    command -v apt-get >/dev/null 2>&1 && command -v dpkg >/dev/null 2>&1 || return 1
    local debs="$ci_work/debs"
    mkdir -p "$debs" "$ci_debroot" "$ci_bin"
    if ! (cd "$debs" && apt-get download -q "$@" >/dev/null 2>&1); then
        # A fresh machine may have no package lists, and refreshing the system's needs root:
        # fetch a private copy of the lists instead.
        local apt_state="$ci_work/apt"
        mkdir -p "$apt_state/lists/partial" "$apt_state/cache/archives/partial"
        local -a opts=(-o "Dir::State::Lists=$apt_state/lists" -o "Dir::Cache=$apt_state/cache" -o Debug::NoLocking=1)
        apt-get -q "${opts[@]}" update >/dev/null 2>&1 || return 1
        (cd "$debs" && apt-get download -q "${opts[@]}" "$@" >/dev/null 2>&1) || return 1
    fi
    local package deb
    for package in "$@"; do
        deb="$(ls -t "$debs/${package}"_*.deb 2>/dev/null | head -1)"
        [ -n "$deb" ] || return 1
        dpkg -x "$deb" "$ci_debroot"
    done
    local libs=""
    for dir in "$ci_debroot"/usr/lib/*-linux-gnu "$ci_debroot"/lib/*-linux-gnu "$ci_debroot/usr/lib"; do
        [ -d "$dir" ] && libs="${libs:+$libs:}$dir"
    done
    local program name
    for program in "$ci_debroot"/usr/bin/* "$ci_debroot"/usr/sbin/*; do
        [ -e "$program" ] || continue
        name="$(basename "$program")"
        # exec the unpacked path itself: redis picks its mode from argv[0] (redis-server is a
        # symlink to redis-check-rdb).
        printf '#!/bin/sh\nLD_LIBRARY_PATH="%s${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" exec "%s" "$@"\n' "$libs" "$program" >"$ci_bin/$name"
        chmod +x "$ci_bin/$name"
    done
}

# ensure_deb_binary BINARY GROUP PACKAGE...: make BINARY runnable (system, root install, or user space).
ensure_deb_binary() {
    local binary="$1" group="$2"
    shift 2
    if command -v "$binary" >/dev/null 2>&1; then
        echo "$binary: already installed ($(command -v "$binary"))"
        return 0
    fi
    if is_root; then
        echo "$binary: installing Debian package(s) $* with apt-get"
        apt_system_install "$@"
        # A package may start a system service on hosts with an init system; the tests run their own.
        systemctl disable --now "$binary" >/dev/null 2>&1 || true
    else
        echo "$binary: no root; unpacking Debian package(s) $* into $ci_debroot (apt-get download + dpkg -x)"
        user_deb_install "$@" || true
    fi
    if command -v "$binary" >/dev/null 2>&1; then
        echo "$binary: ready ($(command -v "$binary"))"
        return 0
    fi
    skip_line "$group" "$binary" "install the Debian package '$1' (apt-get install $1), or put $binary on PATH"
    return 1
}

# The main venv's interpreter, which the private venvs are made from (and, with see_main_venv,
# see the packages of): $MAIN_PY, else this checkout's .venv, else the main checkout's, else python3.
main_py="${MAIN_PY:-$ci_root/.venv/bin/python}"
[ -x "$main_py" ] || main_py=/work/main/.venv/bin/python
[ -x "$main_py" ] || main_py="$(command -v python3 || echo python3)"

# see_main_venv VENV: VENV sees the main venv's packages through a .pth file (same SDKs, same
# tokentrace); what VENV installs itself comes first on its path. addsitedir, not a bare path:
# the main venv's own .pth files (the editable install of tokentrace among them) must be
# processed too, or tokentrace's entry point fails to load.
see_main_venv() {
    local main_site venv_site
    main_site="$("$main_py" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" || return 1
    venv_site="$("$1/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" || return 1
    echo "import site; site.addsitedir('$main_site')" >"$venv_site/zz-main-venv.pth"
}

# main_otel_release: the main venv's OpenTelemetry contrib release line (its semconv version),
# which the instrumentation packages a private venv adds must match.
main_otel_release() {
    "$main_py" -c 'from importlib.metadata import version; print(version("opentelemetry-semantic-conventions"))'
}

# private_venv NAME VERSION INSTALL GROUP [CHECK]: make $ci_work/NAME-venv once, idempotently.
#   VERSION  the marker's version: bump it when INSTALL changes, so old venvs are remade;
#   INSTALL  a function run with the fresh venv's path; it must return non-zero on any failure
#            (it runs where `set -e` does not apply: chain its steps with && or `|| return 1`);
#   GROUP    the tests that skip without the venv, for the one SKIPPING line;
#   CHECK    optional Python code the venv must run, made or found (a venv whose main venv moved on).
# A venv is only marked installed when INSTALL succeeded; a half-made one is removed, so the
# next run starts over instead of trusting it.
private_venv() {
    local name="$1" version="$2" install="$3" group="$4" check="${5:-}"
    local venv="$ci_work/$name-venv"
    local marker="$venv/.installed-v$version"
    if [ -f "$marker" ] && { [ -z "$check" ] || "$venv/bin/python" -c "$check" 2>/dev/null; }; then
        echo "$name venv: already installed ($venv)"
        return 0
    fi
    echo "$name venv: installing into $venv"
    mkdir -p "$ci_work"
    rm -rf "$venv"
    if "$main_py" -m venv "$venv" && "$install" "$venv" && { [ -z "$check" ] || "$venv/bin/python" -c "$check"; }; then
        touch "$marker"
        echo "$name venv: ready ($venv)"
        return 0
    fi
    rm -rf "$venv"
    skip_line "$group" "the $name venv" "run .ci/install-$name.sh (needs PyPI and $main_py)"
    return 1
}

# sdk_sdist_tests PACKAGE: the sdist of the installed PACKAGE (the SDKs ship their own tests),
# unpacked once per version into $ci_work/PACKAGE-sdk-tests/VERSION/src, for the tests that run
# an SDK's own test files with tokentrace instrumented. Sets sdk_python, sdk_version and sdk_dir
# (the VERSION directory). Returns 0 when the caller must now install the test-only packages into
# "$sdk_dir/deps" and `touch "$sdk_dir/.done"`; 3 when there is nothing to do (done already for
# this version, or PACKAGE not installed: one line says so); 1 when the download failed.
sdk_sdist_tests() {
    local package="$1"
    sdk_python="${TOKENTRACE_PYTHON:-$ci_root/.venv/bin/python}"
    [ -x "$sdk_python" ] || sdk_python=python3
    sdk_version="$("$sdk_python" -c "import $package; print($package.__version__)" 2>/dev/null || true)"
    if [ -z "$sdk_version" ]; then
        echo "SKIPPING $package SDK tests: $package is not installed for $sdk_python"
        return 3
    fi
    sdk_dir="$ci_work/$package-sdk-tests/$sdk_version"
    [ -f "$sdk_dir/.done" ] && return 3
    rm -rf "$sdk_dir" && mkdir -p "$sdk_dir" || return 1
    if ! "$sdk_python" -m pip download -q --no-binary :all: --no-deps "$package==$sdk_version" -d "$sdk_dir/sdist"; then
        echo "SKIPPING $package SDK tests: the $package $sdk_version sdist could not be downloaded (no network or index?)" >&2
        return 1
    fi
    tar xzf "$sdk_dir/sdist/$package-$sdk_version.tar.gz" -C "$sdk_dir" && mv "$sdk_dir/$package-$sdk_version" "$sdk_dir/src"
}
