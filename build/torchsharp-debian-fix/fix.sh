#!/usr/bin/env bash
# fix.sh OUTPUT_DIR WORK_DIR
# Makes the libLibTorchSharp.so copied into OUTPUT_DIR load on distributions whose libstdc++ predates GCC 13
# (Debian 12: GLIBCXX_3.4.30). TorchSharp 0.107 needs GLIBCXX_3.4.32 for one symbol only,
# std::ios_base_library_init(); this supplies it from a tiny shim library and stops the loader from demanding
# the version. Only the copy is edited (never the NuGet cache); a no-op where libstdc++ is new enough.
# Idempotent: a patched copy is recognised and left alone.
set -euo pipefail

output_dir=$1
work_dir=$2
here=$(cd "$(dirname "$0")" && pwd)
library="$output_dir/libLibTorchSharp.so"
shim_name=libctscan-glibcxx-shim.so
missing_version=GLIBCXX_3.4.32
missing_symbol=_ZSt21ios_base_library_initv

[[ -f $library ]] || exit 0
[[ $(uname -s) == Linux ]] || exit 0

system_libstdcxx=$( (ldconfig -p 2>/dev/null || /sbin/ldconfig -p) | awk '/libstdc\+\+\.so\.6 .*x86-64/ { print $NF; exit }')
if [[ -z $system_libstdcxx ]]; then
    echo "torchsharp-debian-fix: no x86-64 libstdc++.so.6 found by ldconfig; leaving $library as it is" >&2
    exit 0
fi
if grep -qa "$missing_version" "$system_libstdcxx"; then
    exit 0  # a newer distribution: the library loads as shipped
fi

if grep -qa "$shim_name" "$library" && [[ -f $output_dir/$shim_name ]]; then
    exit 0  # already patched
fi

for tool in g++ gcc patchelf; do
    if ! command -v "$tool" >/dev/null; then
        echo "torchsharp-debian-fix: error: '$tool' is needed to make TorchSharp load with $system_libstdcxx (no $missing_version); install it: apt-get install -y g++ patchelf" >&2
        exit 1
    fi
done

mkdir -p "$work_dir"
shim="$work_dir/$shim_name"
weaken="$work_dir/weaken-verneed"
if [[ ! -f $shim || $here/glibcxx-shim.cpp -nt $shim ]]; then
    g++ -shared -fPIC -O2 -o "$shim" "$here/glibcxx-shim.cpp"
fi
if [[ ! -f $weaken || $here/weaken-verneed.c -nt $weaken ]]; then
    gcc -O2 -Wall -Wextra -Werror -o "$weaken" "$here/weaken-verneed.c"
fi

# Patch a private copy, then rename over the output file: a hard-linked copy never writes through to the cache.
patched=$(mktemp "$output_dir/.libLibTorchSharp.so.XXXXXX")
trap 'rm -f "$patched"' EXIT
cp "$library" "$patched"
patchelf --clear-symbol-version "$missing_symbol" --add-needed "$shim_name" "$patched"
"$weaken" "$patched" "$missing_version"
chmod --reference="$library" "$patched"
cp "$shim" "$output_dir/$shim_name"
mv -f "$patched" "$library"
trap - EXIT
echo "torchsharp-debian-fix: patched $library for $system_libstdcxx (added $shim_name, $missing_version weak)"
