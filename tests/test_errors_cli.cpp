// Every `mmx` subcommand given bad input: unknown flags, missing values, out-of-range or
// non-numeric numbers, missing files, unreadable files, a directory where a file is expected
// and a file where a directory is. Each row must exit non-zero with one error line on stderr
// (CLI11 may add "Run with --help for more information.") that names the problem.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "mmx_cli.hpp"
#include "nn/tasks/lm/lm_trainer.hpp"
#include "scratch_dir.hpp"

namespace fs = std::filesystem;

namespace {

std::vector<std::string> non_empty_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

// The files the rows point at: a corpus, a checkpoint, and things that are not what a flag
// expects.
struct Fixtures {
  ScratchDir dir{"cli-errors"};
  fs::path corpus = dir / "corpus.txt";
  fs::path checkpoint = dir / "ckpt";
  fs::path missing = dir / "missing.txt";
  fs::path empty_dir = dir / "empty-dir";
  fs::path binary = dir / "binary.bin";
  fs::path dangling = dir / "dangling-link";
  fs::path not_checkpoint = dir / "not-a-checkpoint";
  fs::path broken_checkpoint = dir / "broken-ckpt";

  Fixtures() {
    {
      std::ofstream out(corpus);
      for (int i = 0; i < 300; ++i) out << "some words to learn from\n";
    }
    fs::create_directory(empty_dir);
    std::ofstream(binary, std::ios::binary) << std::string("PK\x03\x04\0\0binary", 12);
    fs::create_symlink(dir / "nowhere", dangling);
    fs::create_directory(not_checkpoint);
    std::ofstream(not_checkpoint / "notes.txt") << "hello\n";

    mmx::nn::TrainOptions options;
    options.model.d_model = 8;
    options.model.layers = 1;
    options.model.heads = 2;
    options.model.seq_len = 8;
    options.batch = 2;
    options.steps = 2;
    options.warmup = 0;
    options.eval_batch = 2;
    options.data = corpus.string();
    mmx::nn::LMTrainer trainer(options);
    trainer.train_step();
    trainer.save(checkpoint);
    fs::copy(checkpoint, broken_checkpoint);
    fs::resize_file(broken_checkpoint / "model.safetensors", 100);
  }
  std::string ckpt() const { return checkpoint.string(); }
};

struct Case {
  std::string arguments;
  std::string expected;  // words the error must contain
};

}  // namespace

TEST_CASE("every subcommand refuses bad input with one clear line and a non-zero exit") {
  const Fixtures f;
  const std::string corpus = " --data " + f.corpus.string();
  const std::vector<Case> cases = {
      // The program itself.
      {"", "subcommand"},
      // CLI11 answers these with "A subcommand is required" (it does not name the word).
      {"frobnicate", "unknown command 'frobnicate'; the commands are "},
      {"--bogus", "subcommand"},
      // train: flags.
      {"train --bogus", "--bogus"},
      {"train" + corpus + " --steps", "--steps"},
      {"train" + corpus + " --steps 0", "--steps"},
      {"train" + corpus + " --steps many", "--steps"},
      {"train" + corpus + " --steps 1e99", "--steps"},
      {"train" + corpus + " --d-model 2", "--d-model"},
      {"train" + corpus + " --heads 3 --d-model 16", "heads"},
      {"train" + corpus + " --dropout 1.5", "--dropout"},
      {"train" + corpus + " --lr -1", "--lr"},
      {"train" + corpus + " --lr nan", "--lr"},
      {"train" + corpus + " --multimax-lr-scale 0", "--multimax-lr-scale"},
      {"train" + corpus + " --multimax-lr-scale -10", "--multimax-lr-scale"},
      {"train" + corpus + " --multimax-lr-scale inf", "--multimax-lr-scale"},
      {"train" + corpus + " --threads -1", "--threads"},
      {"train" + corpus + " --attn maxsoft", "maxsoft"},
      {"train" + corpus + " --multimax-order 3", "--multimax-order"},
      {"train" + corpus + " --seq 100000", "--seq"},
      // train: files.
      {"train --data " + f.missing.string(), "does not exist"},
      {"train --data " + f.dangling.string(), "does not exist"},
      {"train --data " + f.empty_dir.string(), "no text files"},
      {"train --data " + f.binary.string(), "not a text file"},
      {"train" + corpus + " --out " + f.corpus.string(), f.corpus.string()},
      {"train --resume " + f.missing.string(), "does not exist"},
      {"train --resume " + f.corpus.string(), "is actually a file"},
      {"train --resume " + f.not_checkpoint.string(), "checkpoint.json"},
      {"train --resume " + f.broken_checkpoint.string(), "model.safetensors"},
      {"train --resume " + f.ckpt() + " --layers 3", "--layers"},
      {"train --resume", "--resume"},
      // sample.
      {"sample --bogus", "--ckpt is required"},
      {"sample --ckpt " + f.ckpt() + " --bogus", "--bogus"},
      {"sample --ckpt", "--ckpt"},
      {"sample --ckpt " + f.missing.string(), "missing.txt"},
      {"sample --ckpt " + f.corpus.string(), "not a directory"},
      {"sample --ckpt " + f.not_checkpoint.string(), "checkpoint.json"},
      {"sample --ckpt " + f.broken_checkpoint.string(), "model.safetensors"},
      {"sample --ckpt " + f.ckpt() + " --tokens 0", "--tokens"},
      {"sample --ckpt " + f.ckpt() + " --tokens lots", "--tokens"},
      {"sample --ckpt " + f.ckpt() + " --temperature -1", "temperature"},
      {"sample --ckpt " + f.ckpt() + " --top-k -2", "top"},
      {"sample --ckpt " + f.ckpt() + " --prompt 'zzz\xC3\xA9'", "not in the"},
      // demo.
      {"demo --bogus", "--bogus"},
      {"demo --steps", "--steps"},
      {"demo --steps 0", "--steps"},
      {"demo --sample-tokens 0", "--sample-tokens"},
      {"demo --data " + f.missing.string(), "does not exist"},
      {"demo --data " + f.empty_dir.string(), "no text files"},
      // explore.
      {"explore --bogus", "--bogus"},
      {"explore --values", "--values"},
      {"explore --values 1,abc", "abc"},
      {"explore --order 3", "--order"},
      {"explore --eps nan", "--eps"},
      {"explore --plot " + f.corpus.string(), f.corpus.string()},
      {"explore --ckpt " + f.missing.string(), "does not exist"},
      {"explore --ckpt " + f.corpus.string(), "--ckpt"},
      {"explore --head 1", "give --ckpt DIR too"},
      {"modulators", "--ckpt"},
      {"modulators --ckpt " + f.empty_dir.string() + " --bogus", "--bogus"},
      {"modulators --ckpt " + f.missing.string(), "does not exist"},
      {"modulators --ckpt " + f.not_checkpoint.string(), "checkpoint.json"},
      {"modulators --ckpt " + f.empty_dir.string() + " --trajectory", "log.jsonl"},
      // bench.
      {"bench nosuchsuite", "nosuchsuite"},
      {"bench --bogus", "--bogus"},
      {"bench normalizers --repeats 0", "--repeats"},
      {"bench normalizers --threads many", "--threads"},
  };
  int tried = 0;
  for (const Case& c : cases) {
    CAPTURE(c.arguments);
    const CliResult r = run_mmx_stderr(c.arguments);
    CAPTURE(r.output);
    CHECK(r.exit_code > 0);
    // The error is the last line (before CLI11's "Run with --help ..." hint) and names the
    // problem; at most one line of progress ("model: ...") comes before it; nothing crashed.
    std::vector<std::string> lines = non_empty_lines(r.output);
    if (!lines.empty() && lines.back().find("--help") != std::string::npos) lines.pop_back();
    REQUIRE(!lines.empty());
    CHECK(lines.back().find(c.expected) != std::string::npos);
    CHECK(lines.size() <= 2);
    for (size_t i = 0; i + 1 < lines.size(); ++i)
      CHECK(lines[i].find("error") == std::string::npos);
    CHECK(r.output.find("terminate called") == std::string::npos);
    ++tried;
  }
  MESSAGE("bad command lines tried: ", tried);
}
