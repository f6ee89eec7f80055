#!/bin/sh
# Builds the packet decoder's libFuzzer targets with ASan and UBSan and runs them for a bounded
# time (FUZZ_SECONDS, default 60: four fifths for the fast target, the rest for the one that
# crosses the 0xFFFFFF continuation boundary). Exits non-zero on a crash or a failed check.
set -eu
cd "$(dirname "$0")"
if ! command -v clang++ >/dev/null; then
  echo "npm run fuzz needs clang++ with libFuzzer (Debian: apt-get install clang libclang-rt-14-dev)" >&2
  exit 1
fi
seconds=${FUZZ_SECONDS:-60}
mkdir -p out/corpus out/corpus-continued
build() {
  clang++ -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -Wall -Wextra "$@" ../packet.cc packet_fuzz.cc
}
build -o out/packet_fuzz
build -DPACKET_FUZZ_CONTINUED -o out/packet_fuzz_continued
run() {
  "$@" -max_len=4096 -rss_limit_mb=1024 -print_final_stats=1
}
run out/packet_fuzz -max_total_time=$((seconds * 4 / 5)) out/corpus seeds
run out/packet_fuzz_continued -max_total_time=$((seconds - seconds * 4 / 5)) out/corpus-continued seeds
