// `mmx sample` as a user runs it on a checkpoint that `mmx train` wrote: greedy text is the same
// with and without the KV cache, and bad values or paths get one line and a non-zero exit.
#include <doctest/doctest.h>

#include <fstream>
#include <vector>

#include "engine/random.hpp"
#include "mmx_cli.hpp"
#include "scratch_dir.hpp"

TEST_CASE("mmx sample: cached and uncached greedy text agree; bad input is refused") {
  ScratchDir dir("sample-cli");
  {
    std::ofstream out(dir / "corpus.txt");
    mmx::Generator gen(4);
    const char* words[] = {"red ", "green ", "blue\n", "cyan, "};
    for (int i = 0; i < 3000; ++i) out << words[gen.below(4)];
  }
  const std::string ckpt = (dir / "run").string();
  REQUIRE(run_mmx("train --data " + (dir / "corpus.txt").string() + " --out " + ckpt +
                  " --d-model 16 --layers 1 --heads 2 --seq 32 --batch 4 --steps 20 --warmup 1"
                  " --eval-interval 20 --eval-batch 4 --threads 1")
              .exit_code == 0);

  // 20 new characters fit the 32-character context, so both paths see the same history.
  const std::string common = "sample --ckpt " + ckpt + " --prompt 'red ' --tokens 20";
  const CliResult cached = run_mmx(common + " --temperature 0", /*with_stderr=*/false);
  const CliResult uncached = run_mmx(common + " --temperature 0 --no-cache", /*with_stderr=*/false);
  REQUIRE(cached.exit_code == 0);
  CHECK(cached.output.rfind("red ", 0) == 0);
  CHECK(cached.output.size() >= 4 + 20);
  CHECK(cached.output == uncached.output);
  CHECK(run_mmx(common + " --seed 1 --temperature 1 --top-k 3").exit_code == 0);

  struct Case {
    std::string arguments;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"sample --ckpt " + ckpt + " --temperature -1", "temperature"},
      {"sample --ckpt " + ckpt + " --tokens 0", "tokens"},
      {"sample --ckpt " + ckpt + " --top-k -2", "--top-k"},
      {"sample --ckpt " + ckpt + " --prompt 'Z'", "U+005A"},
      {"sample --ckpt " + (dir / "missing").string(), "missing"},
      {"sample --ckpt " + dir.path.string(), "checkpoint"},
      {"sample", "--ckpt"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.arguments);
    const CliResult r = run_mmx(c.arguments);
    CHECK(r.exit_code != 0);
    CHECK(r.output.find(c.expected) != std::string::npos);
  }
}
