#!/usr/bin/env bash
# Coverage-guided fuzzing of one parser with SharpFuzz + AFL++ (docs/fuzzing.md).
#   fuzz/run.sh TARGET MINUTES     TARGET: nifti | npy | score-request | manifest
# Builds fuzz/CtScan.Fuzz, instruments CtScan.Core.dll and CtScan.Pipeline.dll with the sharpfuzz tool, seeds a
# corpus (small files from tests/fixtures, generated seeds, fuzz/seeds/TARGET, the TARGET's crash regressions), runs
# afl-fuzz for MINUTES and prints executions, paths, crashes and hangs. Needs afl++ (apt-get install -y afl++);
# the test suite does not. Output: fuzz/out/TARGET/ (findings/default/crashes holds the crashing inputs).
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: fuzz/run.sh TARGET MINUTES (TARGET: nifti, npy, score-request, manifest)}
minutes=${2:?usage: fuzz/run.sh TARGET MINUTES}
case $target in nifti|npy|score-request|manifest) ;; *) echo "fuzz/run.sh: unknown target '$target'" >&2; exit 2 ;; esac
command -v afl-fuzz >/dev/null || { echo "fuzz/run.sh: afl-fuzz not found; install AFL++ (apt-get install -y afl++)" >&2; exit 1; }
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

work=fuzz/out/$target
bin=$work/bin
rm -rf "$work"
mkdir -p "$work/corpus"

# 1. Build (Release, its own output folder).
dotnet publish fuzz/CtScan.Fuzz/CtScan.Fuzz.csproj -c Release -o "$bin" -nologo -v:q

# 2. Seed the corpus: small fixtures only (AFL++ is fast on inputs of a few KiB), generated seeds, checked-in seeds,
#    and every known crash (so a regression shows at once).
small() { find "$@" -maxdepth 1 -type f -size -70k; }
case $target in
    nifti) small tests/fixtures/nifti-real -name '*.nii*' | xargs -r cp -t "$work/corpus" ;;
    npy) small tests/fixtures/spacing -name '*.npy' | xargs -r cp -t "$work/corpus" ;;
    manifest) for m in tests/fixtures/models/*/manifest.json; do cp "$m" "$work/corpus/$(basename "$(dirname "$m")").json"; done ;;
esac
case $target in nifti|npy) dotnet "$bin/CtScan.Fuzz.dll" "$target" seeds "$work/corpus" ;; esac
[ -d "fuzz/seeds/$target" ] && cp fuzz/seeds/"$target"/* "$work/corpus/"
[ -d "fuzz/regressions/$target" ] && find "fuzz/regressions/$target" -type f ! -name '*.md' -exec cp -t "$work/corpus" {} +
echo "corpus: $(ls "$work/corpus" | wc -l) seed(s) for $target"

# 3. Instrument the parsers' assemblies (after the seeds: instrumented code only runs under SharpFuzz's fork server).
#    The driver itself is not instrumented.
tools=fuzz/out/tools
[ -x "$tools/sharpfuzz" ] || dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path "$tools" >/dev/null
for dll in CtScan.Core.dll CtScan.Pipeline.dll; do "$tools/sharpfuzz" "$bin/$dll"; done

# 4. Fuzz. dotnet itself is not instrumented (AFL_SKIP_BIN_CHECK); the runtime reserves much virtual memory (-m none),
#    so a 1 GiB GC heap limit turns runaway allocation into an OutOfMemoryException, which AFL++ records as a crash.
#    -t 5000: an input that takes over 5 s is a hang.
dict=()
case $target in score-request|manifest) dict=(-x fuzz/dictionaries/json.dict) ;; nifti) dict=(-x fuzz/dictionaries/nifti.dict) ;; npy) dict=(-x fuzz/dictionaries/npy.dict) ;; esac
AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
DOTNET_GCHeapHardLimit=0x40000000 \
    timeout --signal=INT --kill-after=60 "$((minutes * 60 + 30))" \
    afl-fuzz -i "$work/corpus" -o "$work/findings" -t 5000 -m none -V "$((minutes * 60))" "${dict[@]}" \
    -- dotnet "$bin/CtScan.Fuzz.dll" "$target" >"$work/afl.log" 2>&1 || true

# 5. Report.
stats=$work/findings/default/fuzzer_stats
if [ ! -f "$stats" ]; then
    echo "fuzz/run.sh: afl-fuzz did not start; last lines of $work/afl.log:" >&2
    tail -n 30 "$work/afl.log" >&2
    exit 1
fi
field() { awk -F' *: ' -v k="$1" '$1 == k { print $2 }' "$stats"; }
crashes=$(find "$work/findings/default/crashes" -type f -name 'id:*' | wc -l)
hangs=$(find "$work/findings/default/hangs" -type f -name 'id:*' | wc -l)
echo "target $target: $(field execs_done) executions in $(field run_time) s ($(field execs_per_sec) /s), " \
     "$(field corpus_count) corpus entries, $crashes crash(es), $hangs hang(s)"
if [ "$crashes" -gt 0 ] || [ "$hangs" -gt 0 ]; then
    echo "crashing/hanging inputs: $work/findings/default/crashes, $work/findings/default/hangs"
    echo "replay (uninstrumented build): dotnet run --project fuzz/CtScan.Fuzz -- $target replay FILE..."
fi
